// npm run bench — skiptrail against other ways to answer the same three questions.
//
//   node bench/run.mjs [--events N] [--all] [--contenders a,b,c] [--reference NAME]
//                      [--queries N] [--q3-queries N] [--mixed-events N] [--batch N]
//                      [--seed S] [--resolution ms|s] [--min-phase-ms MS] [--timeout-min MIN] [--out DIR]
//                      [--user-window-ms MS] [--no-log] [--no-svg] [--heap-events N]
//
// Every contender runs in its own child process (bench/lib/contender-process.mjs) on the
// same seeded workload (bench/workload.mjs) and answers the same sampled queries. Every
// answer is compared with the reference contender's (skiptrail when it is built, else the
// pure-JS contender); any difference is printed and the run exits with status 1.
//
// Default contenders: the embedded ones (skiptrail, pure JS, SQLite in memory and WAL,
// both schemas). --all adds PostgreSQL, MariaDB and Redis: each server is started by
// bench/servers/<name>.sh before its contender and stopped right after.
//
// Then "what the heap costs" (bench/heap-cost.mjs): skiptrail and the pure-JS structure
// each holding a 30-minute window of --heap-events events (default 10,000,000; 0 skips
// it) while ingesting and answering queries: event-loop delay, GC pauses, RSS.
//
// Output: tables on stdout; bench/results/run-<date>.json (machine, versions, settings,
// every figure) and bench/results/run-<date>.svg (log-scale bars, one group per phase).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CONTENDERS } from './contenders/index.mjs';
import { available as skiptrailAvailable } from './contenders/skiptrail.mjs';
import { benchArgs } from './lib/args.mjs';
import { machineInfo, machineLine, packageVersions, stamp } from './lib/machine.mjs';
import { processTreeMemory } from './lib/proc-mem.mjs';
import { fmtNum, fmtBytes } from './lib/stats.mjs';
import { barChartSvg } from './lib/svg-chart.mjs';
import { heapCost, printHeapCost } from './heap-cost.mjs';
import { DEFAULTS as WORKLOAD, generateWorkload, workloadShape, describeWorkload } from './workload.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SERVERS = {
  postgres: { script: path.join(HERE, 'servers', 'postgres.sh'), port: Number(process.env.SKIPTRAIL_PG_PORT ?? 54329), user: 'bench', database: 'postgres' },
  mariadb: { script: path.join(HERE, 'servers', 'mariadb.sh'), port: Number(process.env.SKIPTRAIL_MARIADB_PORT ?? 33069), user: 'bench', database: 'bench' },
  redis: { script: path.join(HERE, 'servers', 'redis.sh'), port: Number(process.env.SKIPTRAIL_REDIS_PORT ?? 63799) },
};

function parseRunArgs(argv) {
  const a = benchArgs(argv, {
    events: { type: 'int', default: WORKLOAD.events, min: 1 },
    all: { type: 'boolean' },
    contenders: { type: 'list', default: null },
    reference: { type: 'string', default: null },
    queries: { type: 'int', default: 2000, min: 1 },
    'q3-queries': { type: 'int', default: null, min: 1 },
    'mixed-events': { type: 'int', default: null, min: 0 },
    batch: { type: 'int', default: 1000, min: 1 },
    seed: { type: 'int', default: WORKLOAD.seed, min: 0 },
    resolution: { type: 'string', default: 'ms', choices: ['ms', 's'] },
    'user-window-ms': { type: 'int', default: 30 * 60_000, min: 1 },
    'min-phase-ms': { type: 'number', default: 1000, min: 0 },
    'timeout-min': { type: 'number', default: 60, min: 0 },
    out: { type: 'string', default: path.join(HERE, 'results') },
    'no-svg': { type: 'boolean' },
    'no-log': { type: 'boolean' },
    'heap-events': { type: 'int', default: 10_000_000, min: 0 },
  }, { help: import.meta.url });
  a.out = path.resolve(a.out);
  a.svg = !a.noSvg;
  a.log = !a.noLog;
  if (a.mixedEvents === null) a.mixedEvents = Math.min(100_000, Math.round(a.events / 10));
  if (a.q3Queries === null) a.q3Queries = Math.max(1, Math.round(a.queries / 4));
  return a;
}

function server(name, command) {
  const s = SERVERS[name];
  const r = spawnSync('bash', [s.script, command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${path.basename(s.script)} ${command} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}

function runChild(config, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=8192', path.join(HERE, 'lib', 'contender-process.mjs'), config.configFile], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      let result = null;
      try { result = JSON.parse(fs.readFileSync(config.resultFile, 'utf8')); } catch { /* none */ }
      if (!result) result = { contender: config.contender, error: timedOut ? `timed out after ${timeoutMs / 60000} min` : `exited with ${code ?? signal} and no result` };
      else if (timedOut) result.error = `timed out after ${timeoutMs / 60000} min`;
      resolve(result);
    });
  });
}

