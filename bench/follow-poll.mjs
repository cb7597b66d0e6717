// What one check of a followed file costs when nothing changed: follower.poll() on an
// unchanged 20 KB combined log, read to its end first. A check is an fstat of the open
// file, the truncation checks (a read of its first 1 KiB and of the 64 bytes before the
// read offset) and a stat of the name.
//
//   node bench/follow-poll.mjs [--polls N] [--runs R] [--dist DIR]
//
// Prints process CPU time and wall time per poll, best of R runs, with the machine line
// and the load average. --dist compares another build of dist/ (tsc --outDir DIR; it
// loads the native addon from DIR/../build).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchArgs } from './lib/args.mjs';
import { machineLine } from './lib/machine.mjs';
import { ROOT } from './contenders/skiptrail.mjs';

const args = benchArgs(
  process.argv.slice(2),
  {
    polls: { type: 'int', default: 20_000, min: 1 },
    runs: { type: 'int', default: 5, min: 1 },
    dist: { type: 'string', default: path.join(ROOT, 'dist') },
  },
  { help: import.meta.url },
);

const load = async (file) => import(pathToFileURL(path.join(args.dist, file)).href);
const { ActivityIndex } = await load('index.js');
const { follow } = await load('sources/index.js');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiptrail-follow-poll-'));
const file = path.join(dir, 'access.log');
let text = '';
for (let i = 0; i < 200; i++) {
  text += `10.0.0.${i % 250} - - [17/May/2015:10:05:03 +0000] "GET /p${i} HTTP/1.1" 200 1 "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"\n`;
}
fs.writeFileSync(file, text);
const index = new ActivityIndex({ userWindow: '1d', now: () => Date.UTC(2015, 4, 17, 11) });
const follower = follow(index, file, { from: 'start', pollInterval: 2 ** 31 - 1, persistent: false });

const loadBefore = os.loadavg();
let best = null;
try {
  await follower.poll();
  if (follower.report.lines !== 200) throw new Error(`read ${follower.report.lines} lines of 200`);
  for (let i = 0; i < 1000; i++) await follower.poll(); // warm up
  for (let run = 0; run < args.runs; run++) {
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    for (let i = 0; i < args.polls; i++) await follower.poll();
    const wallUs = Number(process.hrtime.bigint() - start) / 1000 / args.polls;
    const used = process.cpuUsage(cpu);
    const cpuUs = (used.user + used.system) / args.polls;
    if (best === null || cpuUs < best.cpuUs) best = { cpuUs, wallUs };
  }
  if (follower.stats().truncations !== 0 || follower.report.lines !== 200) throw new Error('the unchanged file was read again');
} finally {
  await follower.close();
  index.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log(machineLine());
console.log(`dist: ${args.dist}`);
console.log(`poll() of an unchanged followed file, best of ${args.runs} × ${args.polls}: ${best.cpuUs.toFixed(1)} µs CPU, ${best.wallUs.toFixed(1)} µs wall`);
console.log(`load average before ${loadBefore.map((v) => v.toFixed(2)).join(' ')}, after ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
