// A partitioned cluster on JetStream, with real processes: shards that replay their own
// partition after a restart (the raw lines of a stream through their filter; the
// publisher's S.<p> and the views written to C.views.<p> from a stream that captures
// them, after a snapshot's sequence where there is one), and a publisher killed with
// SIGKILL mid-stream and restarted that loses and doubles nothing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectCluster } from '../src/cluster/index.js';
import { ActivityIndex } from '../src/index.js';
import { INDEX_FLAGS, INDEX_OPTIONS, PAGES, startPublisher, USERS, workload } from './cluster-helpers.js';
import { freePort, runCli, startServe, waitFor, type Served } from './live-helpers.js';
import { ensureNatsServer, NATS_REQUIRED, NatsServer } from './nats-server.js';

const NATS_SERVER = ensureNatsServer();
const MISSING = 'nats-server is missing and scripts/ensure-nats.sh could not install it (CI is set, so this fails)';

/**
 * Starts `nats`, makes the stream LOGS on `weblogs` and publishes `count` workload lines
 * (seed `seed`) in messages of `perMessage` lines; `whole` is one index of the same lines.
 */
async function streamOfLines(nats: NatsServer, count: number, seed: number, perMessage: number) {
  await nats.start();
  const { connect } = await import('nats');
  const nc = await connect({ servers: nats.url });
  await (await nc.jetstreamManager()).streams.add({ name: 'LOGS', subjects: ['weblogs'] });
  const js = nc.jetstream();
  const text = workload(count, seed);
  for (const chunk of text.match(new RegExp(`(?:.*\\n){1,${perMessage}}`, 'g'))!) await js.publish('weblogs', Buffer.from(chunk));
  const whole = new ActivityIndex(INDEX_OPTIONS);
  whole.ingest(text);
  return { nc, whole };
}

