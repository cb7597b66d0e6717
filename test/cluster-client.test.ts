// connectCluster() over the in-process transport: N partitions (some with replicas)
// fed through the client's writes or through each shard's partition filter answer
// exactly as the reference model of one index; a missing partition is an error naming
// it, or a listed gap with allowPartial; a partition count that disagrees is refused.
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActivityIndex } from '../src/index.js';
import { ClusterError, compareUtf8, connectCluster, inProcessTransport, mergeTopK, PartitionUnavailable } from '../src/cluster/index.js';
import { partitionOf } from '../src/partition.js';
import { PAGES, tsArb, UNSEEN_PAGE, UNSEEN_USER, USERS } from './arbitraries.js';
import { ROOT } from './live-helpers.js';
import { ActivityModel } from './model.js';
import { frozenClock } from './helpers.js';

const numRuns = process.env.CI ? 150 : 50;
// No caps: maxPages/maxUsers would apply per shard (docs/scaling.md).
// A frozen wall clock: the 'stream' clock then reads the watermark, as in a fast replay.
const CONFIG = { usersPerPage: 3, pagesPerUser: 4, userWindow: 40, presenceWindow: 25, pageWindow: 60, now: frozenClock };

const eventsArb = fc.array(fc.record({ user: fc.constantFrom(...USERS), page: fc.constantFrom(...PAGES), ts: tsArb }), { minLength: 1, maxLength: 60 });

async function expectModelAnswers(cluster: Awaited<ReturnType<typeof connectCluster>>, model: ActivityModel) {
  for (const page of [...PAGES, UNSEEN_PAGE]) {
    expect(await cluster.lastUsers(page, 3)).toEqual(model.lastUsers(page, 3));
    expect(await cluster.lastUsers(page)).toEqual(model.lastUsers(page, 3));
    expect(await cluster.onlineUsers(page, 4)).toEqual(model.onlineUsers(page, 4));
    expect(await cluster.onlineCount(page)).toBe(model.onlineCount(page));
  }
  for (const user of [...USERS, UNSEEN_USER]) {
    expect(await cluster.userPages(user)).toEqual(model.userPages(user));
    expect(await cluster.userPages(user, { window: 10, limit: 2 })).toEqual(model.userPages(user, { window: 10, limit: 2 }));
  }
  expect(await cluster.onlineCount()).toBe(model.onlineCount());
  const stats = await cluster.stats();
  expect(stats.users).toBe(model.stats().users);
  expect(stats.watermark).toBe(model.watermark);
  expect(stats.online).toBe(model.onlineCount());
}

