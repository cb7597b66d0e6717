import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { follow, type Follower, type FollowOptions } from '../src/sources/index.js';
import { openIndex } from './helpers.js';
import { T0, agentLine, combinedLine, combinedLines, tempDir, waitFor } from './live-helpers.js';

/** A follower closed when the test ends; the poll interval is long so that only poll() or fs.watch moves it. */
function start(file: string, options: FollowOptions = {}) {
  const index = openIndex();
  const follower = follow(index, file, { pollInterval: 60_000, ...options });
  onTestFinished(() => follower.close().then(() => undefined));
  return { index, follower };
}

function expectBalanced(follower: Follower): void {
  const report = follower.report;
  expect(report.lines).toBe(report.accepted + report.rejected);
}

describe('follow()', () => {
  it("reads a file from its start with { from: 'start' } and then what is appended", async () => {
    const file = path.join(tempDir(), 'access.log');
    fs.writeFileSync(file, combinedLines(0, 10));
    const { index, follower } = start(file, { from: 'start' });
    await follower.poll();
    expect(follower.report.lines).toBe(10);
    fs.appendFileSync(file, combinedLines(10, 5));
    await follower.poll();
    expect(follower.report).toMatchObject({ lines: 15, accepted: 15, rejected: 0 });
    expect(index.stats().events).toBe(15);
  });

  it('notices appends through fs.watch without polling', async () => {
    const file = path.join(tempDir(), 'access.log');
    fs.writeFileSync(file, '');
    const { follower } = start(file);
    await follower.poll();
    fs.appendFileSync(file, combinedLines(0, 3));
    await waitFor(() => follower.report.lines, (lines) => lines === 3, { what: 'the watch to fire' });
  });

  it('starts at the end by default, skipping a partly written last line up to its newline', async () => {
    const file = path.join(tempDir(), 'access.log');
    const partial = combinedLine('u-old', '/old', T0);
    fs.writeFileSync(file, combinedLines(0, 20) + partial.slice(0, 30));
    const { index, follower } = start(file);
    await follower.poll();
    expect(follower.report.lines).toBe(0);
    fs.appendFileSync(file, partial.slice(30) + combinedLines(20, 4));
    await follower.poll();
    expect(follower.report).toMatchObject({ lines: 4, accepted: 4, rejected: 0 });
    expect(index.lastUsers('/old')).toEqual([]);
  });

  it('holds a partial last line until its newline arrives, and counts it once', async () => {
    const file = path.join(tempDir(), 'access.log');
    fs.writeFileSync(file, '');
    const { index, follower } = start(file);
    await follower.poll();
    const line = combinedLine('ann', '/home', T0);
    for (const piece of [line.slice(0, 10), line.slice(10, 50), line.slice(50, -1)]) {
      fs.appendFileSync(file, piece);
      await follower.poll();
      expect(follower.report.lines).toBe(0);
    }
    expect(follower.stats().pendingBytes).toBe(line.length - 1);
    fs.appendFileSync(file, '\n');
    await follower.poll();
    expect(follower.report).toMatchObject({ lines: 1, accepted: 1 });
    expect(follower.stats().pendingBytes).toBe(0);
    expect(index.lastUsers('/home')).toEqual([{ user: 'ann', ts: T0 }]);
  });

  it('survives rotation by rename and recreate without losing or doubling a line', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'access.log');
    fs.writeFileSync(file, '');
    const { index, follower } = start(file);
    await follower.poll();
    let next = 0;
    const append = (target: string, count: number) => {
      fs.appendFileSync(target, combinedLines(next, count));
      next += count;
    };
    for (let round = 1; round <= 4; round++) {
      append(file, 25);
      await follower.poll();
      const writer = fs.openSync(file, 'a'); // the server's descriptor, still open across the rename
      fs.renameSync(file, `${file}.${round}`);
      fs.writeSync(writer, combinedLines(next, 5)); // written after the rename, before the reopen
      next += 5;
      fs.closeSync(writer);
      append(file, 10); // the new file
      await follower.poll();
      expect(follower.stats().rotations).toBe(round);
      expect(follower.report.lines).toBe(next);
    }
    expect(follower.report).toMatchObject({ lines: 160, accepted: 160, rejected: 0 });
    expect(index.stats().events).toBe(160);
    expect(index.userPages('u159')).toHaveLength(1);
    expectBalanced(follower);
  });

  it('counts the unterminated last line of a rotated file as a line', async () => {
    const file = path.join(tempDir(), 'access.log');
    fs.writeFileSync(file, '');
    const { index, follower } = start(file);
    await follower.poll();
    fs.appendFileSync(file, combinedLines(0, 2) + combinedLine('last', '/end', T0).trimEnd());
    await follower.poll();
    expect(follower.report.lines).toBe(2);
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, combinedLine('first', '/start', T0));
    await follower.poll();
    expect(follower.report).toMatchObject({ lines: 4, accepted: 4 });
    expect(index.lastUsers('/end')).toEqual([{ user: 'last', ts: T0 }]);
    expect(index.lastUsers('/start')).toEqual([{ user: 'first', ts: T0 }]);
  });

  it('survives delete and recreate, and waits while the name is missing', async () => {
    const file = path.join(tempDir(), 'access.log');
    fs.writeFileSync(file, '');
    const { follower } = start(file);
    await follower.poll();
    fs.appendFileSync(file, combinedLines(0, 3));
    await follower.poll();
    fs.unlinkSync(file);
    await follower.poll();
    expect(follower.report.lines).toBe(3);
    fs.writeFileSync(file, combinedLines(3, 2));
    await follower.poll();
    expect(follower.report.lines).toBe(5);
    expect(follower.stats().rotations).toBe(1);
  });

  it('reads a file that did not exist when following started from its start', async () => {
    const file = path.join(tempDir(), 'later.log');
    const { follower } = start(file);
    await follower.poll();
    expect(follower.stats().open).toBe(false);
    fs.writeFileSync(file, combinedLines(0, 7));
    await waitFor(() => follower.report.lines, (lines) => lines === 7, { what: 'the new file to be read' });
  });

  it.each([
    { case: 'starts again at offset 0 after truncation', before: 30, replay: 0, after: 4 },
    { case: 'notices a truncation hidden by new writes past the old offset (its first bytes differ)', before: 3, replay: 0, after: 6 },
    // 15 lines are more than the 1024 first bytes follow() compares: only the last bytes read tell.
    { case: 'notices a truncation hidden by new writes that begin as the old file did', before: 20, replay: 15, after: 10 },
  ])('$case', async ({ before, replay, after }) => {
    const file = path.join(tempDir(), 'access.log');
    fs.writeFileSync(file, '');
    const { follower } = start(file);
    await follower.poll();
    fs.appendFileSync(file, combinedLines(0, before));
    await follower.poll();
    fs.truncateSync(file, 0);
    fs.appendFileSync(file, combinedLines(0, replay) + combinedLines(100, after)); // but for 30 and 4: longer than what was read
    await follower.poll();
    expect(follower.stats().truncations).toBe(1);
    const lines = before + replay + after;
    expect(follower.report).toMatchObject({ lines, accepted: lines, rejected: 0 });
  });

  it.each([
    { from: 'start' as const, before: 2 },
    { from: 'end' as const, before: 0 },
  ])('notices a truncation rewritten to end at the old offset with the same last bytes (from $from)', async ({ from, before }) => {
    // A combined log's last 64 bytes are usually all user agent: lines 3 and 4 end where
    // line 2 ended, with the same agent, so only the start of the file tells.
    const file = path.join(tempDir(), 'access.log');
    fs.writeFileSync(file, agentLine(1) + agentLine(2));
    const { index, follower } = start(file, { from });
    await follower.poll();
    expect(follower.report.lines).toBe(before);
    fs.truncateSync(file, 0);
    fs.appendFileSync(file, agentLine(3) + agentLine(4) + agentLine(5));
    await follower.poll();
    expect(follower.stats().truncations).toBe(1);
    expect(follower.report).toMatchObject({ lines: before + 3, accepted: before + 3, rejected: 0 });
    for (let i = 3; i <= 5; i++) expect(index.lastUsers(`/p${i}`), `/p${i}`).toHaveLength(1);
  });

  it('rejects an over-long line as line-too-long without holding it whole', async () => {
    const file = path.join(tempDir(), 'access.log');
    fs.writeFileSync(file, '');
    const { follower } = start(file, { maxLineBytes: 200 });
    await follower.poll();
    for (let i = 0; i < 10; i++) {
      fs.appendFileSync(file, 'x'.repeat(1000));
      await follower.poll();
      expect(follower.stats().pendingBytes).toBeLessThanOrEqual(201);
    }
    fs.appendFileSync(file, `\n${combinedLines(0, 2)}`);
    await follower.poll();
    expect(follower.report).toMatchObject({ lines: 3, accepted: 2, rejected: 1, reasons: { 'line-too-long': 1 } });
  });

  it('accounts for every line, good or bad, with the ingest options given', async () => {
    const file = path.join(tempDir(), 'events.ndjson');
    fs.writeFileSync(file, '');
    const { follower } = start(file, { format: 'ndjson', fields: { user: 'uid' } });
    await follower.poll();
    fs.appendFileSync(
      file,
      '{"uid":"a","page":"/x","ts":1}\n' +
        'not json\n' +
        '\n' +
        '{"uid":"b","page":"/x","ts":1.5}\n' +
        '{"user":"c","page":"/x","ts":2}\n' +
        '{"uid":"d","page":"/y","ts":"2015-05-17T10:05:03Z"}\n',
    );
    await follower.poll();
    expect(follower.report).toMatchObject({ lines: 5, accepted: 2, rejected: 3, reasons: { malformed: 2, 'bad-time': 1 } });
    expect(follower.report.samples.map((sample) => sample.line)).toEqual([2, 4, 5]);
  });

  it('close() reads what the file holds, leaves an unfinished line out, and can be called twice', async () => {
    const file = path.join(tempDir(), 'access.log');
    fs.writeFileSync(file, '');
    const index = openIndex();
    const follower = follow(index, file, { pollInterval: 60_000 });
    await follower.poll();
    fs.appendFileSync(file, combinedLines(0, 3) + 'unfinished');
    const report = await follower.close();
    expect(report).toMatchObject({ lines: 3, accepted: 3, rejected: 0 });
    expect(follower.stats().pendingBytes).toBe('unfinished'.length);
    expect(await follower.close()).toEqual(report);
    fs.appendFileSync(file, combinedLines(3, 3));
    await follower.poll();
    expect(follower.report.lines).toBe(3);
  });

  it('checks its arguments', () => {
    const index = openIndex();
    expect(() => follow(index, 5 as never, {})).toThrow(TypeError);
    expect(() => follow(index, '', {})).toThrow(RangeError);
    expect(() => follow(index, 'x.log', { from: 'middle' as 'end' })).toThrow(RangeError);
    expect(() => follow(index, 'x.log', { from: 'middle' as 'end' })).toThrow(/options.from/);
    expect(() => follow(index, 'x.log', { pollInterval: 0 })).toThrow(RangeError);
    expect(() => follow(index, 'x.log', { pollInterval: 0 })).toThrow(/options\.pollInterval/);
    // A wrong type is a TypeError, as everywhere in the library.
    expect(() => follow(index, 'x.log', { pollInterval: 'x' as never })).toThrow(TypeError);
    expect(() => follow(index, 'x.log', { readBytes: '1' as never })).toThrow(TypeError);
    expect(() => follow(index, 'x.log', { persistent: 'no' as never })).toThrow(TypeError);
  });

  it('rejects a misspelled option, naming the nearest one, before touching the file', () => {
    const index = openIndex();
    expect(() => follow(index, 'x.log', { pollIntervl: 50 } as never)).toThrow(
      'options.pollIntervl is not an option of follow() (did you mean pollInterval?)',
    );
    expect(() => follow(index, 'x.log', { formt: 'ndjson' } as never)).toThrow(/did you mean format\?/);
    // The ingest options are checked at once too, with their format.
    expect(() => follow(index, 'x.log', { format: 'ndjson', statuses: [200] })).toThrow(
      /options\.statuses does not apply to format 'ndjson'/,
    );
    try {
      follow(index, 'x.log', { pollIntervl: 50 } as never);
    } catch (error) {
      expect(error).toBeInstanceOf(RangeError);
      expect((error as { argument: string }).argument).toBe('options.pollIntervl');
    }
  });
});
