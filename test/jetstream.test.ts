// subscribeJetStream() and serve --jetstream against a real nats-server with JetStream
// (-js, stored in a temp folder), started and stopped by PID on 127.0.0.1 and a random
// port. Like test/nats.test.ts, it is skipped when nats-server is missing, except under
// CI=true, where it fails.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ActivityIndex } from '../src/index.js';
import { subscribeJetStream } from '../src/sources/index.js';
import { freePort, startServe, tempDir, waitFor, type Served } from './live-helpers.js';
import { NATS_REQUIRED, NatsServer, findNatsServer } from './nats-server.js';

const NATS_SERVER = findNatsServer();
const MUST_RUN = NATS_REQUIRED;

/** NDJSON lines first .. first + count - 1: user u<i>, page /p<i % 7>, a second apart ending `base`. */
function lines(first: number, count: number, base: number): string[] {
  return Array.from({ length: count }, (_, k) => {
    const i = first + k;
    return JSON.stringify({ user: `u${i}`, page: `/p${i % 7}`, ts: base - 60_000 + i * 100 });
  });
}

describe.skipIf(NATS_SERVER === null && !MUST_RUN)('JetStream', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  const base = Date.now();

  beforeAll(async () => {
    if (NATS_SERVER === null) throw new Error('nats-server is missing: run scripts/ensure-nats.sh');
    const dir = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'skiptrail-js-'));
    server = new NatsServer(NATS_SERVER, await freePort(), dir);
    await server.start();
    nc = await connect({ servers: server.url, name: 'test publisher' });
  });

  afterAll(async () => {
    await nc?.close();
    await server?.stop('SIGTERM');
    if (server?.jetStreamDir !== undefined) fs.rmSync(server.jetStreamDir, { recursive: true, force: true });
  });

  async function newStream(name: string): Promise<(subject: string, messages: string[]) => Promise<void>> {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name, subjects: [`${name}.>`] });
    const js = nc.jetstream();
    return async (subject, messages) => {
      for (const message of messages) await js.publish(subject, Buffer.from(message)); // acknowledged: stored
    };
  }

  it('resumes after the stored sequence: every message once', async () => {
    const publish = await newStream('RESUME');
    await publish('RESUME.a', lines(0, 20, base));
    const first = new ActivityIndex();
    onTestFinished(() => first.close());
    const source = await subscribeJetStream(first, { servers: server.url, stream: 'RESUME', format: 'ndjson' });
    await waitFor(() => source.report.lines, (n) => n === 20, { what: '20 lines' });
    await waitFor(() => source.position().sequence, (sequence) => sequence === 20, { what: 'sequence 20' });
    await source.close();
    expect(source.name).toBe('jetstream:RESUME');
    const position = source.position();
    expect(position).toMatchObject({ kind: 'jetstream', stream: 'RESUME', subject: null, sequence: 20, report: { lines: 20 } });

    await publish('RESUME.a', lines(20, 10, base));
    const second = new ActivityIndex();
    onTestFinished(() => second.close());
    const resumed = await subscribeJetStream(second, { servers: server.url, stream: 'RESUME', format: 'ndjson', resume: position });
    await waitFor(() => resumed.report.lines, (n) => n === 30, { what: '30 lines in all' });
    expect(second.stats().events).toBe(10);
    expect(resumed.stats()).toMatchObject({ sequence: 30, resumeGap: null });
    await resumed.close();
  });

  it('without a position, replays the window by start time, and filters by subject', async () => {
    const publish = await newStream('WINDOW');
    await publish('WINDOW.old', lines(0, 5, base));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await publish('WINDOW.new', lines(5, 6, base));
    await publish('WINDOW.other', lines(11, 3, base));
    const index = new ActivityIndex();
    onTestFinished(() => index.close());
    const source = await subscribeJetStream(index, { servers: server.url, stream: 'WINDOW', format: 'ndjson', replayWindow: '1s' });
    await waitFor(() => source.report.lines, (n) => n === 9, { what: 'the last second of the stream' });
    await source.close();
    const filtered = new ActivityIndex();
    onTestFinished(() => filtered.close());
    const only = await subscribeJetStream(filtered, { servers: server.url, stream: 'WINDOW', subject: 'WINDOW.new', format: 'ndjson', replayWindow: '1h' });
    await waitFor(() => only.report.lines, (n) => n === 6, { what: 'WINDOW.new only' });
    expect(only.name).toBe('jetstream:WINDOW:WINDOW.new');
    await only.close();
  });

  it('checks its options', async () => {
    const index = new ActivityIndex();
    onTestFinished(() => index.close());
    await expect(subscribeJetStream(index, { stream: '' } as never)).rejects.toThrow('options.stream must be a non-empty string');
    await expect(subscribeJetStream(index, { stream: 'X', resume: { kind: 'follow' } } as never)).rejects.toThrow("options.resume.kind must be 'jetstream'");
    await expect(subscribeJetStream(index, { stream: 'X', replayWindow: 'soon' } as never)).rejects.toThrow(RangeError);
  });

  async function servedLines(served: Served): Promise<number> {
    return (await served.get('/stats')).body.ingest.lines;
  }

  it('serve --jetstream --snapshot: kill -9, publish more, restart: exact; a fresh process fills its window', async () => {
    const publish = await newStream('SERVE');
    const dir = tempDir();
    const snapshot = path.join(dir, 'index.snap');
    const args = ['--nats', server.url, '--jetstream', 'SERVE', '--format', 'ndjson', '--snapshot', snapshot, '--snapshot-interval', '100ms'];
    await publish('SERVE.a', lines(0, 25, base));
    let served = await startServe(args);
    await waitFor(() => servedLines(served), (n) => n === 25, { what: '25 lines served' });
    const saved = await waitFor(() => (fs.existsSync(snapshot) ? fs.statSync(snapshot).mtimeMs : 0), (mtime) => mtime > 0, { what: 'a snapshot' });
    await waitFor(() => fs.statSync(snapshot).mtimeMs, (mtime) => mtime > saved, { what: 'the next snapshot' });
    await publish('SERVE.a', lines(25, 5, base));
    await waitFor(() => servedLines(served), (n) => n === 30, { what: '30 lines served' });
    expect(await served.stop('SIGKILL')).toBe(null);

    await publish('SERVE.a', lines(30, 8, base));
    served = await startServe(args);
    expect(served.stderr()).toMatch(/after sequence \d+/);
    await waitFor(() => servedLines(served), (n) => n === 38, { what: 'every line once' });
    const expected = new ActivityIndex();
    onTestFinished(() => expected.close());
    expected.ingest(lines(0, 38, base).join('\n'), { format: 'ndjson' });
    const stats = (await served.get('/stats')).body;
    expect(stats.index.events).toBe(38);
    for (const page of ['/p0', '/p3', '/p6']) {
      expect((await served.get(`/pages/${encodeURIComponent(page)}/users`)).body.users).toEqual(expected.lastUsers(page));
    }
    expect(stats.sources[0]).toMatchObject({ name: 'jetstream:SERVE', stream: 'SERVE', sequence: 38 });
    expect(await served.stop('SIGTERM')).toBe(0);

    // A fresh replica, no snapshot: the window from the stream by start time.
    const fresh = await startServe(['--nats', server.url, '--jetstream', 'SERVE', '--format', 'ndjson']);
    await waitFor(() => servedLines(fresh), (n) => n === 38, { what: 'the fresh replica to fill its window' });
    expect(await fresh.stop('SIGTERM')).toBe(0);
  });
});