describe('connectCluster() (in process)', () => {
  it('answers as one index when views are written through the client', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), async (events, count, batches) => {
        const replicas = Array.from({ length: count }, (_, p) => Array.from({ length: p === 0 ? 2 : 1 }, () => new ActivityIndex(CONFIG)));
        const cluster = await connectCluster({ partitions: count, transport: inProcessTransport(replicas) });
        const model = new ActivityModel(CONFIG);
        const size = Math.ceil(events.length / batches);
        for (let from = 0; from < events.length; from += size) {
          expect(await cluster.recordMany(events.slice(from, from + size))).toBe(Math.min(size, events.length - from));
        }
        model.recordMany(events);
        await expectModelAnswers(cluster, model);
        // Both replicas of partition 0 hold the same data, and answer in turn.
        const { memoryBytes: _a, ...first } = replicas[0]![0]!.stats();
        const { memoryBytes: _b, ...second } = replicas[0]![1]!.stats();
        expect(first).toEqual(second);
        await cluster.close();
        for (const list of replicas) for (const index of list) index.close();
      }),
      { numRuns },
    );
  });

  it('answers as one index when every shard reads the whole log with its partition filter', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb, fc.integer({ min: 1, max: 4 }), async (events, count) => {
        const log = events.map((event) => `${JSON.stringify(event)}\n`).join('');
        const replicas = Array.from({ length: count }, (_, index) => {
          const shard = new ActivityIndex(CONFIG);
          shard.ingest(log, { format: 'ndjson', partition: { index, count } });
          return [shard];
        });
        const cluster = await connectCluster({ partitions: count, transport: inProcessTransport(replicas) });
        const model = new ActivityModel(CONFIG);
        model.recordMany(events);
        await expectModelAnswers(cluster, model);
        await cluster.close();
        for (const [index] of replicas) index!.close();
      }),
      { numRuns },
    );
  });

  it('fails with EPARTITION naming a partition that is down, or lists it with allowPartial', async () => {
    const options = { usersPerPage: 100 };
    const replicas = [[new ActivityIndex(options)], [new ActivityIndex(options), new ActivityIndex(options)], [new ActivityIndex(options)]];
    const cluster = await connectCluster({ partitions: 3, transport: inProcessTransport(replicas) });
    const events = Array.from({ length: 50 }, (_, i) => ({ user: `user${i}`, page: '/a', ts: 1000 + i }));
    await cluster.recordMany(events);
    const whole = new ActivityIndex(options);
    whole.recordMany(events);
    const down = replicas[2]!.splice(0); // partition 2 stops
    replicas[1]!.pop(); // partition 1 loses a replica: still complete
    const error = await cluster.lastUsers('/a', 30).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterError);
    expect(error).toMatchObject({ code: 'EPARTITION', partitions: [2] });
    expect((error as Error).message).toBe('lastUsers: partition 2 has no shard running (of 3 partitions); the answer would be incomplete');
    await expect(cluster.onlineCount()).rejects.toMatchObject({ code: 'EPARTITION' });
    const owned = events.find((event) => partitionOfUser(event.user) === 2)!;
    await expect(cluster.userPages(owned.user)).rejects.toMatchObject({ code: 'EPARTITION', partitions: [2] });
    const other = events.find((event) => partitionOfUser(event.user) === 1)!;
    expect(await cluster.userPages(other.user)).toEqual(whole.userPages(other.user));

    const seen: number[][] = [];
    const partial = await connectCluster({ partitions: 3, transport: inProcessTransport(replicas), allowPartial: true, onPartial: (missing) => seen.push(missing) });
    const rows = await partial.lastUsers('/a', 30);
    expect(rows.missing).toEqual([2]);
    // Partitions 0 and 1 answer their own top 30: the whole index's rows of their users.
    expect(rows).toEqual(whole.lastUsers('/a', 100).filter((row) => partitionOfUser(row.user) !== 2).slice(0, 30));
    expect((await partial.stats()).missing).toEqual([2]);
    expect(seen).toEqual([[2], [2]]);

    replicas[2]!.push(...down); // back: exact again
    expect(await cluster.lastUsers('/a', 30)).toEqual(whole.lastUsers('/a', 30));
    for (const list of [...replicas, down]) for (const index of list) index.close();
    whole.close();
  });

  it('asks a partition that timed out once more (a dead replica may be picked), then fails with EPARTITION', async () => {
    const replicas = [[new ActivityIndex({ usersPerPage: 5 })], [new ActivityIndex({ usersPerPage: 5 })]];
    const inner = inProcessTransport(replicas);
    const asked: number[] = [];
    let timeouts = 1; // the next `timeouts` queries to partition 1 time out
    const transport = {
      ...inner,
      query: async (partition: number, request: Parameters<typeof inner.query>[1], timeoutMs: number) => {
        asked.push(partition);
        if (partition === 1 && timeouts > 0) {
          timeouts--;
          throw new PartitionUnavailable(partition, 'timeout');
        }
        return inner.query(partition, request, timeoutMs);
      },
    };
    const cluster = await connectCluster({ partitions: 2, timeout: 50, transport });
    await cluster.recordMany([{ user: 'ann', page: '/a', ts: 1 }, { user: 'bob', page: '/a', ts: 2 }]);
    asked.length = 0;
    expect(await cluster.onlineCount('/a')).toBe(2);
    expect(asked.sort()).toEqual([0, 1, 1]);
    timeouts = 2;
    const error = await cluster.lastUsers('/a').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ClusterError', code: 'EPARTITION', partitions: [1] });
    expect((error as Error).message).toMatch(/partition 1 did not answer within 50 ms/);
    await cluster.close();
    for (const list of replicas) for (const index of list) index.close();
  });

  it('refuses a cluster whose partition count differs, and passes argument errors on', async () => {
    const replicas = [[new ActivityIndex({ usersPerPage: 5 })], [new ActivityIndex({ usersPerPage: 5 })]];
    // The shards were started as 2 partitions; this client expects 3.
    const transport = inProcessTransport(replicas, 2);
    // At start, from the shards' announcements.
    const atStart = await connectCluster({ partitions: 3, transport }).catch((e: unknown) => e);
    expect(atStart).toBeInstanceOf(ClusterError);
    expect(atStart).toMatchObject({ code: 'EPARTITIONS', partitions: [0, 1] });
    expect((atStart as Error).message).toMatch(/has shards started with 2 partitions \(such as partition 0 of 2\), but this client expects 3/);
    // On answers, from shards that started after the client.
    const wrong = await connectCluster({ partitions: 3, transport: { ...transport, shards: async () => [], query: (p, request, timeout) => transport.query(p % 2, request, timeout) } });
    await expect(wrong.onlineCount()).rejects.toMatchObject({ name: 'ClusterError', code: 'EPARTITIONS' });
    await expect(wrong.onlineCount()).rejects.toThrow(/belongs to a cluster of 2 partitions, but the query expects 3/);

    const cluster = await connectCluster({ partitions: 2, transport: inProcessTransport(replicas) });
    const local = new ActivityIndex({ usersPerPage: 5 });
    const tooMany = await cluster.lastUsers('/a', 6).catch((e: unknown) => e);
    expect(tooMany).toBeInstanceOf(RangeError);
    expect((tooMany as Error).message).toBe((() => { try { local.lastUsers('/a', 6); } catch (e) { return (e as Error).message; } return ''; })());
    expect(tooMany).toMatchObject({ argument: 'k' });
    await expect(cluster.userPages('ann', { window: '2h' })).rejects.toThrow(/^options\.window must be at most userWindow/);
    await expect(cluster.lastUsers(5 as never)).rejects.toThrow(TypeError);
    await expect(cluster.recordMany([{ user: '', page: '/', ts: 1 }])).rejects.toThrow(/^events\[0\]\.user must be a non-empty string/);
    expect(await cluster.lastUsers('\ud800')).toEqual([]);
    await expect(connectCluster({ partitions: 0, transport })).rejects.toThrow(/^options\.partitions must be an integer in 1 \.\. 65536/);
    await expect(connectCluster({ partitions: 2 } as never)).rejects.toThrow(/options\.servers must be a NATS URL/);
    await expect(connectCluster({ partitions: 2, transport, cluster: 'a b' })).rejects.toThrow(/^options\.cluster must be NATS subject tokens/);
    await cluster.close();
    await expect(cluster.onlineCount()).rejects.toMatchObject({ code: 'ECLOSED' });
    for (const [index] of replicas) index!.close();
    local.close();
  });
});

