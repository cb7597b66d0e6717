// npm run bench:micro — skiptrail's own operations, one at a time, with benchmark.js.
//
//   node bench/micro.mjs [--events N] [--batch N] [--max-time S] [--filter REGEX] [--out DIR]
//
// On the standard workload (bench/workload.mjs, 1,000,000 events by default):
//   record           one event per call, the stream replayed in order (when it wraps
//                    around, every ts moves on by the stream's length, so time keeps going)
//   recordMany       batches of --batch (10,000) events, likewise
//   lastUsers        (page, 30), pages drawn with the workload's own Zipf skew  ┐ on an index
//   userPages        (user, { limit: 30 }), users drawn likewise                 │ preloaded with
//   onlineUsers      (page, 30)                                                  │ the N events
//   onlineCount      (page)                                                      ┘
// and memory: stats().memoryBytes / stats().entries on the preloaded index.
// Prints ops/s, events/s, ±% (relative margin of error at 95%), the targets, and
// machine facts; writes bench/results/micro-<date>.json.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { generateWorkload, eventObjects, createQuerySampler, DEFAULTS, describeWorkload } from './workload.mjs';
import { loadSkiptrail } from './contenders/skiptrail.mjs';
import { benchArgs } from './lib/args.mjs';
import { machineInfo, machineLine, packageVersions, stamp } from './lib/machine.mjs';
import { fmtNum } from './lib/stats.mjs';

const require = createRequire(import.meta.url);
const Benchmark = require('benchmark');
const HERE = path.dirname(fileURLToPath(import.meta.url));

export const TARGETS = {
  record: { unit: 'events/s', min: 1_500_000 },
  recordMany: { unit: 'events/s', min: 3_000_000 },
  lastUsers: { unit: 'queries/s', min: 700_000 },
  userPages: { unit: 'queries/s', min: 700_000 },
  bytesPerEntry: { unit: 'bytes', max: 64 },
};

function parseMicroArgs(argv) {
  const a = benchArgs(argv, {
    events: { type: 'int', default: DEFAULTS.events, min: 1 },
    batch: { type: 'int', default: 10_000, min: 1 },
    'max-time': { type: 'number', default: 5, min: 0 },
    filter: { type: 'string', default: null },
    out: { type: 'string', default: path.join(HERE, 'results') },
  }, { help: import.meta.url });
  if (a.filter !== null) a.filter = new RegExp(a.filter);
  a.out = path.resolve(a.out);
  a.queries = 1 << 16;
  return a;
}

const args = parseMicroArgs(process.argv.slice(2));
const { ActivityIndex, error } = loadSkiptrail();
if (error) {
  console.error(`skiptrail is not available: ${error}`);
  process.exit(1);
}

const machine = machineInfo();
const loadBefore = os.loadavg();
console.log(`skiptrail micro-benchmarks — ${machineLine(machine)}`);
console.log(`cpu: ${machine.cpu}; node ${machine.node}; load average ${loadBefore.map((v) => v.toFixed(2)).join(' ')}`);
if (loadBefore[0] > 0.5 * machine.cores) console.log(`warning: the machine is busy (1-min load ${loadBefore[0].toFixed(2)} on ${machine.cores} cores): figures will be low and noisy`);

const options = { usersPerPage: 30, userWindow: '30m' };
const w = generateWorkload({ events: args.events });
const events = eventObjects(w);
const spanMs = Math.ceil((args.events * 1000) / w.options.eventsPerSecond);
console.log(`workload: ${args.events.toLocaleString('en-US')} events (${w.users.length.toLocaleString('en-US')} users, ${w.pages.length.toLocaleString('en-US')} pages), index options ${JSON.stringify(options)}`);
console.log(`${describeWorkload(w)}\n`);

/** Moves every event's ts on by the stream's length, so a replay continues in time. */
function shiftStream(list) {
  for (let i = 0; i < list.length; i++) list[i].ts += spanMs;
}

// Preloaded index for the query benchmarks.
const loaded = new ActivityIndex(options);
let t0 = performance.now();
for (let i = 0; i < events.length; i += args.batch) loaded.recordMany(events.slice(i, i + args.batch));
const preloadMs = performance.now() - t0;
const loadedStats = loaded.stats();
const sampler = createQuerySampler(w);
const qPages = sampler.pages(args.queries);
const qUsers = sampler.users(args.queries);
const qMask = args.queries - 1;

const results = [];
const suite = new Benchmark.Suite('skiptrail');
const add = (name, fn, extra = {}) => {
  if (args.filter && !args.filter.test(name)) return;
  suite.add(name, fn, { maxTime: args.maxTime, ...extra });
};

