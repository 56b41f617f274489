export * from './deviceKey';
export * from './sshConfigEntries';
export * from './sshPublicKeyOf';
