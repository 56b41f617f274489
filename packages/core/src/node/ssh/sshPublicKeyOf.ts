import ssh2 from 'ssh2';

// ssh2 is CommonJS: Node's ESM loader gives it only a default export.
const { utils } = ssh2;

/** The OpenSSH public key (`ssh-ed25519 AAAA...`) of a private key's text; undefined if it is not one. */
export function sshPublicKeyOf(privateKey: string): string | undefined {
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error || Array.isArray(parsed)) return undefined;
  return `${parsed.type} ${parsed.getPublicSSH().toString('base64')}`;
}
