#!/usr/bin/env node
// Load test of `skiptrail serve` on loopback. A generator process writes combined log
// lines to a followed file (rotating it every --rotate-mb) or sends them by UDP:
//   1. --prefill lines, then a pause: Q1 is measured with no ingestion going on;
//   2. --rate lines per second from then on: ingestion alone for --warmup seconds,
//      then Q1, Q2 and Q3 one after the other with autocannon, each for --seconds.
// Prints requests/s and latency percentiles per endpoint, the ingest rate `serve`
// achieved meanwhile (from its /stats), and the CPU share of each process (from
// /proc), which shows what limited the run. Everything is bounded: each phase runs for
// a fixed time, then the generator and the server are stopped and the temporary
// folder is removed.
//
//   npm run build:ts && node bench/serve-load.mjs [--seconds 10] [--rate 250000]
//       [--connections 32] [--pipelining 1] [--source file|udp] [--users 200000]
//       [--pages 5000] [--prefill 500000] [--json]
//
// Target (issue 6): >= 20,000 Q1 requests/s while ingesting >= 200,000 lines/s.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'cli.js');

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    rate: { type: 'string', default: '250000' },
    connections: { type: 'string', default: '32' },
    pipelining: { type: 'string', default: '1' },
    source: { type: 'string', default: 'file' },
    'rotate-mb': { type: 'string', default: '256' },
    pages: { type: 'string', default: '5000' },
    users: { type: 'string', default: '200000' },
    prefill: { type: 'string', default: '500000' },
    json: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(args.seconds);
const WARMUP = Number(args.warmup);
const RATE = Number(args.rate);
const CONNECTIONS = Number(args.connections);
const PIPELINING = Number(args.pipelining);
const PAGES = Number(args.pages);
const USERS = Number(args.users);
if (!['file', 'udp'].includes(args.source)) throw new Error('--source must be file or udp');
if (!(SECONDS > 0 && SECONDS <= 60)) throw new Error('--seconds must be in (0, 60]: the test is bounded');
if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);

const log = (message) => process.stderr.write(`serve-load: ${message}\n`);
const CLOCK_TICKS = 100; // USER_HZ on Linux

