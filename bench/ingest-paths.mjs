// Compares the two native ingest paths on one log file, both starting from the file:
//   ingest(readFileSync(file))                                  (the read is timed too)
//   stream.pipeline(fs.createReadStream(file), index.createIngestStream())
// Each run gives each path a fresh index; the paths alternate, and each figure is the
// best of --runs. Rates are per second of process CPU time (user + system; the machine
// is shared) and of wall time. Write a log first:
//   node bench/workload.mjs --events 1000000 --format combined --out /tmp/access.log
//   node bench/ingest-paths.mjs /tmp/access.log [--runs 3] [--chunk 65536]
import { createReadStream, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { pipeline } from 'node:stream/promises';
import { ActivityIndex } from '../dist/index.mjs';

const args = { file: null, runs: 3, chunk: 64 * 1024 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--runs') args.runs = Number(argv[++i]);
  else if (argv[i] === '--chunk') args.chunk = Number(argv[++i]);
  else if (args.file === null) args.file = argv[i];
  else throw new Error(`unknown argument ${argv[i]}`);
}
if (!args.file) throw new Error('usage: node bench/ingest-paths.mjs <log file> [--runs N] [--chunk BYTES]');
if (!(Number.isInteger(args.runs) && args.runs >= 1)) throw new Error('--runs needs an integer >= 1');
if (!(Number.isInteger(args.chunk) && args.chunk >= 1)) throw new Error('--chunk needs an integer >= 1');
const bytes = statSync(args.file).size;

async function measure(run) {
  const index = new ActivityIndex();
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  const report = await run(index);
  const wall = Number(process.hrtime.bigint() - wall0) / 1e9;
  const cpuUsage = process.cpuUsage(cpu0);
  const cpu = (cpuUsage.user + cpuUsage.system) / 1e6;
  index.close();
  return { lines: report.lines, wall, cpu };
}

const paths = {
  'ingest(readFileSync(file))': async (index) => index.ingest(readFileSync(args.file)),
  [`createIngestStream (${args.chunk} B chunks)`]: async (index) => {
    const stream = index.createIngestStream();
    await pipeline(createReadStream(args.file, { highWaterMark: args.chunk }), stream);
    return stream.report;
  },
};

const load = () => os.loadavg().map((v) => v.toFixed(2)).join(' ');
console.log(`ingest-paths — ${args.file}, ${(bytes / 2 ** 20).toFixed(0)} MiB; node ${process.version}; load average ${load()}; best of ${args.runs}, alternating`);
const best = {};
for (let run = 0; run < args.runs; run++) {
  for (const [name, path] of Object.entries(paths)) {
    const m = await measure(path);
    const b = (best[name] ??= { lines: m.lines, wall: Infinity, cpu: Infinity });
    b.wall = Math.min(b.wall, m.wall);
    b.cpu = Math.min(b.cpu, m.cpu);
  }
}
const rate = (lines, seconds) => Math.round(lines / seconds).toLocaleString('en-US');
for (const [name, b] of Object.entries(best)) {
  console.log(
    `${name.padEnd(40)} ${b.lines.toLocaleString('en-US')} lines: ${rate(b.lines, b.cpu)} lines/s CPU, ` +
      `${rate(b.lines, b.wall)} lines/s wall, ${(bytes / b.wall / 2 ** 20).toFixed(0)} MiB/s wall`,
  );
}
const [whole, stream] = Object.values(best);
console.log(`stream / whole file, CPU: ${((whole.cpu / stream.cpu) * 100).toFixed(0)}%; load average after ${load()}`);
