/**
 * The part of Electron's `safeStorage` the deployment store uses (OS keychain-backed encryption:
 * Keychain on macOS, DPAPI on Windows, libsecret/kwallet on Linux). Injected, so the store is
 * plain TypeScript tested in Node.
 */
export interface SafeStorage {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
}