// The generator: its own process, writing `rate` lines per second in 10 ms slices.
// Pages follow a Zipf-like skew (page i has weight 1/(i+1)), users are uniform.
const GENERATOR = String.raw`
const fs = require('node:fs');
const dgram = require('node:dgram');
const [target, mode, rate, pages, users, rotateBytes, prefill] = process.argv.slice(1);
const RATE = Number(rate), PAGES = Number(pages), USERS = Number(users), ROTATE = Number(rotateBytes), PREFILL = Math.max(1, Number(prefill));
const MONTHS = ['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec'];
// Zipf-ish page picker: cumulative weights, binary search. (Building each line from
// numbers measured faster here than joining pre-made strings or Buffers.)
const cumulative = new Float64Array(PAGES); let sum = 0;
for (let i = 0; i < PAGES; i++) { sum += 1 / (i + 1); cumulative[i] = sum; }
function page() { const x = Math.random() * sum; let lo = 0, hi = PAGES - 1;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (cumulative[mid] < x) lo = mid + 1; else hi = mid; } return lo; }
let fd = mode === 'file' ? fs.openSync(target, 'a') : -1;
const socket = mode === 'udp' ? dgram.createSocket('udp4') : null;
const port = mode === 'udp' ? Number(target) : 0;
let written = 0, lines = 0, bytesInFile = 0, rotations = 0;
let clock = Date.UTC(2024, 0, 1) / 1000;
const two = (n) => (n < 10 ? '0' : '') + n;
function stamp(seconds) { const d = new Date(seconds * 1000);
  return two(d.getUTCDate()) + '/' + MONTHS[d.getUTCMonth()] + '/' + d.getUTCFullYear() + ':' + two(d.getUTCHours()) + ':' + two(d.getUTCMinutes()) + ':' + two(d.getUTCSeconds()) + ' +0000'; }
let stampSecond = -1, stampText = '';
function batch(count) {
  let text = '';
  for (let i = 0; i < count; i++) {
    // 10,000 lines per second of log time: the stream clock moves like a busy site's.
    if (lines % 10000 === 0) clock++;
    if (clock !== stampSecond) { stampSecond = clock; stampText = stamp(clock); }
    const u = (Math.random() * USERS) | 0;
    text += '10.' + ((u >> 16) & 255) + '.' + ((u >> 8) & 255) + '.' + (u & 255) + ' - - [' + stampText + '] "GET /p/' + page() +
      ' HTTP/1.1" 200 ' + (1000 + (lines & 4095)) + ' "-" "Mozilla/5.0 (X11; Linux x86_64) skiptrail-load"\n';
    lines++;
  }
  return Buffer.from(text);
}
const SLICE_MS = 10;
// Two stages: PREFILL lines at the rate, then a pause (the bench measures queries
// without ingestion), then on SIGUSR1 the rate again until SIGTERM.
let due = 0, stageStart = Date.now(), stageBase = 0, paused = false;
const started = Date.now();
function emit(count) {
  const chunk = batch(count);
  if (fd >= 0) {
    fs.writeSync(fd, chunk);
    bytesInFile += chunk.length;
    if (bytesInFile >= ROTATE) {
      fs.closeSync(fd);
      fs.renameSync(target, target + '.1');
      fd = fs.openSync(target, 'a');
      bytesInFile = 0; rotations++;
    }
  } else {
    // Datagrams of at most ~8 KiB, cut at line ends.
    let start = 0;
    while (start < chunk.length) {
      let end = Math.min(start + 8192, chunk.length);
      if (end < chunk.length) end = chunk.lastIndexOf(10, end - 1) + 1;
      socket.send(chunk.subarray(start, end), port, '127.0.0.1');
      start = end;
    }
  }
  written += chunk.length;
  due += count;
}
function tick() {
  if (paused) return;
  let goal = stageBase + Math.floor(((Date.now() - stageStart) / 1000) * RATE);
  if (stageBase === 0 && goal >= PREFILL) goal = PREFILL;
  while (due < goal) emit(Math.min(goal - due, 5000));
  if (stageBase === 0 && due >= PREFILL) {
    paused = true;
    process.stdout.write('prefilled\n');
  }
}
process.on('SIGUSR1', () => { paused = false; stageBase = due; stageStart = Date.now(); });
const timer = setInterval(tick, SLICE_MS);
process.on('SIGTERM', () => { clearInterval(timer);
  process.stdout.write(JSON.stringify({ lines: due, bytes: written, rotations, seconds: (Date.now() - started) / 1000 }) + '\n');
  if (socket) socket.close(() => process.exit(0)); else process.exit(0); });
`;

