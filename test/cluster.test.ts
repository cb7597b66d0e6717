// A cluster of real parts: a nats-server, three partitions as `skiptrail serve
// --partition I/3` processes (partition 1 with two replicas) each following the same
// log file through its native partition filter, and a `skiptrail gateway` process.
// Every answer, through connectCluster() and through the gateway, must equal one
// in-process index fed the same lines: a seeded workload with equal times (second
// resolution) and late events. Then replicas and partitions are killed and restarted.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterError, connectCluster, type ClusterClient } from '../src/cluster/index.js';
import { ActivityIndex, createClient, partitionOf } from '../src/index.js';
import { T0, combinedLine, freePort, startServe, waitFor, type Served } from './live-helpers.js';
import { ensureNatsServer, NATS_REQUIRED, NatsServer } from './nats-server.js';

const NATS_SERVER = ensureNatsServer();
const PARTITIONS = 3;
const USERS = 120;
const PAGES = 12;
// The 'watermark' clock: every shard and the one index answer as of the log's last
// line, not as of when each happened to read it (the 'stream' clock runs on with the wall).
const INDEX_FLAGS = ['--users-per-page', '8', '--user-window', '20m', '--presence-window', '5m', '--clock', 'watermark'];
const INDEX_OPTIONS = { usersPerPage: 8, userWindow: '20m', presenceWindow: '5m', clock: 'watermark' } as const;

/** A seeded workload: mostly in order, one event in 25 up to 30 minutes late, many equal seconds. */
function workload(count: number, seed: number): string {
  let state = seed;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state;
  };
  let text = '';
  for (let i = 0; i < count; i++) {
    const user = `10.0.${next() % USERS}.${next() % 3}`;
    const page = `/p${next() % PAGES}${next() % 5 === 0 ? '/x' : ''}`;
    const late = next() % 25 === 0 ? (next() % 1800) * 1000 : 0;
    text += combinedLine(user, page, T0 + Math.floor(i / 4) * 1000 - late, next() % 40 === 0 ? 404 : 200);
  }
  return text;
}

