// Runs ONE contender through every phase in this process, and writes timings, memory and
// every answer to a JSON file for bench/run.mjs to compare. Started by run.mjs as
//   node --expose-gc bench/lib/contender-process.mjs <config.json>
//
// Phases (all on the standard workload, the same for every contender):
//   ingest  events [0, events) in batches of `batch`
//   q1      lastUsers(page, k) over sampled pages        ┐ pass 1: each query timed alone,
//   q2      userPages(user, { limit: k }) over sampled users│ answers kept; pass 2: the same
//   q3      onlineUsers(page, k) + onlineCount(page)      ┘ queries in a loop for queries/s
//   mixed   events [events, events + mixedEvents) in batches of 100, one query (Q1, Q2, Q3
//           in turn) after each batch
//   memory  RSS / heap before and after; the contender's own stats()

import fs from 'node:fs';
import { generateWorkload, eventObjects, createQuerySampler, combinedLogChunks } from '../workload.mjs';
import { loadContender } from '../contenders/index.mjs';
import { latencySummary } from './stats.mjs';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const now = () => process.hrtime.bigint();
const gc = () => { if (globalThis.gc) { globalThis.gc(); globalThis.gc(); } };
const mem = () => { const m = process.memoryUsage(); return { rss: m.rss, heapUsed: m.heapUsed, external: m.external }; };

function canonList(list, keyField) {
  let s = '';
  for (let i = 0; i < list.length; i++) s += (i ? '\n' : '') + list[i][keyField] + '\t' + Number(list[i].ts);
  return s;
}

function log(msg) {
  process.stderr.write(`  [${config.contender}] ${msg}\n`);
}

