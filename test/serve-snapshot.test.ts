// skiptrail serve --snapshot: real processes stopped with SIGTERM or killed with
// SIGKILL, files appended and rotated while they are down; after each restart every
// line is counted once and every answer equals one uninterrupted index over the same
// lines.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ActivityIndex } from '../src/index.js';
import { T0, combinedLines, runCli, startServe, tempDir, waitFor, type Served } from './live-helpers.js';

const PAGES = ['/p0', '/p1', '/p2', '/p3', '/p4', '/p5', '/p6'];

async function stats(served: Served) {
  return (await served.get('/stats')).body;
}

function waitForLines(served: Served, lines: number) {
  return waitFor(async () => (await stats(served)).ingest.lines, (value) => value === lines, { what: `${lines} lines ingested` });
}

/** Every line written, in one library index: the answers to expect. */
function expectedIndex(text: string): ActivityIndex {
  const index = new ActivityIndex({ now: () => T0 + 3_600_000 });
  index.ingest(text);
  return index;
}

/** Q1 for every page, Q2 for a few users at a fixed `now`, and the event count, as served. */
async function expectSameAnswers(served: Served, text: string, users: string[]): Promise<void> {
  const expected = expectedIndex(text);
  const now = expected.watermark;
  for (const page of PAGES) {
    expect((await served.get(`/pages/${encodeURIComponent(page)}/users?k=30`)).body.users).toEqual(expected.lastUsers(page, 30));
  }
  for (const user of users) {
    expect((await served.get(`/users/${user}/pages?now=${now}`)).body.pages).toEqual(expected.userPages(user, { now }));
  }
  expect((await stats(served)).index.events).toBe(expected.stats().events);
  expected.close();
}

function serveArgs(file: string, snapshot: string, more: string[] = []): string[] {
  return ['--follow', file, '--from', 'start', '--poll-interval', '50ms', '--snapshot', snapshot, ...more];
}

/** A log of `lines` lines in a new folder, and a server with a snapshot file there that has read them all. */
async function serveNewLog(lines: number, more: string[] = []) {
  const dir = tempDir();
  const file = path.join(dir, 'access.log');
  const snapshot = path.join(dir, 'index.snap');
  fs.writeFileSync(file, combinedLines(0, lines));
  const served = await startServe(serveArgs(file, snapshot, more));
  await waitForLines(served, lines);
  return { file, snapshot, served };
}

