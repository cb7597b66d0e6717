// ActivityIndex#save() and ActivityIndex.load(): every answer after a load equals the
// answer before the save, for any index state (random streams with caps, late events
// and expiry), and the loaded index goes on exactly as the saved one would have.
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ActivityIndex, loadSnapshot, type PositionedSource } from '../src/index.js';
import { configArb, eventArb, PAGES, UNSEEN_PAGE, UNSEEN_USER, USERS, type EventInput } from './arbitraries.js';
import { setEngineTuning } from '../src/engine-tuning.js';
import { tempDir } from './live-helpers.js';

const numRuns = process.env.CI ? 300 : 60;

/** A frozen wall clock, so that the 'stream' clock does not run on between two looks. */
const WALL = 1_000_000;
const now = () => WALL;

/** Every answer of the public API about the keys given, stats without memoryBytes. */
function answers(index: ActivityIndex, pages: readonly string[], users: readonly string[]) {
  const { memoryBytes: _memory, ...stats } = index.stats();
  const k = index.options.usersPerPage;
  return {
    stats,
    watermark: index.watermark,
    options: index.options,
    lastUsers: pages.map((page) => index.lastUsers(page, k)),
    userPages: users.map((user) => index.userPages(user)),
    userPagesShort: users.map((user) => index.userPages(user, { window: Math.min(5, index.options.userWindow) })),
    onlineUsers: pages.map((page) => index.onlineUsers(page, 1000)),
    onlineCount: pages.map((page) => index.onlineCount(page)),
    onlineTotal: index.onlineCount(),
  };
}

/** An index whose save() makes its image in steps of the smallest size, however fast the machine. */
function indexSavedInManySteps(): ActivityIndex {
  setEngineTuning({ snapshotStepMs: 1e-6 });
  try {
    return new ActivityIndex({ userWindow: '1d' });
  } finally {
    setEngineTuning(undefined);
  }
}

const ALL_PAGES = [...PAGES, UNSEEN_PAGE];
const ALL_USERS = [...USERS, UNSEEN_USER];
const toEvent = ({ user, page, ts }: EventInput) => ({ user, page, ts });

/** Saves and loads `index`; the loaded one reads the wall clock `wall` (a snapshot cannot hold a function). */
async function roundTrip(index: ActivityIndex, dir: string, wall: () => number = now): Promise<ActivityIndex> {
  const file = path.join(dir, 'index.snap');
  await index.save(file);
  const loaded = await ActivityIndex.load(file, { now: wall });
  onTestFinished(() => loaded.close());
  return loaded;
}

