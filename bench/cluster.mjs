#!/usr/bin/env node
// Measures a partitioned cluster on this machine (docs/scaling.md, "Measured"):
//   1. ingest: `skiptrail publish` + 1 or 2 `serve --partition` shards on a real
//      nats-server, from the publisher's start until every shard has indexed its
//      views; CPU seconds per process from /proc; a single `serve --follow` beside it;
//      then the same with a JetStream stream (publish --jetstream, serve --jetstream);
//   2. queries through connectCluster() (this process) and through `skiptrail gateway`
//      with wrk pinned to core 1 (the gateway on core 0; shards one per core).
// Usage: node bench/cluster.mjs [--lines 1000000] [--seconds 10]
// Needs: npm run build, nats-server, wrk, taskset.
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'cli.js');
const require = createRequire(import.meta.url);
const { connectCluster } = require(path.join(ROOT, 'dist', 'cluster', 'index.js'));
const { connect } = require('nats');

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(args[at + 1]);
};
const LINES = arg('lines', 1_000_000);
const SECONDS = arg('seconds', 10);
const USERS = 20_000;
const PAGES = 500;
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
const children = [];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Spawns a process pinned to `cpus`; resolves once `ready` matches its stderr. */
async function start(command, argv, { cpus = '0', ready } = {}) {
  const child = spawn('taskset', ['-c', cpus, command, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  if (ready !== undefined) {
    const deadline = Date.now() + 20_000;
    while (!ready.test(stderr)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${argv.join(' ')}: ${stderr}`);
      await sleep(20);
    }
  }
  return { child, stderr: () => stderr, url: () => /serving (http:\/\/\S+)/.exec(stderr)?.[1] };
}

async function stop(handle) {
  if (handle.child.exitCode !== null || handle.child.signalCode !== null) return;
  const exited = new Promise((resolve) => handle.child.once('exit', resolve));
  handle.child.kill('SIGKILL');
  await exited;
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
/** The node process under taskset (taskset execs it: same pid). */
const cpuOf = (handle) => cpuSeconds(handle.child.pid);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function writeLog(file) {
  const out = fs.openSync(file, 'w');
  let state = 42;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  const t0 = Date.UTC(2026, 0, 5, 8, 0, 0);
  let text = '';
  for (let i = 0; i < LINES; i++) {
    const d = new Date(t0 + Math.floor(i / 20) * 1000);
    const two = (n) => String(n).padStart(2, '0');
    const time = `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
    const user = `10.${next() % 80}.${next() % 250}.${(next() % USERS) % 250}`;
    text += `${user} - - [${time}] "GET /page/${next() % PAGES}?q=${i % 7} HTTP/1.1" 200 ${next() % 9000} "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64)"\n`;
    if (text.length > 1 << 20) {
      fs.writeSync(out, text);
      text = '';
    }
  }
  fs.writeSync(out, text);
  fs.closeSync(out);
}

async function stats(url) {
  return (await fetch(`${url}/stats`)).json();
}

/**
 * One ingest run: `partitions` shards and a publisher on subjects of their own; with
 * `jetstream`, through a stream that captures them (acknowledged publishes, ordered
 * consumers).
 */
async function ingestRun(nats, natsUrl, file, partitions, accepted, jetstream = false) {
  const subject = `${jetstream ? 'js' : ''}logs${partitions}`;
  const through = [];
  if (jetstream) {
    const nc = await connect({ servers: natsUrl });
    await (await nc.jetstreamManager()).streams.add({ name: `LOGS${partitions}`, subjects: [`${subject}.>`] });
    await nc.close();
    through.push('--jetstream', `LOGS${partitions}`);
  }
  const shards = [];
  for (let i = 0; i < partitions; i++) {
    shards.push(
      await start(process.execPath, [CLI, 'serve', '--port', '0', '--nats', natsUrl, '--subject', subject, ...through, '--partition', `${i}/${partitions}`, '--clock', 'watermark'], {
        cpus: String(i % 2),
        ready: /serving http/,
      }),
    );
  }
  const before = shards.map(cpuOf);
  const natsBefore = cpuOf(nats);
  const started = performance.now();
  const publisher = await start(process.execPath, [CLI, 'publish', '--follow', file, '--from', 'start', '--nats', natsUrl, '--subject', subject, '--partitions', String(partitions), ...(jetstream ? ['--jetstream'] : [])], { cpus: '0-1' });
  for (;;) {
    const all = await Promise.all(shards.map((shard) => stats(shard.url())));
    const done = all.reduce((sum, body) => sum + body.ingest.accepted, 0);
    if (done >= accepted) break;
    await sleep(25);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = { publisher: cpuOf(publisher), shards: shards.map((shard, i) => cpuOf(shard) - before[i]), natsServer: cpuOf(nats) - natsBefore };
  await stop(publisher);
  return { partitions, jetstream, seconds, linesPerSecond: LINES / seconds, cpu, shards };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function clientLatency(call, count) {
  const times = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await call(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const started = performance.now();
  let next = 0;
  const total = count * 2;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < total) await call(next++);
  }));
  const rate = total / ((performance.now() - started) / 1000);
  return { p50: percentile(times, 50), p99: percentile(times, 99), sequentialPerSecond: 1000 / (times.reduce((a, b) => a + b, 0) / count), concurrentPerSecond: rate };
}

function wrk(url) {
  const out = execFileSync('taskset', ['-c', '1', 'wrk', '-t1', '-c16', `-d${SECONDS}s`, '--latency', url], { encoding: 'utf8' });
  const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const unit = (text) => {
    const [, value, u] = /([\d.]+)(us|ms|s)/.exec(text);
    return Number(value) * (u === 'us' ? 0.001 : u === 'ms' ? 1 : 1000);
  };
  const p50 = unit(/\s50%\s+(\S+)/.exec(out)[1]);
  const p99 = unit(/\s99%\s+(\S+)/.exec(out)[1]);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0';
  return { requestsPerSecond: rate, p50, p99, non2xx: Number(non2xx) };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiptrail-cluster-bench-'));
  const file = path.join(dir, 'access.log');
  process.stderr.write(`writing ${LINES} lines...\n`);
  writeLog(file);
  const bytes = fs.statSync(file).size;
  const port = await freePort();
  const nats = await start('/usr/sbin/nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', path.join(dir, 'jetstream')], { cpus: '0-1', ready: /Server is ready/ });
  const natsUrl = `nats://127.0.0.1:${port}`;
  const result = { machine: `${os.cpus()[0].model} x${os.cpus().length}`, node: process.version, lines: LINES, bytes, loadBefore: os.loadavg() };

  // One serve following the file: the single-index reference.
  const single = await start(process.execPath, [CLI, 'serve', '--port', '0', '--follow', file, '--from', 'start', '--clock', 'watermark'], { cpus: '0', ready: /serving http/ });
  const t = performance.now();
  let accepted = 0;
  for (;;) {
    const body = await stats(single.url());
    if (body.ingest.lines >= LINES) {
      accepted = body.ingest.accepted;
      break;
    }
    await sleep(25);
  }
  const singleSeconds = (performance.now() - t) / 1000;
  result.single = { seconds: singleSeconds, linesPerSecond: LINES / singleSeconds, cpu: cpuOf(single) };
  await stop(single);

  result.ingest = [];
  for (const partitions of [1, 2]) {
    const run = await ingestRun(nats, natsUrl, file, partitions, accepted);
    result.ingest.push({ partitions, seconds: run.seconds, linesPerSecond: run.linesPerSecond, cpu: run.cpu });
    if (partitions === 2) {
      const gateway = await start(process.execPath, [CLI, 'gateway', '--port', '0', '--nats', natsUrl, '--partitions', '2'], { cpus: '0', ready: /serving http/ });
      const cluster = await connectCluster({ servers: natsUrl, partitions: 2 });
      const pages = Array.from({ length: PAGES }, (_, i) => `/page/${i}`);
      const someUsers = (await cluster.lastUsers(pages[3])).map((row) => row.user);
      const q1 = await clientLatency((i) => cluster.lastUsers(pages[i % PAGES]), 3000);
      const q2 = await clientLatency((i) => cluster.userPages(someUsers[i % someUsers.length]), 3000);
      result.connectCluster = { q1, q2 };
      await cluster.close();
      const base = gateway.url();
      result.gateway = {
        q1: wrk(`${base}/pages/${encodeURIComponent(pages[3])}/users`),
        q2: wrk(`${base}/users/${encodeURIComponent(someUsers[0])}/pages`),
      };
      // The same queries from one shard's own HTTP (no NATS hop, its half of the data).
      result.shardHttp = { q1: wrk(`${run.shards[0].url()}/pages/${encodeURIComponent(pages[3])}/users`) };
      await stop(gateway);
    }
    for (const shard of run.shards) await stop(shard);
  }
  // The same through JetStream: acknowledged batches, one ordered consumer per shard.
  result.ingestJetStream = [];
  for (const partitions of [1, 2]) {
    const run = await ingestRun(nats, natsUrl, file, partitions, accepted, true);
    result.ingestJetStream.push({ partitions, seconds: run.seconds, linesPerSecond: run.linesPerSecond, cpu: run.cpu });
    for (const shard of run.shards) await stop(shard);
  }
  result.loadAfter = os.loadavg();
  await stop(nats);
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify(result, null, 2));
}

main().catch(async (error) => {
  console.error(error);
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  process.exit(1);
});