describe('mergeTopK() and compareUtf8()', () => {
  it('orders as Buffer.compare and merges as a sort of the union', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        if (!a.isWellFormed() || !b.isWellFormed()) return;
        expect(Math.sign(compareUtf8(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.array(fc.uniqueArray(fc.record({ user: fc.constantFrom(...USERS, 'x', 'y', 'z'), ts: fc.integer({ min: 0, max: 5 }) }), { selector: (row) => row.user }), { maxLength: 4 }),
        fc.integer({ min: 1, max: 10 }),
        (lists, k) => {
          // Each list is one shard's answer: distinct users, in rank order; no user on two shards.
          const seen = new Set<string>();
          const shards = lists.map((list) => list.filter((row) => !seen.has(row.user) && (seen.add(row.user), true)));
          const rank = (a: { user: string; ts: number }, b: { user: string; ts: number }) => b.ts - a.ts || Buffer.compare(Buffer.from(a.user), Buffer.from(b.user));
          const sorted = shards.map((list) => [...list].sort(rank));
          expect(mergeTopK(sorted, k)).toEqual(sorted.flat().sort(rank).slice(0, k));
        },
      ),
    );
  });
});

function partitionOfUser(user: string): number {
  // The in-process cluster above has 3 partitions.
  return partitionOf(user, 3);
}

describe('skiptrail/cluster', () => {
  it('is its own entry point: importing skiptrail loads none of it', () => {
    const script = `
      const before = new Set(Object.keys(require.cache));
      require('skiptrail');
      const loaded = Object.keys(require.cache).filter((file) => !before.has(file));
      const cluster = loaded.filter((file) => file.includes('/dist/cluster/') || file.includes('/node_modules/nats/'));
      const entry = require('skiptrail/cluster');
      console.log(JSON.stringify({ cluster, exports: Object.keys(entry).sort(), same: entry.partitionOf === require('skiptrail').partitionOf }));`;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
    const result = JSON.parse(out);
    expect(result.cluster).toEqual([]);
    expect(result.exports).toEqual(expect.arrayContaining(['ClusterError', 'connectCluster', 'inProcessTransport', 'partitionOf', 'startShard']));
    expect(result.same).toBe(true);
    const esm = execFileSync(process.execPath, ['--input-type=module', '-e', "import { connectCluster } from 'skiptrail/cluster'; console.log(typeof connectCluster)"], { cwd: ROOT, encoding: 'utf8' });
    expect(esm.trim()).toBe('function');
  });
});