describe('ActivityIndex#save() and ActivityIndex.load()', () => {
  it('give back every answer, and the same answers after more events, for any state', async () => {
    const dir = tempDir();
    await fc.assert(
      fc.asyncProperty(
        configArb,
        fc.array(eventArb, { maxLength: 40 }),
        fc.array(eventArb, { maxLength: 15 }),
        async (config, before, after) => {
          const index = new ActivityIndex({ ...config, now });
          try {
            index.recordMany(before.map(toEvent));
            const saved = answers(index, ALL_PAGES, ALL_USERS);
            const loaded = await roundTrip(index, dir);
            loaded.validate();
            expect(answers(loaded, ALL_PAGES, ALL_USERS)).toEqual(saved);
            // The state, not only the answers: caps, expiry and presence go on alike.
            for (const event of after) {
              index.record(event.user, event.page, event.ts);
              loaded.record(event.user, event.page, event.ts);
            }
            loaded.validate();
            expect(answers(loaded, ALL_PAGES, ALL_USERS)).toEqual(answers(index, ALL_PAGES, ALL_USERS));
            loaded.close();
          } finally {
            index.close();
          }
        },
      ),
      { numRuns },
    );
  });

  it('round-trips lists in their skiplist form (over 128 entries) and keys in every script', async () => {
    const index = new ActivityIndex({ usersPerPage: 1000, pagesPerUser: 1000, userWindow: '2h', now: () => 3_000_000 });
    onTestFinished(() => index.close());
    const users = Array.from({ length: 400 }, (_, i) => (i % 3 === 0 ? `ü${i}` : i % 3 === 1 ? `😀${i}` : `u${i}`));
    const pages = Array.from({ length: 300 }, (_, i) => `/p/${i}`);
    let ts = 1_000_000;
    for (let i = 0; i < 30_000; i++) {
      ts += i % 5 === 0 ? 0 : 37; // ties on equal times
      const late = i % 11 === 0 ? 5_000 : 0;
      index.record(users[(i * 7919) % users.length]!, pages[(i * 104729) % pages.length]!, ts - late);
    }
    const loaded = await roundTrip(index, tempDir(), () => 3_000_000);
    loaded.validate();
    expect(answers(loaded, pages, users)).toEqual(answers(index, pages, users));
  });

  it('stores the options, so load() needs none, and a wall-clock index stays one', async () => {
    const options = { usersPerPage: 7, pagesPerUser: 9, userWindow: '10m', pageWindow: '1h', presenceWindow: '1m', maxPages: 50, maxUsers: 60, maxKeyBytes: 100, clock: 'wall', maxFutureSkew: '1h', now } as const;
    const index = new ActivityIndex(options);
    onTestFinished(() => index.close());
    index.record('a', '/x', WALL - 1000);
    const loaded = await roundTrip(index, tempDir());
    expect(loaded.options).toEqual(index.options);
    expect(loaded.onlineUsers('/x')).toEqual(index.onlineUsers('/x'));
  });

  it("keeps the 'stream' clock running as it did: its lead over the wall clock is stored", async () => {
    let wall = 5_000_000;
    const clock = () => wall;
    const index = new ActivityIndex({ userWindow: '10m', now: clock });
    onTestFinished(() => index.close());
    index.record('a', '/x', wall - 30_000); // the log runs 30 s behind the wall clock
    wall += 60_000;
    const loaded = await roundTrip(index, tempDir(), clock);
    expect(loaded.now).toBe(index.now);
    wall += 120_000; // presence (default window 10m) and Q2's window move on alike
    expect(loaded.now).toBe(wall - 30_000);
    expect(answers(loaded, ['/x'], ['a'])).toEqual(answers(index, ['/x'], ['a']));
  });

  it('saves an empty index and a cleared one', async () => {
    const dir = tempDir();
    const index = new ActivityIndex();
    onTestFinished(() => index.close());
    let loaded = await roundTrip(index, dir);
    expect(answers(loaded, ALL_PAGES, ALL_USERS)).toEqual(answers(index, ALL_PAGES, ALL_USERS));
    index.record('a', '/', 5);
    index.clear();
    loaded = await roundTrip(index, dir);
    expect(loaded.watermark).toBe(-Infinity);
    expect(loaded.stats().events).toBe(0);
  });

  it('stores the positions of the sources given, read at the same moment', async () => {
    const file = path.join(tempDir(), 'index.snap');
    const index = new ActivityIndex();
    onTestFinished(() => index.close());
    let reads = 0;
    const source: PositionedSource = { name: 'test:1', position: () => ({ kind: 'test', offset: ++reads }) };
    await index.save(file, { sources: [source, { name: 'test:none', position: () => null }] });
    const loaded = await loadSnapshot(file);
    onTestFinished(() => loaded.index.close());
    expect(loaded.sources).toEqual({ 'test:1': { kind: 'test', offset: 1 } });
    expect(loaded.bytes).toBe(fs.statSync(file).size);
    expect(Math.abs(loaded.createdAt - Date.now())).toBeLessThan(60_000);
    await expect(index.save(file, { sources: [source, source] })).rejects.toThrow(RangeError);
  });

  it('is of the moment save() was called: a change during the save ends the image first', async () => {
    const file = path.join(tempDir(), 'index.snap');
    const index = new ActivityIndex({ userWindow: '1d' });
    onTestFinished(() => index.close());
    for (let i = 0; i < 50_000; i++) index.record(`u${i % 5000}`, `/p${i % 700}`, 1_000_000 + i);
    const before = answers(index, ['/p1', '/p2'], ['u1', 'u2']);
    const saving = index.save(file);
    index.record('u1', '/p1', 2_000_000); // ends the image synchronously, then records
    const stream = index.createIngestStream({ format: 'ndjson' });
    stream.write('{"user":"u2","page":"/p2","ts":2000001}\n');
    await saving;
    const loaded = await ActivityIndex.load(file);
    onTestFinished(() => loaded.close());
    expect(answers(loaded, ['/p1', '/p2'], ['u1', 'u2'])).toEqual(before);
    expect(index.lastUsers('/p1', 1)).toEqual([{ user: 'u1', ts: 2_000_000 }]);
    stream.end();
    await new Promise((resolve) => stream.on('finish', resolve));
    expect(index.lastUsers('/p2', 1)).toEqual([{ user: 'u2', ts: 2_000_001 }]);
  });

  it('holds an ingest stream\'s chunks while the image is made, then parses them', async () => {
    const file = path.join(tempDir(), 'index.snap');
    const index = indexSavedInManySteps();
    onTestFinished(() => index.close());
    const batch = Array.from({ length: 60_000 }, (_, i) => ({ user: `u${i % 60000}`, page: `/p${i % 900}`, ts: 1_000_000 + i }));
    index.recordMany(batch);
    const stream = index.createIngestStream({ format: 'ndjson' });
    const saving = index.save(file);
    stream.write('{"user":"late-writer","page":"/new","ts":5000000}\n');
    expect(stream.bytesFed).toBe(0); // the image is being made: the chunk waits
    const saved = await saving;
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.bytesFed).toBeGreaterThan(0);
    expect(index.lastUsers('/new')).toEqual([{ user: 'late-writer', ts: 5_000_000 }]);
    const loaded = await ActivityIndex.load(file);
    onTestFinished(() => loaded.close());
    expect(loaded.lastUsers('/new')).toEqual([]);
    expect(saved.longestStepMs).toBeGreaterThan(0);
  });

  it('rejects a save of a closed index, or one closed while saving', async () => {
    const file = path.join(tempDir(), 'index.snap');
    const index = indexSavedInManySteps();
    const batch = Array.from({ length: 60_000 }, (_, i) => ({ user: `u${i % 60000}`, page: `/p${i % 900}`, ts: 1_000_000 + i }));
    index.recordMany(batch);
    const saving = index.save(file);
    index.close();
    await expect(saving).rejects.toThrow('closed');
    expect(fs.existsSync(file)).toBe(false);
    await expect(index.save(file)).rejects.toThrow('closed');
  });

  it('checks its arguments', async () => {
    const index = new ActivityIndex();
    onTestFinished(() => index.close());
    await expect(index.save('' as string)).rejects.toThrow(TypeError);
    await expect(index.save(5 as unknown as string)).rejects.toThrow('path must be a non-empty string');
    await expect(ActivityIndex.load(path.join(tempDir(), 'missing.snap'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(ActivityIndex.load('x', { usersPerPage: 0 })).rejects.toThrow(RangeError);
  });
});