// Answers are compared phase by phase, query by query, as canonical strings
// ("key\tts" lines in rank order; a count for q3count).
function compareAnswers(ref, other, queryKeys) {
  const mismatches = [];
  let compared = 0;
  for (const phase of Object.keys(ref.answers ?? {})) {
    const a = ref.answers[phase];
    const b = other.answers?.[phase];
    if (!b) {
      // Only skiptrail and pure JS parse logs; every contender must answer the rest.
      if (!phase.startsWith('log-')) mismatches.push({ phase, missing: true });
      continue;
    }
    for (let i = 0; i < a.length; i++) {
      if (b[i] === null || a[i] === null) continue; // not asked (contender's queryEvery)
      compared++;
      if (a[i] !== b[i]) mismatches.push({ phase, index: i, key: queryKeys?.[phase]?.[i], expected: a[i], actual: b[i] });
    }
  }
  return { compared, mismatches };
}

function printMismatches(name, refName, mismatches) {
  const show = (s) => (s === undefined ? '(none)' : s.split('\n').slice(0, 6).join(' | ') + (s.split('\n').length > 6 ? ' | …' : ''));
  console.error(`\n!!! ${name}: ${mismatches.length} answer(s) differ from ${refName}`);
  const byPhase = {};
  for (const m of mismatches) byPhase[m.phase] = (byPhase[m.phase] ?? 0) + 1;
  console.error(`    by phase: ${JSON.stringify(byPhase)}`);
  for (const m of mismatches.slice(0, 4)) {
    if (m.missing) { console.error(`    ${m.phase}: no answers`); continue; }
    console.error(`    ${m.phase}[${m.index}]${m.key ? ` key=${JSON.stringify(m.key)}` : ''}`);
    console.error(`      ${refName}: ${show(m.expected)}`);
    console.error(`      ${name}: ${show(m.actual)}`);
  }
}

