// The package's install script. node-gyp-build keeps the prebuilt addon when one in
// prebuilds/ loads on this platform, and otherwise (or with --build-from-source, that is
// npm_config_build_from_source=true) runs `node-gyp rebuild`, which needs python3, make
// and a C++17 compiler. The build uses this Node's installed headers when it has them
// (node-headers.mjs), so that nothing is downloaded. See docs/install.md.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { withLocalNodedir } from './node-headers.mjs';

const require = createRequire(import.meta.url);
const result = spawnSync(process.execPath, [require.resolve('node-gyp-build/bin.js')], {
  stdio: 'inherit',
  env: withLocalNodedir(),
});
if (result.error) throw result.error;
process.exitCode = result.status ?? 1;
