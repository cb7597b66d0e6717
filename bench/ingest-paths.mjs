// Compares the two native ingest paths on one log file: ingest() of the whole file in
// memory, and stream.pipeline(fs.createReadStream(file), index.createIngestStream())
// with 64 KiB chunks. Each path gets a fresh index; times are process CPU time and
// wall time. Write a log first:
//   node bench/workload.mjs --events 1000000 --format combined --out /tmp/access.log
//   node bench/ingest-paths.mjs /tmp/access.log
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { ActivityIndex } from '../dist/index.mjs';

const file = process.argv[2];
if (!file) throw new Error('usage: node bench/ingest-paths.mjs <log file>');
const bytes = statSync(file).size;

async function measure(name, run) {
  const index = new ActivityIndex();
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  const report = await run(index);
  const wall = Number(process.hrtime.bigint() - wall0) / 1e9;
  const cpuUsage = process.cpuUsage(cpu0);
  const cpu = (cpuUsage.user + cpuUsage.system) / 1e6;
  console.log(
    `${name.padEnd(34)} ${report.lines.toLocaleString()} lines: ` +
      `${Math.round(report.lines / wall).toLocaleString()} lines/s wall, ` +
      `${Math.round(report.lines / cpu).toLocaleString()} lines/s CPU, ${(bytes / wall / 2 ** 20).toFixed(0)} MiB/s wall`,
  );
  index.close();
}

const whole = readFileSync(file);
await measure('ingest(buffer)', async (index) => index.ingest(whole));
await measure('createIngestStream (64 KiB chunks)', async (index) => {
  const stream = index.createIngestStream();
  await pipeline(createReadStream(file, { highWaterMark: 64 * 1024 }), stream);
  return stream.report;
});
