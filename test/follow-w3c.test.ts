// follow() on W3C extended logs read from the middle (docs/ingest.md, "W3C files read
// from the middle"): a resume, a rotation while stopped, from: 'end' and a duration give
// the parser the file's last #Fields: before the offset, uncounted.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { addon } from '../src/binding.js';
import { ActivityIndex } from '../src/index.js';
import { resolveIngestOptions } from '../src/ingest.js';
import { follow, type Follower, type FollowOptions, type FollowPosition } from '../src/sources/index.js';
import { startServe, tempDir, waitFor } from './live-helpers.js';

const T = Date.UTC(2026, 10, 28, 10);
const HEADER = '#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n';
const FIELDS_A = '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query c-ip cs(User-Agent) sc-status\n';
const FIELDS_B = '#Fields: c-ip date time cs-uri-stem sc-status cs-method\n';
const BROWSER = 'Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)';

const dateTime = (ts: number, sep = ' ') => {
  const iso = new Date(ts).toISOString();
  return `${iso.slice(0, 10)}${sep}${iso.slice(11, 19)}`;
};
/** Lines i in [first, first + count) in the layout of FIELDS_A: user u<i>, page /p<i % 7>, one second apart. */
const linesA = (first: number, count: number, start = T) =>
  Array.from({ length: count }, (_, k) => first + k)
    .map((i) => `${dateTime(start + i * 1000)} 10.0.0.5 GET /p${i % 7} - u${i} ${BROWSER} 200\n`)
    .join('');
/** The same views in the layout of FIELDS_B. */
const linesB = (first: number, count: number, start = T) =>
  Array.from({ length: count }, (_, k) => first + k)
    .map((i) => `u${i} ${dateTime(start + i * 1000)} /p${i % 7} 200 GET\n`)
    .join('');

function newIndex(): ActivityIndex {
  const index = new ActivityIndex({ userWindow: '1d', maxFutureSkew: Infinity });
  onTestFinished(() => index.close());
  return index;
}

function start(index: ActivityIndex, file: string, options: FollowOptions): Follower {
  const follower = follow(index, file, { format: 'w3c', pollInterval: 60_000, persistent: false, ...options });
  onTestFinished(() => follower.close().then(() => undefined));
  return follower;
}

/** Follows `file` (from its start, or from `resume`) until closed: the index, the final position and report. */
async function readAll(file: string, options: FollowOptions) {
  const index = newIndex();
  const follower = start(index, file, options);
  await follower.poll();
  await follower.poll();
  const position = follower.position()!;
  const report = await follower.close();
  return { index, position, report, follower };
}

/** The views of `text` read whole, from its start. */
function expectedIndex(text: string): ActivityIndex {
  const index = newIndex();
  index.ingest(text, { format: 'w3c' });
  return index;
}

function expectSameViews(actual: ActivityIndex, expected: ActivityIndex): void {
  for (let p = 0; p < 7; p++) expect(actual.lastUsers(`/p${p}`, 30)).toEqual(expected.lastUsers(`/p${p}`, 30));
}