// record: one event per call.
{
  const index = new ActivityIndex(options);
  const stream = eventObjects(w);
  let i = 0;
  add('record', () => {
    const e = stream[i];
    index.record(e.user, e.page, e.ts);
    if (++i === stream.length) { i = 0; shiftStream(stream); }
  });
}

// recordMany: batches of args.batch.
{
  const index = new ActivityIndex(options);
  const stream = eventObjects(w);
  const batches = [];
  for (let i = 0; i < stream.length; i += args.batch) batches.push(stream.slice(i, i + args.batch));
  let b = 0;
  add(`recordMany`, () => {
    index.recordMany(batches[b]);
    if (++b === batches.length) { b = 0; shiftStream(stream); }
  });
}

let q = 0;
add('lastUsers(page, 30)', () => { loaded.lastUsers(qPages[q++ & qMask], 30); });
add('userPages(user, { limit: 30 })', () => { loaded.userPages(qUsers[q++ & qMask], { limit: 30 }); });
add('onlineUsers(page, 30)', () => { loaded.onlineUsers(qPages[q++ & qMask], 30); });
add('onlineCount(page)', () => { loaded.onlineCount(qPages[q++ & qMask]); });

const targetFor = (name) => TARGETS[name.split('(')[0]];
const eventsPerOp = (name) => (name === 'record' ? 1 : name === 'recordMany' ? args.batch : 0);

suite
  .on('cycle', (ev) => {
    const b = ev.target;
    if (b.error) {
      console.log(`${b.name}: ERROR ${b.error.message}`);
      results.push({ name: b.name, error: String(b.error) });
      return;
    }
    const perOp = eventsPerOp(b.name);
    const rate = perOp ? b.hz * perOp : b.hz;
    const target = targetFor(b.name);
    const r = {
      name: b.name,
      opsPerSec: b.hz,
      rme: b.stats.rme,
      samples: b.stats.sample.length,
      meanUs: b.stats.mean * 1e6,
      ...(perOp ? { eventsPerOp: perOp, eventsPerSec: rate } : { queriesPerSec: rate }),
      target: target ? `>= ${target.min.toLocaleString('en-US')} ${target.unit}` : null,
      meetsTarget: target ? rate >= target.min : null,
    };
    results.push(r);
    const rateText = perOp ? `${fmtNum(rate)} events/s` : `${fmtNum(rate)} queries/s`;
    const verdict = target ? `  target ${r.target}: ${r.meetsTarget ? 'met' : 'NOT met'}` : '';
    console.log(`${b.name.padEnd(32)} ${fmtNum(b.hz).padStart(12)} ops/s ±${b.stats.rme.toFixed(2)}%  ${rateText.padStart(22)}  (${r.samples} samples)${verdict}`);
  })
  .on('complete', () => {
    const bytesPerEntry = loadedStats.memoryBytes / loadedStats.entries;
    console.log(`\nmemory after ${args.events.toLocaleString('en-US')} events: memoryBytes ${loadedStats.memoryBytes.toLocaleString('en-US')}, ` +
      `entries ${loadedStats.entries.toLocaleString('en-US')} → ${bytesPerEntry.toFixed(1)} bytes per retained entry ` +
      `(target <= ${TARGETS.bytesPerEntry.max}: ${bytesPerEntry <= TARGETS.bytesPerEntry.max ? 'met' : 'NOT met'})`);
    console.log(`stats(): ${JSON.stringify(loadedStats)}`);
    console.log(`preload: ${(preloadMs / 1000).toFixed(2)} s by recordMany(${args.batch}) = ${fmtNum(args.events / (preloadMs / 1000))} events/s (includes JIT warm-up)`);
    console.log('\ntargets: recordMany >= 3,000,000 events/s, record >= 1,500,000 events/s, lastUsers(page,30) and userPages(user,{limit:30}) >= 700,000 queries/s, memoryBytes <= 64 bytes per retained entry');
    const report = {
      date: new Date().toISOString(),
      command: `node bench/micro.mjs ${process.argv.slice(2).join(' ')}`.trim(),
      machine, versions: packageVersions(), loadAverage: { before: loadBefore, after: os.loadavg() },
      settings: { events: args.events, batch: args.batch, maxTimeSec: args.maxTime, indexOptions: options, workload: w.options },
      targets: TARGETS, results,
      memory: { ...loadedStats, bytesPerEntry, meetsTarget: bytesPerEntry <= TARGETS.bytesPerEntry.max },
      preload: { seconds: preloadMs / 1000, eventsPerSec: args.events / (preloadMs / 1000) },
    };
    fs.mkdirSync(args.out, { recursive: true });
    const file = path.join(args.out, `micro-${stamp()}.json`);
    fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
    console.log(`results: ${path.relative(process.cwd(), file)}`);
    loaded.close();
  })
  .run({ async: false });