describe.skipIf(NATS_SERVER === null && !NATS_REQUIRED)('shards on a JetStream stream', () => {
  it('replay their own partition after a restart (serve --jetstream --partition)', async () => {
    if (NATS_SERVER === null) throw new Error(MISSING);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiptrail-js-cluster-'));
    const nats = new NatsServer(NATS_SERVER, await freePort(), dir);
    const started: Served[] = [];
    try {
      const { nc, whole } = await streamOfLines(nats, 1500, 21, 100);
      const shard = async (partition: number) => {
        const served = await startServe(['--nats', nats.url, '--jetstream', 'LOGS', '--subject', 'weblogs', '--partition', `${partition}/2`, ...INDEX_FLAGS], { outlive: true });
        started.push(served);
        await waitFor(async () => (await served.get('/stats')).body.index.watermark, (value) => value === whole.watermark, { what: `partition ${partition} to replay` });
        await served.ready();
        return served;
      };
      await shard(0);
      const second = await shard(1);
      const cluster = await connectCluster({ servers: nats.url, partitions: 2 });
      const check = async () => {
        for (let p = 0; p < PAGES; p++) expect(await cluster.lastUsers(`/p${p}`)).toEqual(whole.lastUsers(`/p${p}`));
        for (let u = 0; u < USERS; u += 2) expect(await cluster.userPages(`10.0.${u}.1`)).toEqual(whole.userPages(`10.0.${u}.1`));
        expect(await cluster.onlineCount()).toBe(whole.onlineCount());
      };
      await check();
      await second.stop('SIGKILL');
      await expect(cluster.onlineCount()).rejects.toMatchObject({ code: 'EPARTITION', partitions: [1] });
      await shard(1); // replays the stream through its filter
      await check();
      await cluster.close();
      await nc.close();
      whole.close();
    } finally {
      for (const served of started) await served.stop('SIGKILL');
      await nats.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(NATS_SERVER === null && !NATS_REQUIRED)('a shard replaying a JetStream stream', () => {
  it('answers no query and is not ready until it holds what the stream held at start', async () => {
    if (NATS_SERVER === null) throw new Error(MISSING);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiptrail-js-replay-'));
    const nats = new NatsServer(NATS_SERVER, await freePort(), dir);
    let served: Served | null = null;
    try {
      // Long enough that the replay spans many turns of the shard's event loop.
      const { nc, whole } = await streamOfLines(nats, 300_000, 7, 2000);
      const cluster = await connectCluster({ servers: nats.url, partitions: 1, timeout: 250 });
      served = await startServe(['--nats', nats.url, '--jetstream', 'LOGS', '--subject', 'weblogs', '--partition', '0/1', ...INDEX_FLAGS], { outlive: true });
      // Every answer while it replays is either complete or EPARTITION (no replica in the
      // query group yet); /readyz turns 200 only with every view held.
      for (;;) {
        const ready = (await served.get('/readyz')).status;
        try {
          expect(await cluster.lastUsers('/p3')).toEqual(whole.lastUsers('/p3'));
        } catch (error) {
          if ((error as { code?: string }).code !== 'EPARTITION') throw error;
          expect(ready).toBe(503);
        }
        if (ready === 200) break;
      }
      expect((await served.get('/stats')).body.index.events).toBe(whole.stats().events);
      expect(served.stderr()).toMatch(/shard: answering partition 0 of 1/);
      await cluster.close();
      await nc.close();
      whole.close();
    } finally {
      await served?.stop('SIGKILL');
      await nats.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(NATS_SERVER === null && !NATS_REQUIRED)('a cluster fed by a JetStream publisher and JetStream writes', () => {
  it('loses and doubles nothing across a publisher killed mid-stream, a shard killed, and a shard restarted from its snapshot', async () => {
    if (NATS_SERVER === null) throw new Error(MISSING);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiptrail-js-publish-'));
    const nats = new NatsServer(NATS_SERVER, await freePort(), path.join(dir, 'store'));
    const started: Served[] = [];
    const publishers: ReturnType<typeof startPublisher>[] = [];
    const whole = new ActivityIndex(INDEX_OPTIONS);
    try {
      await nats.start();
      const { connect } = await import('nats');
      const nc = await connect({ servers: nats.url });
      const jsm = await nc.jetstreamManager();
      // At first the stream takes partition 0's subject only: partition 1's messages fail.
      await jsm.streams.add({ name: 'LOGS', subjects: ['logs.0', 'skiptrail.views.>'] });
      const log = path.join(dir, 'access.log');
      const first = workload(16_000, 31);
      fs.writeFileSync(log, first);
      whole.ingest(first);

      const snapshot = path.join(dir, 'shard0.snap');
      const shardArgs = (partition: number) => [
        '--nats', nats.url, '--jetstream', 'LOGS', '--subject', 'logs', '--partition', `${partition}/2`, ...INDEX_FLAGS,
        ...(partition === 0 ? ['--snapshot', snapshot, '--snapshot-interval', '1h'] : []),
      ];
      const shards: Served[] = [];
      const startShard = async (partition: number) => {
        const served = await startServe(shardArgs(partition), { outlive: true });
        started.push(served);
        shards[partition] = served;
        await served.ready();
        return served;
      };
      const events = async () => (await Promise.all(shards.map(async (served) => (await served.get('/stats')).body.index.events))).reduce((a, b) => a + b, 0);
      const publish = () => {
        const publisher = startPublisher(['--follow', log, '--from', 'start', '--nats', nats.url, '--subject', 'logs', '--partitions', '2', '--jetstream']);
        publishers.push(publisher);
        return publisher;
      };
      // Every message the stream holds for partition p has been handled by its shard.
      const settled = async () => {
        for (let partition = 0; partition < 2; partition++) {
          const last = await jsm.streams.getMessage('LOGS', { last_by_subj: `logs.${partition}` });
          await waitFor(
            async () => {
              const sources = (await shards[partition]!.get('/stats')).body.sources;
              const feed = sources.find((source: { name: string }) => source.name === `jetstream:LOGS:logs.${partition}`);
              if (feed === undefined) throw new Error(JSON.stringify(sources));
              return feed.sequence;
            },
            (sequence) => sequence === last.seq,
            { what: `partition ${partition} to read the stream to ${last.seq}` },
          );
        }
      };

      // Killed without warning mid-stream, once partition 0 has views that partition 1 lacks
      // (as when a publisher dies between its messages to the two partitions of a batch).
      let publisher = publish();
      await waitFor(() => publisher.stderr(), (text) => /logs\.1 did not store \d+ views/.test(text), { what: 'a batch refused for partition 1' });
      expect((await publisher.stop('SIGKILL')).code).toBe(null);
      expect((await jsm.streams.info('LOGS')).state.messages).toBeGreaterThan(0);
      await jsm.streams.update('LOGS', { subjects: ['logs.>', 'skiptrail.views.>'] });
      const more = workload(2000, 32).replaceAll('10.0.', '10.1.');
      fs.appendFileSync(log, more);
      whole.ingest(more);
      // Restarted with --from start: the stream's positions win.
      publisher = publish();
      await waitFor(() => publisher.stderr(), (text) => /resuming at byte \d+, where the stream LOGS has it to/.test(text), { what: 'the publisher to resume' });
      // The shards replay what the stream holds, then follow it.
      await startShard(0);
      await startShard(1);
      await waitFor(events, (count) => count >= whole.stats().events, { what: 'every view to reach the shards' });
      const { code, stderr } = await publisher.stop();
      expect(code).toBe(0);
      expect(stderr).toMatch(/views published in \d+ messages, 0 undelivered/);
      await settled();
      expect(await events()).toBe(whole.stats().events); // none twice
      const cluster = await connectCluster({ servers: nats.url, partitions: 2, jetstream: true });
      const check = async () => {
        for (let p = 0; p < PAGES; p++) {
          for (const page of [`/p${p}`, `/p${p}/x`, '/w']) {
            expect(await cluster.lastUsers(page)).toEqual(whole.lastUsers(page));
            expect(await cluster.onlineUsers(page, 500)).toEqual(whole.onlineUsers(page, 500));
          }
        }
        for (let u = 0; u < USERS; u += 3) {
          for (const user of [`10.0.${u}.0`, `10.1.${u}.2`, `w${u}`]) expect(await cluster.userPages(user)).toEqual(whole.userPages(user));
        }
        expect(await cluster.onlineCount()).toBe(whole.onlineCount());
        expect(await events()).toBe(whole.stats().events);
      };
      await check();

      // Views written through JetStream (the client and a gateway), then a shard killed and restarted: it replays them.
      const later = whole.watermark + 1000;
      const written = Array.from({ length: 60 }, (_, i) => ({ user: `w${i % 40}`, page: '/w', ts: later + i * 1000 }));
      expect(await cluster.recordMany(written.slice(0, 30))).toBe(30);
      const gateway = await startServe(['--nats', nats.url, '--partitions', '2', '--jetstream'], { command: 'gateway', outlive: true });
      started.push(gateway);
      const posted = await gateway.get('/views', { method: 'POST', body: written.slice(30).map((event) => JSON.stringify(event)).join('\n'), headers: { 'content-type': 'application/x-ndjson' } });
      expect(posted).toMatchObject({ status: 200, body: { recorded: 30 } });
      whole.recordMany(written);
      await waitFor(events, (count) => count === whole.stats().events, { what: 'the written views' });
      await shards[1]!.stop('SIGKILL');
      await startShard(1);
      await waitFor(events, (count) => count === whole.stats().events, { what: 'partition 1 to replay its partition' });
      await check();

      // Partition 0 stops (its snapshot stores the stream sequences), misses writes, resumes after them.
      expect(await shards[0]!.stop('SIGTERM')).toBe(0);
      const missed = Array.from({ length: 20 }, (_, i) => ({ user: `w${i}`, page: '/w', ts: later + 100_000 + i * 1000 }));
      await cluster.recordMany(missed);
      whole.recordMany(missed);
      const restarted = await startShard(0);
      expect(restarted.stderr()).toMatch(/reading the views written to this partition from JetStream stream LOGS \(skiptrail\.views\.0\), after sequence \d+/);
      await waitFor(events, (count) => count === whole.stats().events, { what: 'partition 0 to resume' });
      await check();

      // No stream for the subjects: said at once.
      const refused = await runCli(['publish', '--follow', log, '--nats', nats.url, '--subject', 'other', '--partitions', '2', '--jetstream']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/no JetStream stream captures other\.<p>/);
      await cluster.close();
      await nc.close();
    } finally {
      for (const publisher of publishers) await publisher.stop('SIGKILL');
      for (const served of started) await served.stop('SIGKILL');
      await nats.stop();
      whole.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
