// npm run prebuildify (not "prebuild": npm would run that before every `npm run build`):
// the prebuilt addon shipped in the package, made by prebuildify:
// one Node-API build (any Node with Node-API 8 loads it), stripped, tagged with the libc
// (prebuilds/linux-x64/skiptrail.glibc.node), built to need no libstdc++ newer than GCC 5's
// (binding.gyp: skiptrail_portable). It is built for the running Node's headers
// (installed ones when present, node-headers.mjs) rather than prebuildify's default
// target, the newest Node, whose headers would have to be downloaded.
// Then prints the GLIBC_ and GLIBCXX_ symbol versions the binary needs (objdump).
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withLocalNodedir } from './node-headers.mjs';

const require = createRequire(import.meta.url);
const prebuildify = require('prebuildify');
const root = fileURLToPath(new URL('..', import.meta.url));

Object.assign(process.env, withLocalNodedir(), { GYP_DEFINES: 'skiptrail_portable=1' });
rmSync(path.join(root, 'prebuilds'), { recursive: true, force: true });

await new Promise((resolve, reject) => {
  prebuildify(
    { cwd: root, napi: true, strip: true, tagLibc: true, targets: [process.versions.node], quiet: process.argv.includes('--quiet') },
    (error) => (error ? reject(error) : resolve()),
  );
});

for (const dir of readdirSync(path.join(root, 'prebuilds'))) {
  for (const file of readdirSync(path.join(root, 'prebuilds', dir))) {
    const full = path.join(root, 'prebuilds', dir, file);
    const needs = spawnSync('objdump', ['-T', full], { encoding: 'utf8' });
    const versions = needs.status === 0 ? [...new Set(needs.stdout.match(/GLIBC(XX)?_[\d.]+/g) ?? [])].sort() : ['(objdump not found)'];
    console.log(`prebuilds/${dir}/${file}: ${statSync(full).size} bytes, needs ${versions.join(' ')}`);
  }
}
