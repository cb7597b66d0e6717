// partitionOf(), the ingest `partition` filter (native), advanceWatermark(), and
// `serve --partition`: N shards fed every line give, between them, exactly the
// answers of one index.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActivityIndex, partitionOf } from '../src/index.js';
import { fnv1a32, parsePartition } from '../src/partition.js';
import { PAGES, tsArb, USERS } from './arbitraries.js';
import { runCli, startServe } from './live-helpers.js';
import { frozenClock } from './helpers.js';

const numRuns = process.env.CI ? 300 : 100;

const ndjson = (events: { user: string; page: string; ts: number }[]) => events.map((event) => `${JSON.stringify(event)}\n`).join('');

describe('partitionOf()', () => {
  it('is FNV-1a 32-bit of the UTF-8 bytes, modulo N', () => {
    // Published FNV-1a test vectors (draft-eastlake-fnv): "", "a", "foobar".
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    // Non-ASCII is hashed from its UTF-8 bytes.
    const bytes = (text: string) => {
      let h = 0x811c9dc5;
      for (const byte of Buffer.from(text, 'utf8')) h = Math.imul(h ^ byte, 0x01000193);
      return h >>> 0;
    };
    for (const user of ['é', '😀', 'ﬀ', 'a b', '203.0.113.9', 'ünïcödé-user']) expect(fnv1a32(user)).toBe(bytes(user));
    expect(partitionOf('foobar', 7)).toBe(0xbf9cf968 % 7);
    expect(partitionOf('anything', 1)).toBe(0);
  });

  it('checks its arguments', () => {
    expect(() => partitionOf(5 as never, 3)).toThrow(/^user must be a string, received number 5$/);
    expect(() => partitionOf('\ud800', 3)).toThrow(RangeError);
    expect(() => partitionOf('a', 0)).toThrow(/^partitions must be an integer in 1 \.\. 65536, received number 0$/);
    expect(() => partitionOf('a', 1.5)).toThrow(RangeError);
    expect(() => parsePartition('3/3', '--partition')).toThrow(/^--partition must be I\/N with I in 0 \.\. N - 1/);
    expect(() => parsePartition('x/2', '--partition')).toThrow(/^--partition must be I\/N, partition I of N counted from 0/);
    expect(() => parsePartition('0/0', '--partition')).toThrow(/N in 1 \.\. 65536/);
    expect(parsePartition('2/3', '--partition')).toEqual({ index: 2, count: 3 });
  });

  it('agrees with the native filter for any user', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 9 }), (users, count) => {
        const events = users.map((user, i) => ({ user, page: '/p', ts: i }));
        for (let index = 0; index < count; index++) {
          const shard = new ActivityIndex();
          const report = shard.ingest(ndjson(events), { format: 'ndjson', partition: { index, count } });
          const mine = users.filter((user) => partitionOf(user, count) === index);
          expect(report.accepted).toBe(mine.length);
          expect(report.reasons['other-partition'] ?? 0).toBe(users.length - mine.length);
          expect(report.samples).toEqual([]);
          expect(new Set(shard.lastUsers('/p', 30).map((row) => row.user))).toEqual(new Set(mine.slice(-30)));
          shard.close();
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe('ingest({ partition })', () => {
  it('N shards fed every line hold each user once, and answer Q2 and counts as one index does', () => {
    // A frozen wall clock: the 'stream' clock then reads the watermark, as in a fast replay.
    const config = { usersPerPage: 3, pagesPerUser: 4, userWindow: 40, presenceWindow: 25, pageWindow: 60, now: frozenClock };
    fc.assert(
      fc.property(
        fc.array(fc.record({ user: fc.constantFrom(...USERS), page: fc.constantFrom(...PAGES), ts: tsArb }), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        (events, count, chunks) => {
          const whole = new ActivityIndex(config);
          whole.ingest(ndjson(events), { format: 'ndjson' });
          const shards = Array.from({ length: count }, (_, index) => {
            const shard = new ActivityIndex(config);
            // In several calls: the watermark follows other partitions' lines across them.
            const size = Math.ceil(events.length / chunks);
            for (let from = 0; from < events.length; from += size) {
              shard.ingest(ndjson(events.slice(from, from + size)), { format: 'ndjson', partition: { index, count } });
            }
            return shard;
          });
          for (const shard of shards) expect(shard.watermark).toBe(whole.watermark);
          for (const user of USERS) {
            expect(shards[partitionOf(user, count)]!.userPages(user)).toEqual(whole.userPages(user));
          }
          const sum = (read: (shard: ActivityIndex) => number) => shards.reduce((total, shard) => total + read(shard), 0);
          expect(sum((shard) => shard.onlineCount())).toBe(whole.onlineCount());
          expect(sum((shard) => shard.stats().users)).toBe(whole.stats().users);
          expect(sum((shard) => shard.stats().events)).toBe(whole.stats().events);
          for (const page of PAGES) {
            expect(sum((shard) => shard.onlineCount(page))).toBe(whole.onlineCount(page));
            // Q1 and Q3: no user is on two shards, so the top-k of the shards' top-k is the answer.
            const merged = (rows: { user: string; ts: number }[], k: number) =>
              rows.sort((a, b) => b.ts - a.ts || Buffer.compare(Buffer.from(a.user), Buffer.from(b.user))).slice(0, k);
            expect(merged(shards.flatMap((shard) => shard.lastUsers(page, 3)), 3)).toEqual(whole.lastUsers(page, 3));
            expect(merged(shards.flatMap((shard) => shard.onlineUsers(page, 5)), 5)).toEqual(whole.onlineUsers(page, 5));
          }
          for (const shard of shards) shard.close();
          whole.close();
        },
      ),
      { numRuns },
    );
  });

  it('checks the option', () => {
    const index = new ActivityIndex();
    expect(() => index.ingest('', { partition: { index: 3, count: 3 } })).toThrow(/^options\.partition\.index must be an integer in 0 \.\. 2, received number 3$/);
    expect(() => index.ingest('', { partition: { index: 0, count: 0 } })).toThrow(/^options\.partition\.count must be an integer in 1 \.\. 65536/);
    expect(() => index.ingest('', { partition: '1/2' as never })).toThrow(TypeError);
    index.close();
  });
});

describe('ActivityIndex#advanceWatermark()', () => {
  it('moves stream time as an event would, without recording one', () => {
    const index = new ActivityIndex({ userWindow: 100, presenceWindow: 50, now: frozenClock });
    index.record('ann', '/a', 1000);
    expect(index.onlineCount()).toBe(1);
    index.advanceWatermark(1040);
    expect(index.watermark).toBe(1040);
    expect(index.onlineCount()).toBe(1);
    index.advanceWatermark(1051);
    expect(index.onlineCount()).toBe(0);
    expect(index.userPages('ann')).toEqual([{ page: '/a', ts: 1000 }]);
    index.advanceWatermark(500); // earlier: nothing changes
    expect(index.watermark).toBe(1051);
    index.advanceWatermark(new Date(1101));
    expect(index.userPages('ann')).toEqual([]);
    expect(index.stats()).toMatchObject({ events: 1, users: 0 });
    expect(() => index.advanceWatermark(-1)).toThrow(/^ts must be a safe integer >= 0/);
    expect(() => index.advanceWatermark('1' as never)).toThrow(TypeError);
    index.validate();
    index.close();
  });
});

describe('skiptrail serve --partition', () => {
  it('indexes only its partition, counts the other lines, and refuses their POST /views', async () => {
    const served = await startServe(['--stdin', '--format', 'ndjson', '--partition', '1/3']);
    const events = Array.from({ length: 60 }, (_, i) => ({ user: `user${i}`, page: `/p${i % 4}`, ts: 1000 + i }));
    served.child.stdin!.end(ndjson(events));
    const mine = events.filter((event) => partitionOf(event.user, 3) === 1);
    let stats: any;
    for (let i = 0; i < 200; i++) {
      stats = (await served.get('/stats')).body;
      if (stats.ingest.lines === 60) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(stats.ingest).toMatchObject({ lines: 60, accepted: mine.length, reasons: { 'other-partition': 60 - mine.length } });
    expect(stats.index).toMatchObject({ events: mine.length, watermark: 1059 });
    const foreign = events.find((event) => partitionOf(event.user, 3) !== 1)!;
    const refused = await served.get('/views', { method: 'POST', body: JSON.stringify(foreign), headers: { 'content-type': 'application/json' } });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].error).toMatch(new RegExp(`^user "${foreign.user}" belongs to partition ${partitionOf(foreign.user, 3)} of 3, not to this shard \\(1\\)`));
    const own = mine[0]!;
    expect((await served.get('/views', { method: 'POST', body: JSON.stringify({ ...own, page: '/new' }), headers: { 'content-type': 'application/json' } })).status).toBe(200);
    expect(await served.stop()).toBe(0);

    for (const bad of ['3/3', 'x/2', '1', '1/2/3']) {
      const result = await runCli(['serve', '--stdin', '--partition', bad]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/--partition must be I\/N/);
    }
  });
});
