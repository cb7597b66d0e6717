// npm run demo: replays the real Apache log bundled with the project through the
// native ingest stream, then shows what skiptrail answers and how fast.
//
// The log (test/fixtures/apache_logs) is 10,000 lines of real traffic from
// 17-20 May 2015, from the elastic/examples repository (Apache License 2.0).
import { createReadStream, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { ActivityIndex } from '../dist/index.mjs';

const logPath = fileURLToPath(new URL('../test/fixtures/apache_logs', import.meta.url));
const bytes = statSync(logPath).size;
const number = (value) => value.toLocaleString('en-US');
const time = (ms) => new Date(ms).toISOString().replace('T', ' ').replace('.000Z', ' UTC');

// usersPerPage 1000: enough to count every distinct reader of a page in this log.
const index = new ActivityIndex({ usersPerPage: 1000, userWindow: '30m', presenceWindow: '5m' });

console.log(`skiptrail demo: replaying ${logPath}`);
console.log(`(${number(bytes)} bytes of Apache "combined" log, 17-20 May 2015, from elastic/examples)`);
console.log('page views: GET requests for pages, static files (css, js, images, favicon...) and crawlers dropped\n');

// The default view rules (docs/semantics.md, "What counts as a page view").
const stream = index.createIngestStream({ format: 'combined' });
const started = process.hrtime.bigint();
await pipeline(createReadStream(logPath, { highWaterMark: 64 * 1024 }), stream);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const report = stream.report;

console.log('Ingest report');
console.log(`  lines ${number(report.lines)}, accepted ${number(report.accepted)}, rejected ${number(report.rejected)}, late ${number(report.late)}`);
for (const [reason, count] of Object.entries(report.reasons)) console.log(`  rejected as ${reason}: ${number(count)}`);
for (const sample of report.samples.slice(0, 3)) {
  console.log(`  e.g. line ${sample.line} (${sample.reason}): ${sample.text.slice(0, 90)}`);
}
console.log(`  watermark (latest event): ${time(index.watermark)}\n`);

// The five busiest pages: every path of the file is a candidate (a plain JavaScript pass,
// only to know which pages to ask about); the index says how many distinct readers each has.
const views = new Map();
const lineFormat = /^\S+ \S+ \S+ \[[^\]]+\] "\S+ ([^ ?#"]+)[^"]*" ([23]\d\d) /;
for (const line of (await import('node:fs')).readFileSync(logPath, 'utf8').split('\n')) {
  const match = lineFormat.exec(line);
  if (match) views.set(match[1], (views.get(match[1]) ?? 0) + 1);
}
const busiest = [...views.keys()]
  .map((page) => [page, index.lastUsers(page, 1000).length])
  .sort((a, b) => b[1] - a[1])
  .slice(0, 5);

console.log('Q1 - the last 5 distinct visitors of the five busiest pages');
for (const [page, count] of busiest) {
  console.log(`  ${page}  (${number(count)} readers)`);
  for (const { user, ts } of index.lastUsers(page, 5)) console.log(`      ${user.padEnd(16)} ${time(ts)}`);
}

const active = index.lastUsers(busiest[0][0], 3).map((row) => row.user);
console.log('\nQ2 - what three recent visitors loaded in the 30 minutes before the watermark');
for (const user of active) {
  const pages = index.userPages(user, { window: '30m' });
  console.log(`  ${user}: ${pages.length} page(s)`);
  for (const { page, ts } of pages.slice(0, 4)) console.log(`      ${time(ts)}  ${page}`);
}

console.log('\nQ3 - who is online now (latest view within 5 minutes of the watermark)');
console.log(`  users online anywhere: ${index.onlineCount()}`);
for (const [page] of busiest.slice(0, 3)) {
  const online = index.onlineUsers(page, 3).map((row) => row.user);
  console.log(`  ${page}: ${index.onlineCount(page)} online${online.length ? ` (${online.join(', ')})` : ''}`);
}

// Speed: the stream path above includes file reading; also time ingest() on the
// whole file in memory, and the three queries.
const whole = (await import('node:fs')).readFileSync(logPath);
const replay = new ActivityIndex();
let rounds = 0;
const ingestStart = process.hrtime.bigint();
while (Number(process.hrtime.bigint() - ingestStart) < 1e9) {
  replay.clear();
  replay.ingest(whole);
  rounds += 1;
}
const ingestSeconds = Number(process.hrtime.bigint() - ingestStart) / 1e9;

const pages = [...views.keys()];
const users = index.lastUsers(busiest[0][0], 30).map((row) => row.user);
const queryRounds = 200_000;
const measure = (run) => {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < queryRounds; i++) run(i);
  return Number(process.hrtime.bigint() - t0) / queryRounds;
};
const q1 = measure((i) => index.lastUsers(pages[i % pages.length], 30));
const q2 = measure((i) => index.userPages(users[i % users.length]));
const q3 = measure((i) => index.onlineCount(pages[i % pages.length]));

console.log('\nSpeed on this machine');
console.log(`  stream replay (createIngestStream, 64 KiB chunks): ${number(Math.round(report.lines / seconds))} lines/s`);
console.log(`  ingest() of the file in memory: ${number(Math.round((rounds * report.lines) / ingestSeconds))} lines/s, ${((rounds * bytes) / ingestSeconds / 1e6).toFixed(0)} MB/s`);
console.log(`  lastUsers(page, 30): ${(q1 / 1000).toFixed(2)} µs   userPages(user): ${(q2 / 1000).toFixed(2)} µs   onlineCount(page): ${(q3 / 1000).toFixed(2)} µs`);
const stats = index.stats();
console.log(`  memory held by the engine: ${number(stats.memoryBytes)} bytes for ${number(stats.entries)} entries`);
index.close();
replay.close();
