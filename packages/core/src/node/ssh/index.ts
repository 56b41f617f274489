export * from './deviceKey';
export * from './keyPair';
export * from './sshConfigEntries';
export * from './sshPublicKeyOf';
export * from './sshWire';
