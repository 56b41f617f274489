import fs from 'node:fs';
import path from 'node:path';
import { tempWorkspace } from './tempWorkspace';

/** A small project with sources, a dependency, a .git directory, a binary and a minified file. */
export function searchWorkspace(): string {
  const root = tempWorkspace({
    'src/index.ts': 'export const answer = 42;\n',
    'src/util/strings.ts':
      'export function shout(s: string) {\n  return s.toUpperCase(); // TODO: locale\n}\n',
    'src/util/strings.test.ts': "import { shout } from './strings';\n// todo: more cases\n",
    'README.md': '# Demo\nTODO write docs\n',
    'node_modules/lib/index.ts': 'TODO inside a dependency\n',
    '.git/config': '[core] TODO\n',
    'min.js': `var a=1;${'x'.repeat(3000)}TODO${'y'.repeat(3000)}\n`,
  });
  fs.writeFileSync(
    path.join(root, 'logo.png'),
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0x54, 0x4f, 0x44, 0x4f]),
  );
  // Distinct modification times, oldest first: index.ts, strings.ts, strings.test.ts.
  const now = Date.now() / 1000;
  fs.utimesSync(path.join(root, 'src/index.ts'), now - 300, now - 300);
  fs.utimesSync(path.join(root, 'src/util/strings.ts'), now - 200, now - 200);
  fs.utimesSync(path.join(root, 'src/util/strings.test.ts'), now - 100, now - 100);
  return root;
}