describe.skipIf(NATS_SERVER === null && !NATS_REQUIRED)('a cluster of three partitions on NATS', () => {
  let nats: NatsServer;
  let dir: string | undefined;
  let log: string;
  let lines: number;
  const whole = new ActivityIndex(INDEX_OPTIONS);
  const shards: { partition: number; served: Served }[] = [];
  let gateway: Served;
  let cluster: ClusterClient;

  const startShard = async (partition: number) => {
    const served = await startServe(['--follow', log, '--from', 'start', '--partition', `${partition}/${PARTITIONS}`, '--nats', nats.url, ...INDEX_FLAGS], {
      outlive: true,
    });
    await waitFor(async () => (await served.get('/stats')).body.ingest.lines, (value) => value === lines, { what: `partition ${partition} to read the log` });
    const shard = { partition, served };
    shards.push(shard);
    return shard;
  };
  const stopShard = async (shard: { served: Served }, signal: NodeJS.Signals) => {
    await shard.served.stop(signal);
    shards.splice(shards.indexOf(shard as (typeof shards)[number]), 1);
  };

  beforeAll(async () => {
    if (NATS_SERVER === null) throw new Error('nats-server is missing and scripts/ensure-nats.sh could not install it (CI is set, so this fails)');
    nats = new NatsServer(NATS_SERVER, await freePort());
    await nats.start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiptrail-cluster-'));
    log = path.join(dir, 'access.log');
    const text = workload(4000, 12);
    fs.writeFileSync(log, text);
    lines = text.split('\n').length - 1;
    whole.ingest(text);
    for (const partition of [0, 1, 1, 2]) await startShard(partition);
    gateway = await startServe(['--nats', nats.url, '--partitions', String(PARTITIONS), '--timeout', '1000'], { command: 'gateway', outlive: true });
    cluster = await connectCluster({ servers: nats.url, partitions: PARTITIONS, timeout: 1000 });
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
    await gateway?.stop();
    for (const shard of [...shards]) await shard.served.stop('SIGKILL');
    await nats?.stop();
    whole.close();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  const pages = () => Array.from({ length: PAGES }, (_, i) => [`/p${i}`, `/p${i}/x`]).flat();
  const users = () => Array.from({ length: USERS }, (_, i) => [0, 1, 2].map((j) => `10.0.${i}.${j}`)).flat();
  const enc = encodeURIComponent;

  async function expectExact(what: { gateway: boolean; every?: number }) {
    for (const page of pages()) {
      expect(await cluster.lastUsers(page)).toEqual(whole.lastUsers(page));
      expect(await cluster.lastUsers(page, 3)).toEqual(whole.lastUsers(page, 3));
      expect(await cluster.onlineUsers(page, 1000)).toEqual(whole.onlineUsers(page, 1000));
      expect(await cluster.onlineCount(page)).toBe(whole.onlineCount(page));
      if (what.gateway) {
        expect((await gateway.get(`/pages/${enc(page)}/users`)).body).toEqual({ page, users: whole.lastUsers(page) });
        expect((await gateway.get(`/pages/${enc(page)}/online?k=1000`)).body).toEqual({ page, count: whole.onlineCount(page), users: whole.onlineUsers(page, 1000) });
      }
    }
    const every = what.every ?? 1;
    const list = users().filter((_, i) => i % every === 0);
    for (const user of list) {
      expect(await cluster.userPages(user)).toEqual(whole.userPages(user));
      expect(await cluster.userPages(user, { window: '2m', limit: 3 })).toEqual(whole.userPages(user, { window: '2m', limit: 3 }));
      if (what.gateway) expect((await gateway.get(`/users/${enc(user)}/pages`)).body).toEqual({ user, pages: whole.userPages(user) });
    }
    expect(await cluster.onlineCount()).toBe(whole.onlineCount());
    const stats = await cluster.stats();
    expect(stats).toMatchObject({ users: whole.stats().users, events: whole.stats().events, watermark: whole.watermark, online: whole.stats().online });
    if (what.gateway) expect((await gateway.get('/online')).body).toEqual({ count: whole.onlineCount() });
  }

  it('answers every Q1, Q2 and Q3 exactly as one index, through connectCluster and the gateway', async () => {
    // Each shard read every line, indexed its own and counted the others.
    for (const { partition, served } of shards) {
      const stats = (await served.get('/stats')).body;
      expect(stats.ingest.lines).toBe(lines);
      expect(stats.ingest.reasons['other-partition']).toBeGreaterThan(0);
      expect(stats.index.watermark).toBe(whole.watermark);
      expect(stats.shard).toMatchObject({ partition, partitions: PARTITIONS, cluster: 'skiptrail' });
    }
    expect(whole.stats().late).toBeGreaterThan(0);
    await expectExact({ gateway: true });
  });

  it('stays complete when a replica dies, fails naming a dead partition, and is exact again after its restart', async () => {
    const replica = shards.filter((shard) => shard.partition === 1)[1]!;
    await stopShard(replica, 'SIGKILL');
    await expectExact({ gateway: true, every: 4 });

    const lost = shards.find((shard) => shard.partition === 2)!;
    await stopShard(lost, 'SIGTERM');
    const error = await cluster.lastUsers('/p1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    expect(error).toMatchObject({ code: 'EPARTITION', partitions: [2] });
    expect((error as Error).message).toMatch(/partition 2 has no shard running \(of 3 partitions\)/);
    const owner2 = users().find((user) => partitionOf(user, PARTITIONS) === 2)!;
    await expect(cluster.userPages(owner2)).rejects.toMatchObject({ code: 'EPARTITION' });
    const owner0 = users().find((user) => partitionOf(user, PARTITIONS) === 0)!;
    expect(await cluster.userPages(owner0)).toEqual(whole.userPages(owner0));
    const unavailable = await gateway.get('/pages/%2Fp1/users');
    expect(unavailable.status).toBe(503);
    expect(unavailable.body).toMatchObject({ code: 'EPARTITION', partitions: [2], error: expect.stringMatching(/partition 2 has no shard running/) });
    const partial = await connectCluster({ servers: nats.url, partitions: PARTITIONS, timeout: 1000, allowPartial: true });
    expect((await partial.lastUsers('/p1', 8)).missing).toEqual([2]);
    await partial.close();

    await startShard(2);
    await expectExact({ gateway: true, every: 2 });
  });

  it('records views written through createClient() and POST /views on the right partitions', async () => {
    const client = createClient({ url: gateway.url });
    const later = whole.watermark + 1000;
    const events = Array.from({ length: 90 }, (_, i) => ({ user: `writer${i % 30}`, page: `/w${i % 4}`, ts: later + Math.floor(i / 3) * 1000 }));
    expect(await client.recordMany(events)).toBe(90);
    const posted = await gateway.get('/views', {
      method: 'POST',
      body: '{"user":"poster","page":"/w1","ts":' + (later + 60_000) + '}\n{"user":"writer3","page":"/p2","ts":' + (later + 61_000) + '}\n',
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(posted).toMatchObject({ status: 200, body: { recorded: 2 } });
    whole.recordMany(events);
    whole.recordMany([
      { user: 'poster', page: '/w1', ts: later + 60_000 },
      { user: 'writer3', page: '/p2', ts: later + 61_000 },
    ]);
    const expectedEvents = whole.stats().events;
    await waitFor(async () => (await cluster.stats()).events, (value) => value >= expectedEvents - 0, { what: 'the writes to reach every partition' });
    // Each replica holds only its partition's writers.
    for (const { partition, served } of shards) {
      for (const writer of ['poster', 'writer3', 'writer7']) {
        const rows = (await served.get(`/users/${writer}/pages`)).body.pages;
        expect(rows.length > 0).toBe(partitionOf(writer, PARTITIONS) === partition);
      }
    }
    for (const page of ['/w0', '/w1', '/w2', '/w3', '/p2']) {
      expect(await client.lastUsers(page)).toEqual(whole.lastUsers(page));
      expect(await client.onlineUsers(page, 100)).toEqual(whole.onlineUsers(page, 100));
    }
    for (let i = 0; i < 30; i++) expect(await client.userPages(`writer${i}`)).toEqual(whole.userPages(`writer${i}`));
    expect(await client.userPages('poster')).toEqual(whole.userPages('poster'));
    expect(await cluster.onlineCount()).toBe(whole.onlineCount());
    await client.close();
  });

  it('refuses a gateway or client whose partition count differs from the shards\'', async () => {
    const wrong = await connectCluster({ servers: nats.url, partitions: 2, timeout: 1000 });
    await expect(wrong.onlineCount()).rejects.toMatchObject({ code: 'EPARTITIONS' });
    await expect(wrong.onlineCount()).rejects.toThrow(/belongs to a cluster of 3 partitions, but the query expects 2/);
    await wrong.close();
  });
});
