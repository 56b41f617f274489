export * from './deviceKey';
export * from './sshConfigEntries';
