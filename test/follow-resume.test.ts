// follow(): positions and resuming from them (docs/persistence.md), and `from: '30m'`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ActivityIndex } from '../src/index.js';
import { follow, type Follower, type FollowOptions, type FollowPosition } from '../src/sources/index.js';
import { T0, agentLine, combinedLine, combinedLines, tempDir } from './live-helpers.js';

function start(index: ActivityIndex, file: string, options: FollowOptions = {}): Follower {
  const follower = follow(index, file, { pollInterval: 60_000, persistent: false, ...options });
  onTestFinished(() => follower.close().then(() => undefined));
  return follower;
}

function newIndex(): ActivityIndex {
  const index = new ActivityIndex({ userWindow: '1d' });
  onTestFinished(() => index.close());
  return index;
}

/** Follows `file` from the start until closed, and returns the final position. */
async function readAll(file: string, resume?: FollowPosition): Promise<{ index: ActivityIndex; position: FollowPosition; follower: Follower }> {
  const index = newIndex();
  const follower = start(index, file, resume === undefined ? { from: 'start' } : { resume });
  await follower.poll();
  await follower.poll();
  const position = follower.position()!;
  await follower.close();
  return { index, position, follower };
}

describe('follow() positions', () => {
  it('names the file and the offset after the last whole line, with the report', async () => {
    const file = path.join(tempDir(), 'access.log');
    fs.writeFileSync(file, combinedLines(0, 10) + 'partial line without its end');
    const index = newIndex();
    const follower = start(index, file, { from: 'start' });
    await follower.poll();
    const stat = fs.statSync(file);
    const position = follower.position()!;
    expect(position).toMatchObject({ kind: 'follow', path: file, dev: stat.dev, ino: stat.ino, offset: combinedLines(0, 10).length });
    expect(position.report.lines).toBe(10);
    expect(follower.name).toBe(`follow:${file}`);
  });

  it('resumes the same file exactly where it stopped: every line counted once', async () => {
    const file = path.join(tempDir(), 'access.log');
    fs.writeFileSync(file, combinedLines(0, 10));
    const first = await readAll(file);
    fs.appendFileSync(file, combinedLines(10, 5));
    const second = await readAll(file, first.position);
    expect(second.index.stats().events).toBe(5);
    expect(second.follower.report.lines).toBe(15);
    expect(second.position.offset).toBe(fs.statSync(file).size);
    expect(second.follower.stats().resumeGap).toBeNull();
  });

  it('once resumed, notices a truncation rewritten to end at the offset with the same last bytes', async () => {
    const file = path.join(tempDir(), 'access.log');
    fs.writeFileSync(file, agentLine(1) + agentLine(2));
    const first = await readAll(file);
    const follower = start(newIndex(), file, { resume: first.position });
    await follower.poll();
    fs.truncateSync(file, 0);
    fs.appendFileSync(file, agentLine(3) + agentLine(4) + agentLine(5));
    await follower.poll();
    expect(follower.stats().truncations).toBe(1);
    expect(follower.report).toMatchObject({ lines: 5, accepted: 5, rejected: 0 });
  });

  it('after a rotation while stopped, reads the rest of the old file found by its identity, then the new one', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'access.log');
    fs.writeFileSync(file, combinedLines(0, 10));
    const first = await readAll(file);
    fs.appendFileSync(file, combinedLines(10, 3));
    fs.renameSync(file, path.join(dir, 'access.log.1'));
    fs.writeFileSync(file, combinedLines(13, 4));
    const second = await readAll(file, first.position);
    expect(second.index.stats().events).toBe(7);
    expect(second.follower.report.lines).toBe(17);
    expect(second.follower.stats()).toMatchObject({ rotations: 1, resumeGap: null });
    expect(second.position).toMatchObject({ ino: fs.statSync(file).ino, offset: fs.statSync(file).size });
    const expected = newIndex();
    expected.ingest(combinedLines(10, 7));
    expect(second.index.lastUsers('/p1')).toEqual(expected.lastUsers('/p1'));
  });

  it('says so when the stored file is gone: a resumeGap, and the current file from its start', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'access.log');
    fs.writeFileSync(file, combinedLines(0, 10));
    const first = await readAll(file);
    // A new file renamed over the old one (so it cannot reuse the freed inode).
    fs.writeFileSync(`${file}.new`, combinedLines(20, 4));
    fs.renameSync(`${file}.new`, file);
    const index = newIndex();
    const follower = start(index, file, { resume: first.position });
    const gaps: unknown[] = [];
    follower.on('resumeGap', (gap) => gaps.push(gap));
    await follower.poll();
    expect(index.stats().events).toBe(4);
    expect(follower.stats().resumeGap).toMatchObject({ reason: 'file-not-found', position: first.position });
    expect(follower.stats().resumeGap!.message).toMatch(/is gone; reading the current file from its start/);
    expect(gaps).toHaveLength(1);
  });

  it('says so when the file is shorter than the stored offset (truncated while stopped)', async () => {
    const file = path.join(tempDir(), 'access.log');
    fs.writeFileSync(file, combinedLines(0, 10));
    const first = await readAll(file);
    fs.writeFileSync(file, combinedLines(30, 2)); // same inode, shorter
    const second = await readAll(file, first.position);
    expect(second.index.stats().events).toBe(2);
    expect(second.follower.stats().resumeGap).toMatchObject({ reason: 'file-shorter' });
  });

  it('checks a position it is given', () => {
    const index = newIndex();
    expect(() => follow(index, '/tmp/x', { resume: { kind: 'jetstream' } as never })).toThrow("options.resume.kind must be 'follow'");
    expect(() => follow(index, '/tmp/x', { resume: { kind: 'follow', path: 'x', dev: 1, ino: 2, offset: -1 } as never })).toThrow(RangeError);
    expect(() => follow(index, '/tmp/x', { from: 'yesterday' })).toThrow(/options.from must be 'start', 'end' or a duration/);
    expect(() => follow(index, '/tmp/x', { from: '30m', fromSlack: 'x' })).toThrow(/options.fromSlack/);
  });
});

