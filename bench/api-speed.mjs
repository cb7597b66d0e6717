// skiptrail against the pure-JavaScript structure (contenders/pure-js.mjs) at the public
// API, in ONE process, alternating, best of --runs: the ratios of issue 13.
//
//   node --expose-gc bench/api-speed.mjs [--events 300000] [--batch 10000] [--resolution ms|s]
//                                        [--runs 3] [--record-events 300000] [--min-ms 300]
//
// Per run and contender, on the standard workload (bench/workload.mjs):
//   recordMany   a fresh index fed events [0, N) in batches of --batch
//   Q1/Q2/Q3 new the distinct sampled keys, each asked once, on that index just after
//                ingest (skiptrail then has built no string for any key yet)
//   Q1/Q2/Q3 warm the same keys again, in a loop for at least --min-ms
//   record       a fresh index fed --record-events events one call at a time
// Queries: lastUsers(page, 30), userPages(user, { limit: 30 }), onlineUsers(page, 30).
// Answers of every query are compared (as "key ts" lines); a difference fails the run.
// Each timed query phase starts with an empty young generation (a minor GC, with
// --expose-gc), for both contenders: a phase of ~5,000 queries lasts a few ms, and
// without it the scavenge of the previous phase's garbage (the ingest's, for the first
// query phase) lands inside it and decides its figure. A phase still pays for the
// collections its own allocation causes, including the answers it keeps.
// Rates are per second of process CPU time (user + system), not wall time: the machine
// is shared. The load average is printed before and after, and each figure is the best
// of the runs (alternation puts both contenders under the same load).

import os from 'node:os';
import { generateWorkload, eventObjects, createQuerySampler, describeWorkload } from './workload.mjs';
import { loadSkiptrail } from './contenders/skiptrail.mjs';
import { create as createPureJs } from './contenders/pure-js.mjs';
import { machineInfo, machineLine } from './lib/machine.mjs';

function parseArgs(argv) {
  const a = { events: 300_000, batch: 10_000, resolution: 'ms', runs: 3, recordEvents: 300_000, minMs: 300, queries: 20_000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    const num = () => {
      const v = Number(val().replace(/_/g, ''));
      if (!Number.isInteger(v) || v < 1) throw new Error(`${arg} needs an integer >= 1`);
      return v;
    };
    switch (arg) {
      case '--events': a.events = num(); break;
      case '--batch': a.batch = num(); break;
      case '--resolution': a.resolution = val(); break;
      case '--runs': a.runs = num(); break;
      case '--record-events': a.recordEvents = num(); break;
      case '--min-ms': a.minMs = num(); break;
      case '--queries': a.queries = num(); break;
      default: throw new Error(`unknown argument ${arg}`);
    }
  }
  if (a.resolution !== 'ms' && a.resolution !== 's') throw new Error('--resolution must be ms or s');
  return a;
}

const args = parseArgs(process.argv.slice(2));
const { ActivityIndex, error } = loadSkiptrail();
if (error) throw new Error(error);
const gc = () => { if (globalThis.gc) { globalThis.gc(); globalThis.gc(); } };
const gcYoung = () => { if (globalThis.gc) globalThis.gc({ type: 'minor' }); };
// Process CPU time in ms: the machine is shared, and a busy neighbour stretches wall
// time far more than the CPU time this process needs.
const now = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

const w = generateWorkload({ events: Math.max(args.events, args.recordEvents), resolution: args.resolution });
// The event objects are made afresh for each phase that needs them (untimed) and
// dropped after it, so the heap a contender's queries run beside is its own (plus the
// workload's keys), not two copies of every event that a collection would walk.
const makeBatches = () => {
  const batches = [];
  for (let i = 0; i < args.events; i += args.batch) batches.push(eventObjects(w, i, Math.min(args.events, i + args.batch)));
  return batches;
};
const sampler = createQuerySampler(w);
const distinct = (list) => [...new Set(list)];
const pageKeys = distinct(sampler.pages(args.queries));
const userKeys = distinct(sampler.users(args.queries));
const options = { usersPerPage: 30, pagesPerUser: 1000, userWindowMs: 30 * 60_000, presenceWindowMs: 30 * 60_000 };

