import { isMap, isScalar, parseDocument } from 'yaml';

export const starterKinds = ['local', 'docker'] as const;
export type StarterKind = (typeof starterKinds)[number];

const header = `# A Warren template. Publish it with "warren templates push DIR", then build workspaces
# from it with "warren create NAME --template <name>". Strings under "provisioner" may use
# {{ parameter_name }}; the manifest's full reference is in warren.schema.json.
`;

/** Used by `warren templates init` when there is no server to copy a built-in template from. */
export const starterManifests: Record<StarterKind, string> = {
  local: `${header}name: starter
displayName: Local directory
description: A directory on the Warren host, with the agent running as the daemon's user.

parameters:
  - name: greeting
    displayName: Greeting
    description: Printed by the startup script.
    type: string
    default: Hello

provisioner:
  type: local
  local:
    workdir: .
    env:
      GREETING: "{{ greeting }}"

agent:
  startupScript: |
    echo "$GREETING from $(hostname)!"
    mkdir -p "$HOME/projects"

schedule:
  defaultTtl: 8h
`,
  docker: `${header}name: starter
displayName: Docker container
description: A container on the Warren host's Docker Engine; the home directory survives stop and start.

parameters:
  - name: image
    displayName: Container image
    description: It needs sh and Node.js 20 or later, to run the agent it downloads from Warren.
    type: string
    default: node:20-bookworm
  - name: memory_mib
    displayName: Memory (MiB)
    type: number
    default: 2048
    validation:
      min: 256
      max: 65536
      integer: true

provisioner:
  type: docker
  docker:
    image: "{{ image }}"
    memoryMiB: "{{ memory_mib }}"

agent:
  startupScript: |
    echo "Hello from $(hostname)!"
    mkdir -p "$HOME/projects"

schedule:
  defaultTtl: 8h
`,
};

/**
 * Sets the manifest's `name`. The written value is replaced in the text, so comments, folding
 * and line numbers stay exactly as the author left them.
 */
export function renameManifest(source: string, name: string): string {
  const doc = parseDocument(source);
  const root = doc.contents;
  const pair = isMap(root) ? root.items.find((p) => isScalar(p.key) && p.key.value === 'name') : undefined;
  const range = isScalar(pair?.value) ? pair.value.range : undefined;
  if (range && range[0] < range[1]) return `${source.slice(0, range[0])}${name}${source.slice(range[1])}`;
  doc.set('name', name);
  return doc.toString();
}
