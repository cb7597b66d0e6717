// What the heap costs: a Node process holding a 30-minute window of the standard
// workload while it ingests and answers queries — skiptrail against the pure-JS
// structure (contenders/pure-js.mjs), each in its own child process.
//
//   node bench/heap-cost.mjs [--events 10000000] [--batch 1000] [--contenders skiptrail,purejs]
//                            [--out FILE.json]
//
// The child feeds events [0, N) in batches of --batch, one batch per event-loop turn
// (setImmediate), and after each batch asks one Q1, one Q2 and one Q3 query (keys
// drawn with the workload's skew). At 2,000 views per simulated second a 30-minute
// window holds 3.6 M views, so from 3.6 M events on the window slides. Measured:
//   - event-loop delay p50 / p99 / p99.9 / max (perf_hooks.monitorEventLoopDelay,
//     10 ms resolution): how late a timer fires while this work goes on;
//   - garbage collection: total pause time, the longest pause, the count
//     (PerformanceObserver 'gc' entries);
//   - RSS and V8 heap used at the end, and the largest RSS seen (sampled every batch).
// Both contenders build the same event objects per batch (as a parser would), so the
// garbage they share is the same; the difference is what each keeps.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { generateWorkload, eventObjects, createQuerySampler, describeWorkload } from './workload.mjs';
import { benchArgs } from './lib/args.mjs';
import { machineInfo, machineLine } from './lib/machine.mjs';
import { fmtBytes } from './lib/stats.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WINDOW_MS = 30 * 60_000;

function parseHeapArgs(argv) {
  const a = benchArgs(argv, {
    events: { type: 'int', default: 10_000_000, min: 1 },
    batch: { type: 'int', default: 1000, min: 1 },
    contenders: { type: 'list', default: ['skiptrail', 'purejs'] },
    out: { type: 'string', default: null },
    child: { type: 'string', default: null },
  }, { help: import.meta.url });
  if (a.out !== null) a.out = path.resolve(a.out);
  for (const c of a.contenders) if (c !== 'skiptrail' && c !== 'purejs') throw new Error(`unknown contender ${c}`);
  return a;
}

async function createContender(name) {
  const options = { usersPerPage: 30, pagesPerUser: 1000, userWindowMs: WINDOW_MS, presenceWindowMs: WINDOW_MS };
  const mod = await import(name === 'skiptrail' ? './contenders/skiptrail.mjs' : './contenders/pure-js.mjs');
  return mod.create(options);
}

async function child(args) {
  const w = generateWorkload({ events: args.events });
  const sampler = createQuerySampler(w);
  const c = await createContender(args.child);
  const gcPauses = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcPauses.push(entry.duration);
  });
  observer.observe({ entryTypes: ['gc'] });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  let maxRss = 0;
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  await turn();
  delay.enable();
  const t0 = performance.now();
  let answered = 0;
  for (let i = 0; i < args.events; i += args.batch) {
    c.ingest(eventObjects(w, i, Math.min(args.events, i + args.batch)));
    answered += c.lastUsers(sampler.page(), 30).length;
    answered += c.userPages(sampler.user(), { limit: 30 }).length;
    answered += c.onlineUsers(sampler.page(), 30).length;
    if ((i / args.batch) % 64 === 0) maxRss = Math.max(maxRss, process.memoryUsage.rss());
    await turn();
  }
  const seconds = (performance.now() - t0) / 1000;
  delay.disable();
  await new Promise((resolve) => setTimeout(resolve, 50)); // let the last gc entries arrive
  observer.disconnect();
  const memory = process.memoryUsage();
  maxRss = Math.max(maxRss, memory.rss);
  const ms = (ns) => ns / 1e6;
  const stats = typeof c.stats === 'function' ? c.stats() : {};
  const result = {
    contender: args.child,
    events: args.events,
    seconds,
    eventsPerSec: args.events / seconds,
    rowsAnswered: answered,
    entries: stats.entries,
    eventLoopDelayMs: {
      p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), p999: ms(delay.percentile(99.9)), max: ms(delay.max),
    },
    gc: { count: gcPauses.length, totalMs: gcPauses.reduce((s, d) => s + d, 0), maxMs: Math.max(0, ...gcPauses) },
    rssBytes: memory.rss,
    maxRssBytes: maxRss,
    heapUsedBytes: memory.heapUsed,
    externalBytes: memory.external,
    shape: describeWorkload(w),
  };
  c.close();
  process.stdout.write(JSON.stringify(result) + '\n');
}

function runChild(name, args) {
  return new Promise((resolve, reject) => {
    const argv = [fileURLToPath(import.meta.url), '--child', name, '--events', String(args.events), '--batch', String(args.batch)];
    const proc = spawn(process.execPath, ['--max-old-space-size=8192', ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.on('exit', (code, signal) => {
      if (code !== 0) return reject(new Error(`${name} exited with ${code ?? signal}`));
      resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

/** Runs the benchmark (each contender in its own process) and returns the report. */
export async function heapCost(options = {}) {
  const args = { ...parseHeapArgs([]), ...options };
  const loadBefore = os.loadavg();
  const results = [];
  for (const name of args.contenders) results.push(await runChild(name, args));
  return { events: args.events, batch: args.batch, windowMs: WINDOW_MS, loadAverage: { before: loadBefore, after: os.loadavg() }, results };
}

export function printHeapCost(report) {
  const f = (v, d = 1) => v.toFixed(d);
  console.log(`\nWhat the heap costs: ${report.events.toLocaleString('en-US')} events in batches of ${report.batch}, one Q1+Q2+Q3 per batch, ` +
    `30-min window (3.6 M views), one batch per event-loop turn; load average ${report.loadAverage.before.map((v) => v.toFixed(2)).join(' ')}`);
  if (report.results[0]?.shape) console.log(report.results[0].shape);
  const headers = ['contender', 'events/s', 'loop delay p50 ms', 'p99', 'p99.9', 'max', 'GC total ms', 'GC max ms', 'GCs', 'RSS end', 'RSS max', 'heap used'];
  const rows = report.results.map((r) => [
    r.contender, Math.round(r.eventsPerSec).toLocaleString('en-US'), f(r.eventLoopDelayMs.p50), f(r.eventLoopDelayMs.p99),
    f(r.eventLoopDelayMs.p999), f(r.eventLoopDelayMs.max), f(r.gc.totalMs, 0), f(r.gc.maxMs), String(r.gc.count),
    fmtBytes(r.rssBytes), fmtBytes(r.maxRssBytes), fmtBytes(r.heapUsedBytes),
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const args = parseHeapArgs(process.argv.slice(2));
  if (args.child) {
    await child(args);
  } else {
    console.log(`heap-cost — ${machineLine(machineInfo())}`);
    const report = await heapCost(args);
    printHeapCost(report);
    const out = args.out ?? path.join(HERE, 'results', `heap-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: machineInfo(), ...report }, null, 2) + '\n');
    console.log(`results: ${path.relative(process.cwd(), out)}`);
  }
}
