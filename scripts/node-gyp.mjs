// `node-gyp <args>` for the development scripts (build:native, build-asan.sh): the
// project's own node-gyp (a devDependency) or else the one on PATH (npm puts its bundled
// node-gyp there for scripts), compiling against this Node's installed headers when it
// has them (node-headers.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withLocalNodedir } from './node-headers.mjs';

const local = fileURLToPath(new URL('../node_modules/.bin/node-gyp', import.meta.url));
const result = spawnSync(existsSync(local) ? local : 'node-gyp', process.argv.slice(2), {
  stdio: 'inherit',
  env: withLocalNodedir(),
});
if (result.error) throw result.error;
process.exitCode = result.status ?? 1;