describe('follow() on a W3C file read from the middle', () => {
  it('resumes with the #Fields: before the stored offset: no line is no-fields, none counted twice', async () => {
    const file = path.join(tempDir(), 'u_ex261128.log');
    // Over 64 KiB of lines between the directive and the offset: the directive is found
    // several blocks back.
    fs.writeFileSync(file, HEADER + FIELDS_A + linesA(0, 1500));
    const first = await readAll(file, { from: 'start' });
    expect(first.report).toMatchObject({ lines: 1503, accepted: 1500, reasons: { filtered: 3 } });
    fs.appendFileSync(file, linesA(1500, 20));
    const second = await readAll(file, { resume: first.position });
    expect(second.index.stats().events).toBe(20);
    expect(second.report).toMatchObject({ lines: 1523, accepted: 1520, reasons: { filtered: 3 } });
    expect(second.report.reasons['no-fields']).toBeUndefined();
    expectSameViews(second.index, expectedIndex(HEADER + FIELDS_A + linesA(1500, 20)));
  });

  it('uses the last #Fields: before the offset when the directive changed mid-file, and a later one as it comes', async () => {
    const file = path.join(tempDir(), 'u_ex261128.log');
    fs.writeFileSync(file, HEADER + FIELDS_A + linesA(0, 10) + HEADER + FIELDS_B + linesB(10, 10));
    const first = await readAll(file, { from: 'start' });
    expect(first.report).toMatchObject({ accepted: 20, reasons: { filtered: 6 } });
    fs.appendFileSync(file, linesB(20, 5));
    const second = await readAll(file, { resume: first.position });
    expect(second.report).toMatchObject({ accepted: 25, reasons: { filtered: 6 } });
    expectSameViews(second.index, expectedIndex(FIELDS_B + linesB(20, 5)));

    // Stopped before the change: the resumed reader starts under A, then reads B's header.
    const other = path.join(tempDir(), 'u_ex261129.log');
    fs.writeFileSync(other, HEADER + FIELDS_A + linesA(0, 10));
    const early = await readAll(other, { from: 'start' });
    fs.appendFileSync(other, linesA(10, 3) + HEADER + FIELDS_B + linesB(13, 4));
    const resumed = await readAll(other, { resume: early.position });
    expect(resumed.report).toMatchObject({ lines: 13 + 3 + 3 + 4, accepted: 17, reasons: { filtered: 6 } });
    expectSameViews(resumed.index, expectedIndex(FIELDS_A + linesA(10, 3) + HEADER + FIELDS_B + linesB(13, 4)));
  });

  it('after a rotation while stopped: the rest of the old file under its #Fields:, then the new file under its own', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'access.log');
    fs.writeFileSync(file, HEADER + FIELDS_A + linesA(0, 10));
    const first = await readAll(file, { from: 'start' });
    fs.appendFileSync(file, linesA(10, 3));
    fs.renameSync(file, path.join(dir, 'access.log.1'));
    fs.writeFileSync(file, HEADER + FIELDS_B + linesB(13, 4));
    const second = await readAll(file, { resume: first.position });
    expect(second.follower.stats()).toMatchObject({ rotations: 1, resumeGap: null });
    expect(second.report).toMatchObject({ lines: 13 + 3 + 7, accepted: 17, reasons: { filtered: 6 } });
    expectSameViews(second.index, expectedIndex(FIELDS_A + linesA(10, 3) + HEADER + FIELDS_B + linesB(13, 4)));
  });

  it("from: 'end' (the default) reads the lines appended after it under the file's #Fields:", async () => {
    const file = path.join(tempDir(), 'u_ex261128.log');
    // The file ends inside a line: that line is skipped, as for every format.
    fs.writeFileSync(file, HEADER + FIELDS_A + linesA(0, 10) + linesA(10, 1).slice(0, 20));
    const index = newIndex();
    const follower = start(index, file, {});
    await follower.poll();
    fs.appendFileSync(file, linesA(10, 1).slice(20) + linesA(11, 5));
    await follower.poll();
    expect(follower.report).toMatchObject({ lines: 5, accepted: 5, rejected: 0 });
    expectSameViews(index, expectedIndex(FIELDS_A + linesA(11, 5)));
  });

  it("from: a duration finds its start by the file's times, read under their #Fields:", async () => {
    const file = path.join(tempDir(), 'u_ex261128.log');
    // 30 minutes of lines, one a second, across a change of #Fields:.
    fs.writeFileSync(file, HEADER + FIELDS_A + linesA(0, 1200) + HEADER + FIELDS_B + linesB(1200, 600));
    const index = newIndex();
    const follower = start(index, file, { from: '10m', fromSlack: '1m' });
    await follower.poll();
    // The newest line is at T + 1799 s: the first at or after T + 1199 s is line 1199.
    expect(follower.report).toMatchObject({ lines: 604, accepted: 601, reasons: { filtered: 3 } });
    expectSameViews(index, expectedIndex(FIELDS_A + linesA(1199, 1) + HEADER + FIELDS_B + linesB(1200, 600)));
  });
});

describe('skiptrail serve --follow FILE --format w3c', () => {
  it('reads the lines appended to a W3C file it started at the end of', async () => {
    const file = path.join(tempDir(), 'u_ex261128.log');
    fs.writeFileSync(file, HEADER + FIELDS_A + linesA(0, 10));
    const served = await startServe(['--follow', file, '--format', 'w3c', '--poll-interval', '50ms', '--clock', 'watermark']);
    await waitFor(async () => (await served.get('/readyz')).status, (status) => status === 200, { what: 'the follower to catch up' });
    fs.appendFileSync(file, linesA(10, 5));
    const stats = await waitFor(async () => (await served.get('/stats')).body, (body) => body.ingest.lines === 5, { what: '5 lines ingested' });
    expect(stats.ingest).toMatchObject({ lines: 5, accepted: 5, rejected: 0 });
    expect(await served.stop()).toBe(0);
  });
});

describe('NativePartitionSplitter#readContext() (publish --follow resumed)', () => {
  it("reads a W3C file's lines after the #Fields: it was given, uncounted", () => {
    const splitter = new addon.NativePartitionSplitter(resolveIngestOptions({ format: 'w3c' }, 65_535), 1);
    splitter.readContext(Buffer.from(FIELDS_B.trim()));
    const outputs = splitter.feed(Buffer.from(linesB(0, 3)));
    expect(splitter.report()).toMatchObject({ lines: 3, accepted: 3 });
    expect(outputs[0]!.toString().trim().split('\n').map((line) => JSON.parse(line).user)).toEqual(['u0', 'u1', 'u2']);
  });
});
