// A cluster of real parts: a nats-server with JetStream, a `skiptrail publish` process
// splitting a log file into a stream's logs.<p>, three partitions as `skiptrail serve
// --jetstream LOGS --partition I/3` processes (partition 1 with two replicas), each
// reading its own logs.<I>, and a `skiptrail gateway` process.
// Every answer, through connectCluster() and through the gateway, must equal one
// in-process index fed the same lines: a seeded workload with equal times (second
// resolution) and late events. Then replicas and partitions are killed and restarted.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterError, connectCluster, type ClusterClient } from '../src/cluster/index.js';
import { ActivityIndex, createClient, partitionOf } from '../src/index.js';
import { INDEX_FLAGS, INDEX_OPTIONS, PAGES, startPublisher, USERS, workload } from './cluster-helpers.js';
import { freePort, runCli, startServe, waitFor, type Served } from './live-helpers.js';
import { ensureNatsServer, NATS_REQUIRED, NatsServer } from './nats-server.js';

const NATS_SERVER = ensureNatsServer();
const PARTITIONS = 3;

describe.skipIf(NATS_SERVER === null && !NATS_REQUIRED)('a cluster of three partitions on NATS', () => {
  let nats: NatsServer;
  let dir: string | undefined;
  let log: string;
  /** The events each partition indexes from the log: one index per partition, fed through its filter. */
  let ownEvents: number[];
  let publisher: ReturnType<typeof startPublisher> | undefined;
  const whole = new ActivityIndex(INDEX_OPTIONS);
  const shards: { partition: number; served: Served }[] = [];
  let gateway: Served;
  let cluster: ClusterClient;

  const startShard = async (partition: number) => {
    const served = await startServe(['--nats', nats.url, '--jetstream', 'LOGS', '--subject', 'logs', '--partition', `${partition}/${PARTITIONS}`, ...INDEX_FLAGS], {
      outlive: true,
    });
    // It replays (or, started before the publisher finished, follows) its own logs.<I>.
    await waitFor(async () => (await served.get('/stats')).body.index, (index) => index.events === ownEvents[partition] && index.watermark === whole.watermark, {
      what: `partition ${partition} to read its views`,
    });
    await served.ready();
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
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiptrail-cluster-'));
    nats = new NatsServer(NATS_SERVER, await freePort(), path.join(dir, 'store'));
    await nats.start();
    const { connect } = await import('nats');
    const nc = await connect({ servers: nats.url });
    await (await nc.jetstreamManager()).streams.add({ name: 'LOGS', subjects: ['logs.>', 'skiptrail.views.>'] });
    await nc.close();
    log = path.join(dir, 'access.log');
    const text = workload(4000, 12);
    fs.writeFileSync(log, text);
    whole.ingest(text);
    ownEvents = Array.from({ length: PARTITIONS }, (_, index) => {
      const own = new ActivityIndex(INDEX_OPTIONS);
      own.ingest(text, { partition: { index, count: PARTITIONS } });
      const { events } = own.stats();
      own.close();
      return events;
    });
    publisher = startPublisher(['--follow', log, '--from', 'start', '--nats', nats.url, '--subject', 'logs', '--partitions', String(PARTITIONS), '--jetstream']);
    for (const partition of [0, 1, 1, 2]) await startShard(partition);
    gateway = await startServe(['--nats', nats.url, '--partitions', String(PARTITIONS), '--timeout', '1000'], { command: 'gateway', outlive: true });
    cluster = await connectCluster({ servers: nats.url, partitions: PARTITIONS, timeout: 1000 });
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
    await gateway?.stop();
    await publisher?.stop('SIGKILL');
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
    // Each shard received its own partition's views only, through the stream.
    for (const { partition, served } of shards) {
      const stats = (await served.get('/stats')).body;
      const feed = stats.sources.find((source: { name: string }) => source.name === `jetstream:LOGS:logs.${partition}`);
      expect(feed.report.accepted).toBe(ownEvents[partition]);
      expect(feed.report.reasons['other-partition'] ?? 0).toBe(0);
      expect(stats.index.watermark).toBe(whole.watermark);
      expect(stats.shard).toMatchObject({ partition, partitions: PARTITIONS, cluster: 'skiptrail' });
    }
    expect(ownEvents.reduce((a, b) => a + b, 0)).toBe(whole.stats().events);
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
    expect(await gateway.get('/readyz')).toMatchObject({ status: 503, body: { waiting: ['partition 2'] } });
    expect((await gateway.get('/healthz')).status).toBe(200);
    const partial = await connectCluster({ servers: nats.url, partitions: PARTITIONS, timeout: 1000, allowPartial: true });
    expect((await partial.lastUsers('/p1', 8)).missing).toEqual([2]);
    await partial.close();

    await startShard(2);
    expect(await gateway.get('/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    await expectExact({ gateway: true, every: 2 });
  });

  it('requires the bearer token of --auth-token-file on a gateway', async () => {
    const tokenFile = path.join(dir!, 'token');
    fs.writeFileSync(tokenFile, 's3cret\n');
    const guarded = await startServe(['--nats', nats.url, '--partitions', String(PARTITIONS), '--auth-token-file', tokenFile], { command: 'gateway' });
    expect((await guarded.get('/pages/%2Fp1/users')).status).toBe(401);
    expect((await guarded.get('/healthz')).status).toBe(200);
    const authorized = { headers: { authorization: 'Bearer s3cret' } };
    expect((await guarded.get('/pages/%2Fp1/users', authorized)).body).toEqual({ page: '/p1', users: whole.lastUsers('/p1') });
    expect((await guarded.get('/readyz', authorized)).status).toBe(200);
    fs.writeFileSync(tokenFile, 'other\n');
    guarded.child.kill('SIGHUP');
    await waitFor(() => guarded.stderr(), (text) => text.includes('SIGHUP: re-reading the token file'), { what: 'SIGHUP' });
    expect((await guarded.get('/online', { headers: { authorization: 'Bearer other' } })).status).toBe(200);
    expect(await guarded.stop()).toBe(0);
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
    // At start: the running shards announce their N.
    const atStart = await connectCluster({ servers: nats.url, partitions: 2, timeout: 1000 }).catch((e: unknown) => e);
    expect(atStart).toBeInstanceOf(ClusterError);
    expect(atStart).toMatchObject({ code: 'EPARTITIONS', partitions: [0, 1, 2] });
    expect((atStart as Error).message).toMatch(/has shards started with 3 partitions .* but this client expects 2/);
    const gatewayRun = await runCli(['gateway', '--nats', nats.url, '--partitions', '4', '--port', '0']);
    expect(gatewayRun.code).toBe(1);
    expect(gatewayRun.stderr).toMatch(/has shards started with 3 partitions .* but this client expects 4/);
  });
});

describe.skipIf(NATS_SERVER === null && !NATS_REQUIRED)('skiptrail publish to two partitions', () => {
  let nats: NatsServer;
  let dir: string;
  const servers: Served[] = [];

  beforeAll(async () => {
    if (NATS_SERVER === null) throw new Error('nats-server is missing and scripts/ensure-nats.sh could not install it (CI is set, so this fails)');
    nats = new NatsServer(NATS_SERVER, await freePort());
    await nats.start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiptrail-publish-'));
  });

  afterAll(async () => {
    for (const served of servers) await served.stop('SIGKILL');
    await nats?.stop();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sends each shard its partition only, and a restarted publisher loses and doubles no answer', async () => {
    const log = path.join(dir, 'access.log');
    const first = workload(3000, 7);
    fs.writeFileSync(log, first);
    const shards: Served[] = [];
    for (let partition = 0; partition < 2; partition++) {
      const served = await startServe(['--nats', nats.url, '--subject', 'logs', '--partition', `${partition}/2`, ...INDEX_FLAGS], { outlive: true });
      servers.push(served);
      shards.push(served);
      await served.ready();
    }
    const gateway = await startServe(['--nats', nats.url, '--partitions', '2'], { command: 'gateway', outlive: true });
    servers.push(gateway);
    const whole = new ActivityIndex(INDEX_OPTIONS);
    const accepted = whole.ingest(first).accepted;
    const feedOf = async (served: Served) => (await served.get('/stats')).body.sources.find((source: { name: string }) => source.name.startsWith('nats:logs.'));

    let publisher = startPublisher(['--follow', log, '--from', 'start', '--nats', nats.url, '--subject', 'logs', '--partitions', '2']);
    await waitFor(async () => (await Promise.all(shards.map(feedOf))).reduce((sum, feed) => sum + feed.report.accepted, 0), (value) => value === accepted, {
      what: 'the shards to receive every view',
    });
    // Each shard received its own views only: nothing to filter out.
    for (const served of shards) {
      const feed = await feedOf(served);
      expect(feed.report.reasons['other-partition'] ?? 0).toBe(0);
      expect(feed.report.accepted).toBeGreaterThan(accepted / 4);
    }
    // The publisher is killed without warning; appended lines, then a restart from the start.
    expect((await publisher.stop('SIGKILL')).code).toBe(null);
    const more = workload(600, 8).replaceAll('10.0.', '10.1.');
    fs.appendFileSync(log, more);
    whole.ingest(more);
    publisher = startPublisher(['--follow', log, '--from', 'start', '--nats', nats.url, '--subject', 'logs', '--partitions', '2']);
    const cluster = await connectCluster({ servers: nats.url, partitions: 2 });
    await waitFor(async () => (await cluster.stats()).watermark, (value) => value === whole.watermark, { what: 'the restarted publisher to catch up' });
    await waitFor(async () => (await cluster.stats()).users, (value) => value === whole.stats().users, { what: 'every user' });
    for (let p = 0; p < PAGES; p++) {
      for (const page of [`/p${p}`, `/p${p}/x`]) {
        expect(await cluster.lastUsers(page)).toEqual(whole.lastUsers(page));
        expect((await gateway.get(`/pages/${encodeURIComponent(page)}/online?k=500`)).body).toEqual({ page, count: whole.onlineCount(page), users: whole.onlineUsers(page, 500) });
      }
    }
    for (let u = 0; u < USERS; u += 3) {
      for (const user of [`10.0.${u}.0`, `10.1.${u}.1`]) expect(await cluster.userPages(user)).toEqual(whole.userPages(user));
    }
    const { code, stderr } = await publisher.stop();
    expect(code).toBe(0);
    expect(stderr).toMatch(/closed: \d+ lines, \d+ views, \d+ rejected; \d+ views published in \d+ messages, 0 undelivered; .*access\.log read to byte \d+/);

    // A publisher with another N is refused at start: the shards announce theirs.
    const refused = await runCli(['publish', '--follow', log, '--nats', nats.url, '--subject', 'logs', '--partitions', '3']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/has shards started with 2 partitions .* but this publisher expects 3/);
    // One that cannot check (another cluster name): the shards count the views that are not theirs.
    const wrong = startPublisher(['--follow', log, '--from', 'start', '--nats', nats.url, '--subject', 'logs', '--partitions', '3', '--cluster', 'elsewhere']);
    await waitFor(async () => (await feedOf(shards[0]!)).mismatchedBatches, (value) => value > 0, { what: 'a mismatched batch' });
    await waitFor(async () => (await feedOf(shards[0]!)).report.reasons['other-partition'] ?? 0, (value) => value > 0, { what: 'other-partition views counted' });
    expect(shards[0]!.stderr()).toMatch(/the publisher splits into 3 partitions, this shard is 0 of 2/);
    await wrong.stop();
    await cluster.close();
    whole.close();
  });

  it('says which views the server never confirmed when NATS goes away (core NATS)', async () => {
    const own = new NatsServer(NATS_SERVER!, await freePort());
    await own.start();
    const log = path.join(dir, 'lost.log');
    const first = workload(400, 3);
    fs.writeFileSync(log, first);
    const shard = await startServe(['--nats', own.url, '--subject', 'logs', '--partition', '0/1', ...INDEX_FLAGS]);
    await shard.ready();
    const publisher = startPublisher(['--follow', log, '--from', 'start', '--poll-interval', '50ms', '--nats', own.url, '--subject', 'logs', '--partitions', '1']);
    const whole = new ActivityIndex(INDEX_OPTIONS);
    const delivered = whole.ingest(first).accepted;
    await waitFor(async () => (await shard.get('/stats')).body.index.events, (value) => value === delivered, { what: 'the first views' });
    // The shard has them; the publisher's background flush confirms them a moment later.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await own.stop();
    const more = workload(300, 4);
    const lost = whole.ingest(more).accepted;
    fs.appendFileSync(log, more);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { code, stderr } = await publisher.stop();
    expect(code).toBe(0);
    expect(stderr).toContain(`the server did not confirm ${lost} views (logs.0: ${lost}): they are counted as undelivered`);
    expect(stderr).toMatch(new RegExp(`closed: 700 lines, ${delivered + lost} views, \\d+ rejected; ${delivered} views published in \\d+ messages, ${lost} undelivered; .*lost\\.log read to byte ${first.length + more.length}`));
    whole.close();
  });

  it('checks its flags', async () => {
    for (const [args, message] of [
      [['--nats', 'nats://127.0.0.1:1', '--subject', 'logs', '--partitions', '2'], /give at least one --follow FILE/],
      [['--follow', 'x.log', '--subject', 'logs', '--partitions', '2'], /--nats URL is required/],
      [['--follow', 'x.log', '--nats', 'nats://127.0.0.1:1', '--subject', 'a b', '--partitions', '2'], /--subject must be NATS subject tokens/],
      [['--follow', 'x.log', '--nats', 'nats://127.0.0.1:1', '--subject', 'logs', '--partitions', '0'], /--partitions must be in 1 \.\. 65536/],
    ] as [string[], RegExp][]) {
      const result = await runCli(['publish', ...args]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    const refused = await runCli(['publish', '--follow', 'x.log', '--nats', `nats://127.0.0.1:${await freePort()}`, '--subject', 'logs', '--partitions', '2']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cannot connect to NATS/);
  });
});
