// Snapshot save and load on the standard workload (bench/workload.mjs).
//
//   node bench/snapshot.mjs [--events N] [--runs R] [--dir DIR]
//
// Feeds N events (recordMany, batches of 10,000), then R times: save() while a timer
// measures the event loop's delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution,
// plus the longest gap between 1 ms ticks), then loadSnapshot(). Checks that the loaded
// index answers as the saved one (stats, and Q1/Q2/Q3 for 2,000 sampled keys each).
// Prints size, save time (image in steps + durable write) and the longest step, load
// time, loop delay; the
// machine line and load average with them.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { generateWorkload, eventBatches, createQuerySampler, describeWorkload } from './workload.mjs';
import { ENTRY } from './contenders/skiptrail.mjs';
import { benchArgs } from './lib/args.mjs';
import { machineLine } from './lib/machine.mjs';

const require = createRequire(import.meta.url);
const { ActivityIndex, loadSnapshot } = require(ENTRY);

const args = benchArgs(process.argv.slice(2), {
  events: { type: 'int', default: 1_000_000, min: 1 },
  runs: { type: 'int', default: 3, min: 1 },
  dir: { type: 'string', default: null },
}, { help: import.meta.url });
const { events, runs } = args;
const dir = args.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'skiptrail-snapshot-bench-'));
const file = path.join(dir, 'index.snap');

const workload = generateWorkload({ events });
console.log(describeWorkload(workload));
// A frozen wall clock at the stream's end: the 'stream' clock does not run on between
// the answers before the save and after the load (the comparison is exact).
const wall = workload.maxTs + 1000;
const now = () => wall;
const index = new ActivityIndex({ now });
let fed = performance.now();
for (const batch of eventBatches(workload, 10_000)) index.recordMany(batch);
fed = performance.now() - fed;
const stats = index.stats();
const inWindow = Math.min(events, 30 * 60 * 2000);
console.log(machineLine());
console.log(`load average: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(
  `${events.toLocaleString('en')} events fed in ${(fed / 1000).toFixed(1)} s; ~${inWindow.toLocaleString('en')} in the 30-minute window; ` +
    `${stats.users} users, ${stats.pages} pages, ${stats.entries} entries, ${(stats.memoryBytes / 2 ** 20).toFixed(0)} MiB engine`,
);

const sampler = createQuerySampler(workload);
const pages = Array.from({ length: 2000 }, () => sampler.page());
const users = Array.from({ length: 2000 }, () => sampler.user());
const answers = (ix) =>
  JSON.stringify([
    { ...ix.stats(), memoryBytes: 0 },
    pages.map((p) => ix.lastUsers(p)),
    users.map((u) => ix.userPages(u)),
    pages.map((p) => ix.onlineUsers(p)),
    ix.onlineCount(),
  ]);
const before = answers(index);

for (let run = 1; run <= runs; run++) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  let last = performance.now();
  let longestGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 1);
  histogram.enable();
  await new Promise((resolve) => setTimeout(resolve, 50));
  last = performance.now();
  longestGap = 0;
  const cpuBefore = process.cpuUsage();
  const saved = await index.save(file);
  const saveCpu = process.cpuUsage(cpuBefore);
  const gapDuringSave = longestGap;
  histogram.disable();
  clearInterval(ticker);
  const loadCpuBefore = process.cpuUsage();
  const loaded = await loadSnapshot(file, { now });
  const loadCpu = process.cpuUsage(loadCpuBefore);
  const same = answers(loaded.index) === before;
  loaded.index.close();
  console.log(
    `run ${run}: size ${(saved.bytes / 2 ** 20).toFixed(1)} MiB; save ${saved.durationMs.toFixed(0)} ms ` +
      `(image ${saved.serializeMs.toFixed(0)} ms in steps, longest step ${saved.longestStepMs.toFixed(1)} ms); loop delay during save: longest gap between 1 ms ticks ` +
      `${gapDuringSave.toFixed(0)} ms, histogram max ${(histogram.max / 1e6).toFixed(0)} ms; load ${loaded.durationMs.toFixed(0)} ms; ` +
      `CPU (all threads) save ${((saveCpu.user + saveCpu.system) / 1000).toFixed(0)} ms, load ${((loadCpu.user + loadCpu.system) / 1000).toFixed(0)} ms; ` +
      `answers ${same ? 'equal' : 'DIFFER'}`,
  );
  if (!same) process.exitCode = 1;
}
fs.rmSync(dir, { recursive: true, force: true });
