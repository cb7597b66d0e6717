#!/usr/bin/env node
// Prints the C++ sources of the named parts of native/core.gypi, one path per line,
// relative to the repository root: the one list that binding.gyp and the scripts
// that compile without node-gyp share.
//
//   node scripts/native-sources.mjs engine parser   # engine_files, then parser_files
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const gypi = path.join(root, 'native', 'core.gypi');
// core.gypi is JSON with whole-line '#' comments (a gyp file may hold Python literals;
// this one keeps to JSON so that it can be read here).
const text = readFileSync(gypi, 'utf8')
  .split('\n')
  .filter((line) => !line.trimStart().startsWith('#'))
  .join('\n');
let variables;
try {
  ({ variables } = JSON.parse(text));
} catch (error) {
  console.error(`native-sources: ${gypi} is not JSON with whole-line comments: ${error.message}`);
  process.exit(2);
}
const parts = process.argv.slice(2);
if (parts.length === 0) {
  console.error(`usage: native-sources.mjs PART... (parts: ${Object.keys(variables).map((k) => k.replace(/_files$/, '')).join(', ')})`);
  process.exit(2);
}
for (const part of parts) {
  const files = variables[`${part}_files`];
  if (!Array.isArray(files)) {
    console.error(`native-sources: no "${part}_files" list in ${gypi}`);
    process.exit(2);
  }
  for (const file of files) console.log(path.posix.join('native', file));
}