async function main() {
  const result = { contender: config.contender, pid: process.pid, phases: {}, answers: {}, memory: {}, settings: {} };
  const k = config.k;
  const total = config.events + config.mixedEvents;

  // --- workload (identical in every process: seeded) -------------------------------
  let t = performance.now();
  const w = generateWorkload({ events: total, seed: config.seed, resolution: config.resolution ?? 'ms' });
  const ingestBatches = [];
  for (let i = 0; i < config.events; i += config.batch) ingestBatches.push(eventObjects(w, i, Math.min(config.events, i + config.batch)));
  const mixedBatches = [];
  for (let i = config.events; i < total; i += config.mixedBatch) mixedBatches.push(eventObjects(w, i, Math.min(total, i + config.mixedBatch)));
  const sampler = createQuerySampler(w, config.seed + 1);
  const q1Pages = sampler.pages(config.queries.q1);
  const q2Users = sampler.users(config.queries.q2);
  const q3Pages = sampler.pages(config.queries.q3);
  const mixedSampler = createQuerySampler(w, config.seed + 2);
  const mixedKeys = mixedBatches.map((_, i) => (i % 3 === 1 ? mixedSampler.user() : mixedSampler.page()));
  log(`workload ready in ${(performance.now() - t).toFixed(0)} ms (${config.events} + ${config.mixedEvents} events)`);

  // --- contender ---------------------------------------------------------------------
  const { spec, mod } = await loadContender(config.contender);
  gc();
  result.memory.beforeCreate = mem();
  const contenderOptions = {
    variant: spec.variant,
    usersPerPage: config.usersPerPage,
    pagesPerUser: config.pagesPerUser,
    userWindowMs: config.userWindowMs,
    presenceWindowMs: config.presenceWindowMs,
    tmpDir: config.tmpDir,
    server: config.server,
  };
  const c = await mod.create(contenderOptions);
  const sync = c.sync === true;
  if (typeof c.settings === 'function') result.settings = await c.settings();

  // --- ingest ------------------------------------------------------------------------
  const batchLat = new Float64Array(ingestBatches.length);
  let t0 = now();
  if (sync) {
    for (let i = 0; i < ingestBatches.length; i++) {
      const b0 = now();
      c.ingest(ingestBatches[i]);
      batchLat[i] = Number(now() - b0);
    }
  } else {
    for (let i = 0; i < ingestBatches.length; i++) {
      const b0 = now();
      await c.ingest(ingestBatches[i]);
      batchLat[i] = Number(now() - b0);
    }
  }
  if (typeof c.flush === 'function') await c.flush();
  let elapsedNs = Number(now() - t0);
  result.phases.ingest = {
    events: config.events,
    batch: config.batch,
    seconds: elapsedNs / 1e9,
    eventsPerSec: config.events / (elapsedNs / 1e9),
    batchLatency: latencySummary(batchLat),
  };
  log(`ingest: ${Math.round(result.phases.ingest.eventsPerSec).toLocaleString('en-US')} events/s`);
  result.watermark = Number(c.watermark);
  gc();
  result.memory.afterIngest = mem();
  if (typeof c.stats === 'function') result.memory.statsAfterIngest = await c.stats();

  // --- queries -----------------------------------------------------------------------
  // A contender with spec.queryEvery = n (the naive SQL schemas, whose queries are scans)
  // is asked only the sampled queries at indices 0, n, 2n, …; the others stay null in its
  // answers and are not compared.
  const every = spec.queryEvery ?? 1;
  if (every > 1) log(`asks every ${every}th sampled query (and queries after every ${every}th mixed batch): its queries are scans`);
  result.queryEvery = every;

  async function queryPhase(name, keys, run, canon) {
    const asked = keys.filter((_, i) => i % every === 0);
    const lat = new Float64Array(asked.length);
    const answers = new Array(keys.length).fill(null);
    const p0 = now();
    for (let j = 0; j < asked.length; j++) {
      const q0 = now();
      const r = sync ? run(asked[j]) : await run(asked[j]);
      lat[j] = Number(now() - q0);
      answers[j * every] = canon(r);
    }
    const pass1Ns = Number(now() - p0);
    // Pass 2: throughput without per-query timers, repeated until minPhaseMs.
    let count = 0;
    let sink = 0;
    let pass2Ns = 0;
    if (pass1Ns < config.minPhaseMs * 1e6 * 4) {
      const s0 = now();
      do {
        if (sync) {
          for (let i = 0; i < asked.length; i++) sink += run(asked[i]).length;
        } else {
          for (let i = 0; i < asked.length; i++) sink += (await run(asked[i])).length;
        }
        count += asked.length;
        pass2Ns = Number(now() - s0);
      } while (pass2Ns < config.minPhaseMs * 1e6);
    } else {
      count = asked.length;
      pass2Ns = pass1Ns;
    }
    result.phases[name] = {
      queries: asked.length,
      ...latencySummary(lat),
      queriesPerSec: count / (pass2Ns / 1e9),
      throughputQueries: count,
      entriesReturned: sink,
    };
    result.answers[name] = answers;
    log(`${name}: p50 ${result.phases[name].p50Us} µs, p99 ${result.phases[name].p99Us} µs, ${Math.round(result.phases[name].queriesPerSec).toLocaleString('en-US')} q/s`);
  }

  const q1 = (page) => c.lastUsers(page, k);
  const q2 = (user) => c.userPages(user, { limit: k });
  const q3 = (page) => c.onlineUsers(page, k);
  const q3c = (page) => c.onlineCount(page);
  await queryPhase('q1', q1Pages, q1, (r) => canonList(r, 'user'));
  await queryPhase('q2', q2Users, q2, (r) => canonList(r, 'page'));
  await queryPhase('q3', q3Pages, q3, (r) => canonList(r, 'user'));
  // onlineCount returns a number; wrap it so the throughput loop can take .length.
  await queryPhase('q3count', q3Pages, sync ? (p) => [q3c(p)] : async (p) => [await q3c(p)], (r) => String(r[0]));

  // --- mixed -------------------------------------------------------------------------
  if (mixedBatches.length > 0) {
    const qLat = [];
    const answers = new Array(mixedBatches.length).fill(null);
    t0 = now();
    for (let i = 0; i < mixedBatches.length; i++) {
      if (sync) c.ingest(mixedBatches[i]); else await c.ingest(mixedBatches[i]);
      if (i % every !== 0) continue;
      const key = mixedKeys[i];
      const q0 = now();
      let r;
      switch (i % 3) {
        case 0: r = sync ? q1(key) : await q1(key); break;
        case 1: r = sync ? q2(key) : await q2(key); break;
        default: r = sync ? q3(key) : await q3(key); break;
      }
      qLat.push(Number(now() - q0));
      answers[i] = canonList(r, i % 3 === 1 ? 'page' : 'user');
    }
    elapsedNs = Number(now() - t0);
    result.phases.mixed = {
      events: config.mixedEvents,
      queries: qLat.length,
      seconds: elapsedNs / 1e9,
      eventsPerSec: config.mixedEvents / (elapsedNs / 1e9),
      queriesPerSec: qLat.length / (elapsedNs / 1e9),
      queryLatency: latencySummary(Float64Array.from(qLat)),
    };
    result.answers.mixed = answers;
    log(`mixed: ${Math.round(result.phases.mixed.eventsPerSec).toLocaleString('en-US')} events/s with a query every ${config.mixedBatch * every}`);
  }

  // --- memory ------------------------------------------------------------------------
  gc();
  result.memory.end = mem();
  if (typeof c.stats === 'function') result.memory.statsEnd = await c.stats();
  result.memory.rssDeltaBytes = result.memory.afterIngest.rss - result.memory.beforeCreate.rss;
  await c.close();

  // --- log: the same events as combined log lines, parsed by the contender ------------
  if (config.logPhase && spec.log) {
    const probe = await mod.create(contenderOptions);
    if (typeof probe.ingestLog === 'function') await logPhase(probe);
    else await probe.close();
  }
  fs.writeFileSync(config.resultFile, JSON.stringify(result));

  async function logPhase(c2) {
    // The log streams in whole-line chunks of about 1 MiB, as a tailer or a stream would
    // hand them over, each generated just before it is fed (never the whole log in the
    // heap: at 10M events that is 2.2 GB). Only the feeding is timed.
    let accepted = 0;
    let bytes = 0;
    let chunks = 0;
    let ns = 0;
    for (const chunk of combinedLogChunks(w, 0, config.events)) {
      const l0 = now();
      const r = c2.ingestLog(chunk);
      accepted += (typeof r?.then === 'function' ? await r : r)?.accepted ?? 0;
      ns += Number(now() - l0);
      bytes += chunk.length;
      chunks++;
    }
    log(`log: ${(bytes / 2 ** 20).toFixed(0)} MiB of combined log streamed in ${chunks} chunks`);
    result.phases.log = {
      events: config.events, bytes, accepted, seconds: ns / 1e9,
      eventsPerSec: config.events / (ns / 1e9), mibPerSec: bytes / 2 ** 20 / (ns / 1e9),
    };
    // Answers on the log-fed index (ts truncated to whole seconds by the log format).
    result.answers['log-q1'] = q1Pages.map((p) => canonList(c2.lastUsers(p, k), 'user'));
    result.answers['log-q2'] = q2Users.map((u) => canonList(c2.userPages(u, { limit: k }), 'page'));
    log(`log: ${Math.round(result.phases.log.eventsPerSec).toLocaleString('en-US')} events/s, ${result.phases.log.mibPerSec.toFixed(1)} MiB/s, ${accepted} accepted`);
    await c2.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`  [${config.contender}] FAILED: ${err && err.stack ? err.stack : err}\n`);
    try {
      fs.writeFileSync(config.resultFile, JSON.stringify({ contender: config.contender, error: String(err && err.stack ? err.stack : err) }));
    } catch { /* ignore */ }
    process.exit(1);
  },
);