function table(headers, rows, align) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (align[i] === 'l' ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main() {
  const args = parseRunArgs(process.argv.slice(2));
  const machine = machineInfo();
  const versions = packageVersions();
  const skiptrail = skiptrailAvailable();

  let names = args.contenders ?? Object.entries(CONTENDERS).filter(([, s]) => s.group === 'embedded' || (args.all && s.group === 'server')).map(([n]) => n);
  for (const n of names) if (!CONTENDERS[n]) throw new Error(`unknown contender ${n}; known: ${Object.keys(CONTENDERS).join(', ')}`);
  const notes = [];
  if (skiptrail !== true && names.includes('skiptrail')) {
    notes.push(`skiptrail skipped: ${skiptrail}`);
    console.error(`\n*** skiptrail is not available: ${skiptrail}\n*** running without it; answers are checked against the pure-JS contender.\n`);
    names = names.filter((n) => n !== 'skiptrail');
  }
  let reference = args.reference ?? (names.includes('skiptrail') ? 'skiptrail' : names.includes('purejs') ? 'purejs' : names[0]);
  if (!names.includes(reference)) names.unshift(reference);
  names = [reference, ...names.filter((n) => n !== reference)];

  const runId = stamp();
  const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'skiptrail-bench-'));
  fs.mkdirSync(args.out, { recursive: true });
  const settings = {
    events: args.events, mixedEvents: args.mixedEvents, batch: args.batch, mixedBatch: 100,
    queries: { q1: args.queries, q2: args.queries, q3: args.q3Queries }, k: 30, seed: args.seed,
    usersPerPage: 30, pagesPerUser: 1000, userWindowMs: args.userWindowMs, presenceWindowMs: args.userWindowMs,
    minPhaseMs: args.minPhaseMs, resolution: args.resolution, logPhase: args.log,
    workload: { ...WORKLOAD, events: args.events + args.mixedEvents, resolution: args.resolution },
  };

  const loadBefore = os.loadavg();
  console.log(`skiptrail bench — ${machineLine(machine)}; load average ${loadBefore.map((v) => v.toFixed(2)).join(' ')}`);
  if (loadBefore[0] > 0.5 * machine.cores) console.log(`warning: the machine is busy (1-min load ${loadBefore[0].toFixed(2)} on ${machine.cores} cores): figures will be low and noisy`);
  console.log(`workload: ${args.events.toLocaleString('en-US')} events (+${args.mixedEvents.toLocaleString('en-US')} mixed), ` +
    `${WORKLOAD.users.toLocaleString('en-US')} users Zipf(${WORKLOAD.userSkew}), ${WORKLOAD.pages.toLocaleString('en-US')} pages Zipf(${WORKLOAD.pageSkew}), ` +
    `ts resolution ${args.resolution}, userWindow = presenceWindow = ${args.userWindowMs} ms, batch ${args.batch}, seed ${args.seed}; queries Q1/Q2 ${args.queries}, Q3 ${args.q3Queries}, k = 30`);
  // The events every contender generates (same options and seed), measured before any figure is trusted.
  const generated = generateWorkload({ ...settings.workload, seed: args.seed });
  settings.shape = workloadShape(generated);
  console.log(describeWorkload(generated));
  console.log(`contenders: ${names.join(', ')}; reference for answers: ${reference}\n`);

  if (names.some((n) => CONTENDERS[n].server)) {
    const r = spawnSync('bash', [path.join(HERE, 'servers', 'install.sh')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench/servers/install.sh failed:\n${r.stdout}${r.stderr}`);
  }

  // The query keys, for printing mismatches (regenerated here exactly as the children do).
  let queryKeys = null;
  const getQueryKeys = async () => {
    if (queryKeys) return queryKeys;
    const { generateWorkload, createQuerySampler } = await import('./workload.mjs');
    const w = generateWorkload({ events: 0, seed: args.seed });
    const s = createQuerySampler(w, args.seed + 1);
    const q1 = s.pages(args.queries);
    const q2 = s.users(args.queries);
    const q3 = s.pages(args.q3Queries);
    queryKeys = { q1, q2, q3, q3count: q3, 'log-q1': q1, 'log-q2': q2 };
    return queryKeys;
  };

  const results = [];
  let failed = false;
  const running = new Set();
  const stopAll = () => { for (const s of running) { try { server(s, 'stop'); } catch { /* best effort */ } } };
  process.on('SIGINT', () => { stopAll(); process.exit(130); });

  try {
    for (const name of names) {
      const spec = CONTENDERS[name];
      console.log(`── ${name}: ${spec.label}`);
      let serverInfo = null;
      if (spec.server) {
        console.log(`   ${server(spec.server, 'start')}`);
        running.add(spec.server);
        serverInfo = { host: '127.0.0.1', ...SERVERS[spec.server], script: undefined };
      }
      const dir = fs.mkdtempSync(path.join(tmpRoot, `${name}-`));
      const config = {
        ...settings, contender: name, tmpDir: dir, server: serverInfo,
        configFile: path.join(dir, 'config.json'), resultFile: path.join(dir, 'result.json'),
      };
      fs.writeFileSync(config.configFile, JSON.stringify(config));
      const result = await runChild(config, args.timeoutMin * 60_000);
      if (spec.server) {
        const pid = Number(server(spec.server, 'pid'));
        result.memory = result.memory ?? {};
        result.memory.server = processTreeMemory(pid);
        result.serverVersion = server(spec.server, 'status');
        console.log(`   ${server(spec.server, 'stop')}`);
        running.delete(spec.server);
      }
      fs.rmSync(dir, { recursive: true, force: true });
      result.label = spec.label;
      if (result.error) {
        failed = true;
        console.error(`!!! ${name} FAILED: ${result.error.split('\n')[0]}`);
      } else if (name !== reference) {
        const ref = results.find((r) => r.contender === reference);
        if (ref && !ref.error) {
          const { compared, mismatches } = compareAnswers(ref, result, await getQueryKeys());
          result.check = { reference, compared, mismatches: mismatches.length, firstMismatches: mismatches.slice(0, 10) };
          if (mismatches.length) {
            failed = true;
            printMismatches(name, reference, mismatches);
          } else {
            console.log(`   answers: all ${compared} equal to ${reference}'s`);
          }
        }
      }
      results.push(result);
    }
  } finally {
    stopAll();
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  }

  // ── report ──────────────────────────────────────────────────────────────────────────
  const ok = results.filter((r) => !r.error);
  const ph = (r, p, f) => r.phases?.[p]?.[f];
  const throughputRows = ok.map((r) => [
    r.contender,
    fmtNum(ph(r, 'ingest', 'eventsPerSec')),
    fmtNum(ph(r, 'q1', 'queriesPerSec')),
    fmtNum(ph(r, 'q2', 'queriesPerSec')),
    fmtNum(ph(r, 'q3', 'queriesPerSec')),
    fmtNum(ph(r, 'q3count', 'queriesPerSec')),
    fmtNum(ph(r, 'mixed', 'eventsPerSec')),
    fmtNum(ph(r, 'log', 'eventsPerSec')),
    fmtBytes(r.memory?.rssDeltaBytes),
    fmtBytes(r.memory?.server?.rssBytes),
    fmtBytes(r.memory?.server?.pssBytes),
    fmtBytes(r.memory?.statsEnd?.memoryBytes ?? r.memory?.statsEnd?.dbBytes),
    r.contender === reference ? 'reference' : r.check ? (r.check.mismatches ? `${r.check.mismatches} DIFFER` : `${r.check.compared} equal`) : '–',
  ]);
  console.log('\nThroughput (per second) and memory');
  console.log(table(
    ['contender', 'ingest ev/s', 'Q1 q/s', 'Q2 q/s', 'Q3 q/s', 'count q/s', 'mixed ev/s', 'log ev/s', 'RSS Δ ingest', 'server RSS', 'server PSS', 'engine/db bytes', 'answers'],
    throughputRows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']));
  const latencyRows = ok.map((r) => [
    r.contender,
    ...['q1', 'q2', 'q3'].flatMap((p) => [fmtNum(ph(r, p, 'p50Us')), fmtNum(ph(r, p, 'p99Us'))]),
    fmtNum(r.phases?.mixed?.queryLatency?.p50Us), fmtNum(r.phases?.mixed?.queryLatency?.p99Us),
    fmtNum(r.phases?.ingest?.batchLatency?.p50Us), fmtNum(r.phases?.ingest?.batchLatency?.p99Us),
  ]);
  console.log('\nLatency (µs)');
  console.log(table(
    ['contender', 'Q1 p50', 'Q1 p99', 'Q2 p50', 'Q2 p99', 'Q3 p50', 'Q3 p99', 'mixed q p50', 'mixed q p99', `batch(${args.batch}) p50`, 'batch p99'],
    latencyRows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']));
  for (const r of ok) {
    if (r.queryEvery > 1) notes.push(`${r.contender} was asked every ${r.queryEvery}th sampled query (${r.phases.q1?.queries} Q1, ${r.phases.q2?.queries} Q2, ${r.phases.q3?.queries} Q3) and queried after every ${r.queryEvery}th mixed batch: its queries are scans, and all of them would take most of an hour`);
  }
  for (const n of notes) console.log(`note: ${n}`);

  let heap = null;
  if (args.heapEvents > 0 && skiptrail === true) {
    heap = await heapCost({ events: args.heapEvents });
    printHeapCost(heap);
  }

  const stripped = results.map(({ answers, ...rest }) => rest);
  const report = {
    runId, date: new Date().toISOString(), command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    machine, versions, loadAverage: { before: loadBefore, after: os.loadavg() }, settings, reference, notes, failed, results: stripped, heap,
  };
  const jsonPath = path.join(args.out, `run-${runId}.json`);
  fs.writeFileSync(jsonPath, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nresults: ${path.relative(process.cwd(), jsonPath)}`);
  if (args.svg && ok.length) {
    const groups = [
      { key: ['ingest', 'eventsPerSec'], label: 'ingest', unit: 'events' },
      { key: ['q1', 'queriesPerSec'], label: 'Q1 lastUsers', unit: 'queries' },
      { key: ['q2', 'queriesPerSec'], label: 'Q2 userPages', unit: 'queries' },
      { key: ['q3', 'queriesPerSec'], label: 'Q3 onlineUsers', unit: 'queries' },
      { key: ['mixed', 'eventsPerSec'], label: 'mixed (1 query / 100)', unit: 'events' },
      ...(ok.some((r) => r.phases?.log) ? [{ key: ['log', 'eventsPerSec'], label: 'combined log', unit: 'events' }] : []),
    ];
    const svg = barChartSvg({
      title: `skiptrail bench: ${args.events.toLocaleString('en-US')} events, k = 30`,
      subtitle: `${machineLine(machine)}, load ${loadBefore[0].toFixed(1)} at start — ${runId}`,
      groups,
      series: ok.map((r) => ({ name: r.label ?? r.contender, values: groups.map((g) => ph(r, g.key[0], g.key[1]) ?? NaN) })),
    });
    const svgPath = path.join(args.out, `run-${runId}.svg`);
    fs.writeFileSync(svgPath, svg);
    console.log(`chart:   ${path.relative(process.cwd(), svgPath)}`);
  }
  if (failed) {
    console.error('\nBENCH FAILED: a contender failed or gave different answers (see above).');
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