// A bare node:http server that answers every request with argv[1].
const BASELINE_SERVER = String.raw`
const http = require('node:http');
const body = process.argv[1];
const headers = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) };
http.createServer((request, response) => { response.writeHead(200, headers); response.end(body); })
  .listen(0, '127.0.0.1', function () { console.error('serving http://127.0.0.1:' + this.address().port); });
`;

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiptrail-load-'));
  const file = path.join(dir, 'access.log');
  fs.writeFileSync(file, '');
  const children = [];
  const cleanup = () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  try {
    // Find a UDP port for the udp source by letting serve pick: use a fixed free one.
    const udpPort = args.source === 'udp' ? await freeUdpPort() : 0;
    const sourceArgs = args.source === 'file' ? ['--follow', file, '--poll-interval', '100ms'] : ['--udp', String(udpPort)];
    // SERVE_NODE_ARGS: extra node flags for the server, such as --cpu-prof.
    const nodeArgs = (process.env.SERVE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const serve = spawn(process.execPath, [...nodeArgs, CLI, 'serve', ...sourceArgs, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(serve);
    let serveErr = '';
    serve.stderr.on('data', (chunk) => (serveErr += chunk));
    const url = await until(() => /serving (http:\/\/\S+)/.exec(serveErr)?.[1], 10_000, 'serve to listen');
    log(`serve at ${url}, source ${args.source}, generator at ${RATE.toLocaleString('en-US')} lines/s`);

    const generator = spawn(
      process.execPath,
      ['-e', GENERATOR, args.source === 'file' ? file : String(udpPort), args.source, String(RATE), String(PAGES), String(USERS), String(Number(args['rotate-mb']) << 20), args.prefill],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(generator);
    let generatorOut = '';
    generator.stdout.on('data', (chunk) => (generatorOut += chunk));

    const stats = async () => (await (await fetch(`${url}/stats`)).json());
    // CPU time of serve, the generator and this process (autocannon), as a share of one core.
    const cpuOf = (pid) => {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    };
    const cpuNow = () => ({ serve: cpuOf(serve.pid), generator: cpuOf(generator.pid), client: cpuOf(process.pid) });
    const ingestRate = async (run) => {
      const before = await stats();
      const cpuBefore = cpuNow();
      const t0 = performance.now();
      const result = await run();
      const seconds = (performance.now() - t0) / 1000;
      const cpuAfter = cpuNow();
      const after = await stats();
      const cpu = Object.fromEntries(Object.keys(cpuAfter).map((k) => [k, Math.round((100 * (cpuAfter[k] - cpuBefore[k])) / seconds)]));
      return { result, linesPerSecond: Math.round((after.ingest.lines - before.ingest.lines) / seconds), seconds, after, cpu };
    };

    // Stage 1: the prefill is in; queries alone, no ingestion.
    await until(() => (/prefilled/.test(generatorOut) ? true : undefined), 120_000, 'the prefill to be written');
    let last = -1;
    await until(
      async () => {
        const lines = (await stats()).ingest.lines;
        if (lines >= Number(args.prefill) || lines === last) return true; // all in, or UDP lost some
        last = lines;
        await sleep(500);
        return undefined;
      },
      300_000,
      'serve to ingest the prefill',
    );
    const prefilled = await stats();
    log(`prefill: ${prefilled.ingest.lines.toLocaleString('en-US')} lines in the index`);
    const pages = Array.from({ length: 64 }, (_, i) => `/p/${i}`);
    const users = Array.from({ length: 64 }, (_, i) => `10.${(i * 977) >> 16 & 255}.${(i * 977) >> 8 & 255}.${(i * 977) & 255}`);
    const q1Paths = pages.map((p) => `/pages/${encodeURIComponent(p)}/users?k=30`);
    const cannon = (paths) => () =>
      autocannon({
        url,
        connections: CONNECTIONS,
        pipelining: PIPELINING,
        duration: SECONDS,
        requests: paths.map((p) => ({ method: 'GET', path: p })),
      });
    const toRow = (name, result, linesPerSecond, cpu) => ({
      endpoint: name,
      requestsPerSecond: Math.round(result.requests.average),
      latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
      requests: result.requests.total,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      ingestLinesPerSecond: linesPerSecond,
      cpuPercent: cpu,
    });
    const results = [];
    // Calibration: what node:http and autocannon reach on this machine right now, with
    // a server that sends a fixed answer of the same size as a Q1 answer.
    {
      const sample = await (await fetch(`${url}${q1Paths[0]}`)).text();
      const baseline = spawn(process.execPath, ['-e', BASELINE_SERVER, sample], { stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(baseline);
      let baselineErr = '';
      baseline.stderr.on('data', (chunk) => (baselineErr += chunk));
      const baselineUrl = await until(() => /serving (http:\/\/\S+)/.exec(baselineErr)?.[1], 10_000, 'the baseline server');
      log(`baseline: node:http sending a fixed ${sample.length}-byte answer, ${SECONDS} s`);
      const cpu0 = cpuOf(baseline.pid);
      const client0 = cpuOf(process.pid);
      const t0 = performance.now();
      const result = await autocannon({ url: `${baselineUrl}/x`, connections: CONNECTIONS, pipelining: PIPELINING, duration: SECONDS });
      const seconds = (performance.now() - t0) / 1000;
      const cpu = {
        serve: Math.round((100 * (cpuOf(baseline.pid) - cpu0)) / seconds),
        client: Math.round((100 * (cpuOf(process.pid) - client0)) / seconds),
        generator: 0,
      };
      baseline.kill('SIGKILL');
      results.push(toRow('baseline: fixed answer from a bare node:http server', result, 0, cpu));
    }
    log(`Q1 without ingestion: ${SECONDS} s, ${CONNECTIONS} connections, pipelining ${PIPELINING}`);
    {
      const { result, linesPerSecond, cpu } = await ingestRate(cannon(q1Paths));
      results.push(toRow('Q1 GET /pages/:page/users?k=30, no ingestion', result, linesPerSecond, cpu));
    }

    // Stage 2: the generator runs at the rate.
    generator.kill('SIGUSR1');
    log(`warm-up ${WARMUP} s (ingest only)`);
    const warm = await ingestRate(() => sleep(WARMUP * 1000));
    log(`ingest only: ${warm.linesPerSecond.toLocaleString('en-US')} lines/s; CPU % of a core ${JSON.stringify(warm.cpu)}`);

    const phases = [
      { name: 'Q1 GET /pages/:page/users?k=30', paths: q1Paths },
      { name: 'Q2 GET /users/:user/pages?window=30m', paths: users.map((u) => `/users/${encodeURIComponent(u)}/pages?window=30m`) },
      { name: 'Q3 GET /pages/:page/online?k=30', paths: pages.map((p) => `/pages/${encodeURIComponent(p)}/online?k=30`) },
    ];
    for (const phase of phases) {
      log(`${phase.name}: ${SECONDS} s, ${CONNECTIONS} connections, pipelining ${PIPELINING}`);
      const { result, linesPerSecond, cpu } = await ingestRate(cannon(phase.paths));
      const row = toRow(phase.name, result, linesPerSecond, cpu);
      results.push(row);
      log(
        `  ${row.requestsPerSecond.toLocaleString('en-US')} req/s, p50 ${row.latencyMs.p50} ms, p99 ${row.latencyMs.p99} ms, ` +
          `non-2xx ${row.non2xx}, errors ${row.errors}; ingest ${linesPerSecond.toLocaleString('en-US')} lines/s; CPU % ${JSON.stringify(cpu)}`,
      );
    }

    generator.kill('SIGTERM');
    await once(generator, 'exit');
    const generated = JSON.parse(generatorOut.trim().split('\n').pop());
    // Let serve catch up, then read its final counts.
    const final = await until(
      async () => {
        const s = await stats();
        return s.ingest.lines >= generated.lines || args.source === 'udp' ? s : undefined;
      },
      30_000,
      'serve to catch up',
    ).catch(async () => stats());
    serve.kill('SIGTERM');
    const [code] = await once(serve, 'exit');

    const summary = {
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model,
        node: process.version,
        loadAverage: os.loadavg().map((x) => x.toFixed(2)),
      },
      settings: { seconds: SECONDS, rate: RATE, prefill: Number(args.prefill), connections: CONNECTIONS, pipelining: PIPELINING, source: args.source, pages: PAGES, users: USERS },
      ingestOnlyLinesPerSecond: warm.linesPerSecond,
      ingestOnlyCpuPercent: warm.cpu,
      results,
      generated,
      served: {
        lines: final.ingest.lines,
        accepted: final.ingest.accepted,
        rejected: final.ingest.rejected,
        rotations: final.sources[0]?.rotations,
        memoryBytes: final.index.memoryBytes,
        entries: final.index.entries,
      },
      serveExitCode: code,
    };
    if (args.json) {
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    } else {
      const m = summary.machine;
      console.log(`skiptrail serve load test: ${m.cpus} × ${m.model}, Node ${m.node}, load average at end ${m.loadAverage.join(' ')}`);
      console.log(`source ${args.source}, generator target ${RATE.toLocaleString('en-US')} lines/s, autocannon ${CONNECTIONS} connections × ${SECONDS} s per endpoint`);
      console.log(`ingest alone: ${warm.linesPerSecond.toLocaleString('en-US')} lines/s (CPU % serve ${warm.cpu.serve}, generator ${warm.cpu.generator})`);
      console.log('');
      console.log('| endpoint | requests/s | p50 ms | p99 ms | non-2xx | ingest lines/s meanwhile | CPU % serve / autocannon / generator |');
      console.log('|---|---:|---:|---:|---:|---:|---:|');
      for (const row of results) {
        const c = row.cpuPercent;
        console.log(
          `| ${row.endpoint} | ${row.requestsPerSecond.toLocaleString('en-US')} | ${row.latencyMs.p50} | ${row.latencyMs.p99} | ${row.non2xx + row.errors} | ${row.ingestLinesPerSecond.toLocaleString('en-US')} | ${c.serve} / ${c.client} / ${c.generator} |`,
        );
      }
      console.log('');
      console.log(
        `generated ${generated.lines.toLocaleString('en-US')} lines (${(generated.bytes / 2 ** 20).toFixed(0)} MiB, ${generated.rotations} rotations); ` +
          `served ${final.ingest.lines.toLocaleString('en-US')} lines (${final.ingest.rejected} rejected), ${(final.index.memoryBytes / 2 ** 20).toFixed(1)} MiB in the engine; serve exited ${code}`,
      );
    }
  } finally {
    cleanup();
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(read, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function freeUdpPort() {
  const dgram = await import('node:dgram');
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address();
  socket.close();
  return port;
}

await main();