const contenders = {
  skiptrail: () => {
    const index = new ActivityIndex({ usersPerPage: 30, pagesPerUser: 1000, userWindow: '30m', presenceWindow: '30m' });
    return {
      recordMany: (batch) => index.recordMany(batch),
      record: (e) => index.record(e.user, e.page, e.ts),
      lastUsers: (page) => index.lastUsers(page, 30),
      userPages: (user) => index.userPages(user, { limit: 30 }),
      onlineUsers: (page) => index.onlineUsers(page, 30),
      bytesPerEntry: () => index.stats().memoryBytes / index.stats().entries,
      close: () => index.close(),
    };
  },
  purejs: () => {
    const c = createPureJs(options);
    const one = [null];
    return {
      recordMany: (batch) => c.ingest(batch),
      record: (e) => { one[0] = e; c.ingest(one); },
      lastUsers: (page) => c.lastUsers(page, 30),
      userPages: (user) => c.userPages(user, { limit: 30 }),
      onlineUsers: (page) => c.onlineUsers(page, 30),
      bytesPerEntry: () => NaN,
      close: () => c.close(),
    };
  },
};

const canon = (rows, field) => rows.map((r) => `${r[field]} ${r.ts}`).join('\n');
const QUERIES = [
  { name: 'lastUsers', keys: pageKeys, field: 'user' },
  { name: 'userPages', keys: userKeys, field: 'page' },
  { name: 'onlineUsers', keys: pageKeys, field: 'user' },
];

function runOnce(name) {
  const out = {};
  let batches = makeBatches();
  gc();
  let c = contenders[name]();
  let t = now();
  for (const batch of batches) c.recordMany(batch);
  out.recordMany = args.events / ((now() - t) / 1000);
  out.bytesPerEntry = c.bytesPerEntry();
  batches = null;
  gc();
  const answers = {};
  for (const q of QUERIES) {
    const run = c[q.name];
    const list = new Array(q.keys.length);
    gcYoung();
    t = now();
    for (let i = 0; i < q.keys.length; i++) list[i] = run(q.keys[i]);
    out[`${q.name} new`] = q.keys.length / ((now() - t) / 1000);
    answers[q.name] = list.map((rows) => canon(rows, q.field));
  }
  for (const q of QUERIES) {
    const run = c[q.name];
    let count = 0;
    let sink = 0;
    gcYoung();
    t = now();
    let elapsed;
    do {
      for (let i = 0; i < q.keys.length; i++) sink += run(q.keys[i]).length;
      count += q.keys.length;
      elapsed = now() - t;
    } while (elapsed < args.minMs);
    out[`${q.name} warm`] = count / (elapsed / 1000) + sink * 0;
  }
  c.close();
  c = null;
  let recordEvents = eventObjects(w, 0, args.recordEvents);
  gc();
  c = contenders[name]();
  t = now();
  for (const e of recordEvents) c.record(e);
  out.record = args.recordEvents / ((now() - t) / 1000);
  recordEvents = null;
  c.close();
  return { out, answers };
}

const load0 = os.loadavg();
console.log(`api-speed — ${machineLine(machineInfo())}; node ${process.version}; load average ${load0.map((v) => v.toFixed(2)).join(' ')}`);
console.log(`${args.events.toLocaleString('en-US')} events (${args.resolution} times) in batches of ${args.batch.toLocaleString('en-US')}; ` +
  `record() over ${args.recordEvents.toLocaleString('en-US')}; ${pageKeys.length} distinct pages and ${userKeys.length} distinct users queried; best of ${args.runs}, alternating`);
console.log(describeWorkload(w));
const best = { skiptrail: {}, purejs: {} };
let reference = null;
for (let run = 0; run < args.runs; run++) {
  for (const name of Object.keys(contenders)) {
    const { out, answers } = runOnce(name);
    for (const [metric, value] of Object.entries(out)) {
      if (!(best[name][metric] >= value)) best[name][metric] = value;
    }
    if (reference === null) {
      reference = answers;
    } else {
      for (const q of QUERIES) {
        const differing = answers[q.name].findIndex((a, i) => a !== reference[q.name][i]);
        if (differing >= 0) throw new Error(`${name}: ${q.name}(${JSON.stringify(q.keys[differing])}) differs from skiptrail's answer`);
      }
    }
  }
}
const fmt = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');
const rows = Object.keys(best.skiptrail).filter((m) => m !== 'bytesPerEntry');
const width = Math.max(...rows.map((r) => r.length));
console.log(`\n${'per second'.padEnd(width)}  ${'skiptrail'.padStart(11)}  ${'pure JS'.padStart(11)}  ratio`);
for (const m of rows) {
  const s = best.skiptrail[m];
  const p = best.purejs[m];
  console.log(`${m.padEnd(width)}  ${fmt(s).padStart(11)}  ${fmt(p).padStart(11)}  ${(s / p).toFixed(2)}×`);
}
console.log(`skiptrail bytes per entry (memoryBytes / entries): ${best.skiptrail.bytesPerEntry.toFixed(1)}`);
console.log(`answers: equal; load average after ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