describe("follow({ from: '30m' })", () => {
  /** Lines a second apart over `seconds`, every 7th logged up to `disorder` ms late (written after later lines). */
  function nearlySortedLog(seconds: number, disorder: number): { text: string; times: number[] } {
    const lines: { ts: number; line: string }[] = [];
    for (let i = 0; i < seconds; i++) {
      const ts = T0 + i * 1000 - (i % 7 === 3 ? disorder : 0);
      lines.push({ ts, line: combinedLine(`u${i}`, `/p${i % 50}`, ts, i % 13 === 0 ? 404 : 200) });
    }
    return { text: lines.map((entry) => entry.line).join(''), times: lines.map((entry) => entry.ts) };
  }

  it('starts at the first line newer than the last time minus the window, without reading the whole file', async () => {
    const file = path.join(tempDir(), 'access.log');
    const { text, times } = nearlySortedLog(4 * 3600, 20_000);
    fs.writeFileSync(file, text);
    const index = newIndex();
    const follower = start(index, file, { from: '30m' });
    await follower.poll();
    const newest = Math.max(...times.filter((_, i) => i % 13 !== 0));
    const first = times.findIndex((ts) => ts >= newest - 30 * 60_000);
    expect(follower.report.lines).toBe(times.length - first);
    expect(follower.stats().bytes).toBeLessThan(fs.statSync(file).size / 4);
    const expected = newIndex();
    expected.ingest(text.split('\n').slice(first).join('\n'));
    expect(index.stats().events).toBe(expected.stats().events);
    expect(index.userPages(`u${times.length - 1}`)).toEqual(expected.userPages(`u${times.length - 1}`));
  });

  it('reads everything when the file is younger than the window, and from its start when it has no times', async () => {
    const dir = tempDir();
    const young = path.join(dir, 'young.log');
    fs.writeFileSync(young, combinedLines(0, 100));
    let follower = start(newIndex(), young, { from: '2h' });
    await follower.poll();
    expect(follower.report.lines).toBe(100);
    const junk = path.join(dir, 'junk.log');
    fs.writeFileSync(junk, 'no time here\nnor here\n');
    follower = start(newIndex(), junk, { from: '30m' });
    await follower.poll();
    expect(follower.report.lines).toBe(2);
  });
});