describe('skiptrail serve --snapshot', () => {
  it('SIGTERM saves; lines appended while down are read once after the restart', async () => {
    const { file, snapshot, served: first } = await serveNewLog(20);
    expect(await first.stop('SIGTERM')).toBe(0);
    expect(first.stderr()).toMatch(/snapshot .*index\.snap: saved \(\d+ bytes/);
    expect(fs.existsSync(snapshot)).toBe(true);

    fs.appendFileSync(file, combinedLines(20, 10));
    const served = await startServe(serveArgs(file, snapshot));
    expect(served.stderr()).toMatch(/snapshot .*: loaded in \d+ ms .*: 20 events/);
    expect(served.stderr()).toMatch(/resuming at byte \d+/);
    await waitForLines(served, 30);
    fs.appendFileSync(file, combinedLines(30, 5));
    await waitForLines(served, 35);
    await expectSameAnswers(served, combinedLines(0, 35), ['u3', 'u25', 'u34']);
    const body = await stats(served);
    expect(body.sources[0]).toMatchObject({ report: { lines: 35, accepted: 35 } });
    expect(await served.stop('SIGTERM')).toBe(0);
  });

  it('reads the rest of a file rotated while down, then the new file', async () => {
    const { file, snapshot, served: first } = await serveNewLog(20);
    expect(await first.stop('SIGTERM')).toBe(0);

    // Down: the writer appends, logrotate renames, the writer reopens a new file.
    fs.appendFileSync(file, combinedLines(20, 6));
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, combinedLines(26, 8));
    const served = await startServe(serveArgs(file, snapshot));
    await waitForLines(served, 34);
    fs.appendFileSync(file, combinedLines(34, 3));
    await waitForLines(served, 37);
    await expectSameAnswers(served, combinedLines(0, 37), ['u1', 'u22', 'u30', 'u36']);
    expect((await stats(served)).sources[0]).toMatchObject({ rotations: 1 });
    expect(await served.stop('SIGTERM')).toBe(0);
  });

  it('after kill -9, comes back from the last periodic snapshot and re-reads from its offset', async () => {
    const { file, snapshot, served: first } = await serveNewLog(25, ['--snapshot-interval', '200ms']);
    await waitFor(async () => (await stats(first)).snapshot, (status) => status.saves >= 1, { what: 'a periodic snapshot' });
    // Wait for a save that holds all 25 lines: the file's offset is then at its end.
    const saved = fs.statSync(snapshot).mtimeMs;
    await waitFor(() => fs.statSync(snapshot).mtimeMs, (mtime) => mtime > saved, { what: 'the next periodic snapshot' });
    fs.appendFileSync(file, combinedLines(25, 10)); // read, maybe saved, maybe not
    await waitForLines(first, 35);
    expect(await first.stop('SIGKILL')).toBe(null);

    fs.appendFileSync(file, combinedLines(35, 5));
    const served = await startServe(serveArgs(file, snapshot));
    await waitForLines(served, 40);
    await expectSameAnswers(served, combinedLines(0, 40), ['u0', 'u27', 'u39']);
    expect(await served.stop('SIGTERM')).toBe(0);
  });

  it('shows the last snapshot in /stats and /metrics', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'access.log');
    fs.writeFileSync(file, combinedLines(0, 5));
    const served = await startServe(serveArgs(file, path.join(dir, 'index.snap'), ['--snapshot-interval', '100ms']));
    await waitFor(async () => (await stats(served)).snapshot, (status) => status.saves >= 1, { what: 'a periodic snapshot' });
    const status = (await stats(served)).snapshot;
    expect(status).toMatchObject({ path: path.join(dir, 'index.snap'), intervalSeconds: 0.1, failures: 0, lastError: null });
    expect(status.lastBytes).toBeGreaterThan(100);
    expect(status.ageSeconds).toBeGreaterThanOrEqual(0);
    expect(Date.parse(status.lastSavedAt)).toBeGreaterThan(Date.now() - 60_000);
    const metrics = (await served.get('/metrics')).body as string;
    for (const name of ['saves_total', 'failures_total', 'last_success_timestamp_seconds', 'age_seconds', 'bytes', 'duration_seconds']) {
      expect(metrics).toMatch(new RegExp(`^skiptrail_snapshot_${name} [0-9.e+-]+$`, 'm'));
    }
    expect(await served.stop('SIGTERM')).toBe(0);
  });

  it('exits 2 on a bad snapshot file, or starts empty with --snapshot-on-error ignore', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'access.log');
    const snapshot = path.join(dir, 'index.snap');
    fs.writeFileSync(file, combinedLines(0, 5));
    fs.writeFileSync(snapshot, 'not a snapshot\n');
    const failed = await runCli(['serve', '--port', '0', ...serveArgs(file, snapshot)]);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/--snapshot .*index\.snap: not a skiptrail snapshot.*\(ENOTSNAPSHOT\)/);

    const served = await startServe(serveArgs(file, snapshot, ['--snapshot-on-error', 'ignore']));
    expect(served.stderr()).toMatch(/ENOTSNAPSHOT\); starting empty \(--snapshot-on-error ignore\)/);
    await waitForLines(served, 5);
    expect(await served.stop('SIGTERM')).toBe(0);
    // The bad file was replaced by a good snapshot on the way out.
    const loaded = await ActivityIndex.load(snapshot);
    expect(loaded.stats().events).toBe(5);
    loaded.close();

    const mismatch = await runCli(['serve', '--port', '0', ...serveArgs(file, snapshot, ['--users-per-page', '5'])]);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/EOPTIONS/);
    const usage = await runCli(['serve', '--follow', file, '--snapshot-interval', '5s']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--snapshot-interval and --snapshot-on-error need --snapshot FILE/);
  });
});
