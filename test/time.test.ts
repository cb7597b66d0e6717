// Time on a live site and in a replay (docs/semantics.md, "Time"): "now" keeps moving
// while the log is quiet, a replay still answers as of the log's own time, and one
// future-dated event cannot move the watermark. Every clock here is injected (no sleep).

import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';

import { ActivityIndex, createQueryServer, follow } from '../src/index.js';
import { DAY, HOUR, MINUTE, ManualClock, SECOND, openIndex } from './helpers.js';
import { combinedLine, tempDir } from './live-helpers.js';

const WALL = Date.UTC(2026, 10, 30, 22, 0, 0);

describe('the default clock on a live stream', () => {
  it('lets a user leave presence presenceWindow after their last view when no event arrives', () => {
    const clock = new ManualClock(WALL);
    const index = openIndex({ presenceWindow: '2s', now: clock.read });
    index.record('ann', '/pricing'); // ts: the wall clock
    expect(index.onlineUsers('/pricing')).toEqual([{ user: 'ann', ts: WALL }]);
    clock.advance(2 * SECOND);
    expect(index.onlineCount('/pricing')).toBe(1); // [now - 2s, now] still holds WALL
    clock.advance(3 * SECOND); // 5 s of silence
    expect(index.onlineUsers('/pricing')).toEqual([]);
    expect(index.onlineCount('/pricing')).toBe(0);
    expect(index.onlineCount()).toBe(0);
    expect(index.stats().online).toBe(0);
  });

  it("moves Q2's default now on with the wall clock", () => {
    const clock = new ManualClock(WALL);
    const index = openIndex({ userWindow: '1m', now: clock.read });
    index.record('ann', '/a', WALL - 10 * SECOND);
    expect(index.userPages('ann')).toEqual([{ page: '/a', ts: WALL - 10 * SECOND }]);
    clock.advance(45 * SECOND);
    expect(index.now).toBe(WALL - 10 * SECOND + 45 * SECOND); // the log's time, run on 45 s
    expect(index.userPages('ann')).toEqual([{ page: '/a', ts: WALL - 10 * SECOND }]);
    clock.advance(16 * SECOND);
    expect(index.userPages('ann')).toEqual([]);
    // An explicit now still answers for any time in the window.
    expect(index.userPages('ann', { now: WALL })).toEqual([{ page: '/a', ts: WALL - 10 * SECOND }]);
  });

  it('runs behind the wall clock by the smallest lag seen between an event and its arrival', () => {
    const clock = new ManualClock(WALL);
    const index = openIndex({ now: clock.read });
    index.record('a', '/p', WALL - 5 * SECOND); // arrives 5 s after it happened
    expect(index.now).toBe(WALL - 5 * SECOND);
    clock.advance(SECOND);
    index.record('b', '/p', WALL - SECOND); // arrives at WALL + 1 s, 2 s late: the lag shrinks to 2 s
    expect(index.now).toBe(WALL - SECOND);
    clock.advance(10 * SECOND);
    index.record('c', '/p', WALL); // 11 s late and not newer: changes nothing
    expect(index.now).toBe(WALL + 11 * SECOND - 2 * SECOND);
  });

  it('never runs backwards, and never behind the watermark', () => {
    const clock = new ManualClock(WALL);
    const index = openIndex({ now: clock.read });
    index.record('a', '/p', WALL);
    clock.advance(MINUTE);
    const before = index.now;
    index.record('b', '/p', WALL + 30 * SECOND); // newer, but behind the running clock
    expect(index.now).toBe(before);
    index.record('c', '/p', WALL + 5 * MINUTE); // ahead of the wall clock, within maxFutureSkew
    expect(index.now).toBe(WALL + 5 * MINUTE);
    expect(index.watermark).toBe(WALL + 5 * MINUTE);
  });

  it('is -Infinity, and answers nothing, before the first event', () => {
    const index = openIndex({ now: () => WALL });
    expect(index.now).toBe(-Infinity);
    expect(index.userPages('a')).toEqual([]);
    expect(index.onlineCount()).toBe(0);
  });

  it('does the same when the events come from log lines', async () => {
    const clock = new ManualClock(Date.UTC(2015, 4, 17, 10, 5, 10));
    const index = openIndex({ presenceWindow: '2s', now: clock.read });
    const stream = index.createIngestStream();
    stream.write(combinedLine('ann', '/pricing', Date.UTC(2015, 4, 17, 10, 5, 9)));
    expect(index.onlineCount('/pricing')).toBe(1);
    clock.advance(5 * SECOND);
    expect(index.onlineCount('/pricing')).toBe(0);
    stream.end();
  });
});

describe('the default clock on a replay', () => {
  it("answers as of the log's own time, then runs on from its end", () => {
    const clock = new ManualClock(WALL); // the log is years old
    const index = openIndex({ presenceWindow: '5m', now: clock.read });
    const t = Date.UTC(2015, 4, 17, 10, 0, 0);
    let log = '';
    for (let i = 0; i < 100; i++) log += combinedLine(`u${i % 7}`, `/p${i % 5}`, t + i * SECOND);
    expect(index.ingest(log)).toMatchObject({ lines: 100, accepted: 100 });
    expect(index.now).toBe(t + 99 * SECOND);
    expect(index.onlineCount()).toBe(7);
    expect(index.userPages('u0', { window: '1m' }).map((row) => row.ts)).toEqual([t + 98 * SECOND, t + 91 * SECOND, t + 84 * SECOND, t + 77 * SECOND, t + 70 * SECOND]);
    clock.advance(5 * MINUTE + 1);
    expect(index.onlineCount()).toBe(0);
  });

  it("with clock 'watermark' never moves without an event", () => {
    const clock = new ManualClock(WALL);
    const index = openIndex({ clock: 'watermark', presenceWindow: '2s', now: clock.read });
    index.record('ann', '/pricing', WALL);
    clock.advance(DAY);
    expect(index.now).toBe(WALL);
    expect(index.onlineCount('/pricing')).toBe(1);
  });

  it("with clock 'wall' reads the wall clock", () => {
    const clock = new ManualClock(WALL);
    const index = openIndex({ clock: 'wall', presenceWindow: '2s', now: clock.read });
    index.record('ann', '/pricing', WALL - SECOND);
    expect(index.onlineCount('/pricing')).toBe(1);
    clock.advance(SECOND + 1);
    expect(index.now).toBe(WALL + SECOND + 1);
    expect(index.onlineCount('/pricing')).toBe(0);
  });

  it('uses the injected clock for record() without ts', () => {
    const index = openIndex({ now: () => WALL });
    index.record('a', '/p');
    expect(index.lastUsers('/p')).toEqual([{ user: 'a', ts: WALL }]);
  });

  it('rejects a wall clock option that is not a function, or that returns garbage', () => {
    expect(() => new ActivityIndex({ now: 5 as never })).toThrow(TypeError);
    const index = openIndex({ now: () => NaN });
    expect(() => index.record('a', '/p')).toThrow(/options\.now\(\)/);
  });
});

describe('maxFutureSkew', () => {
  it('refuses an event a year ahead, naming ts, and leaves the watermark and everyone else alone', () => {
    const clock = new ManualClock(WALL);
    const index = openIndex({ now: clock.read });
    index.record('ann', '/a', WALL - SECOND);
    let thrown: unknown;
    try {
      index.record('mallory', '/x', WALL + 365 * DAY);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RangeError);
    expect((thrown as RangeError).message).toMatch(/^ts must be at most the wall clock \+ maxFutureSkew/);
    expect((thrown as { argument: string }).argument).toBe('ts');
    expect(index.watermark).toBe(WALL - SECOND);
    expect(index.lastUsers('/x')).toEqual([]);
    index.record('bob', '/b', WALL);
    expect(index.stats().late).toBe(0);
    expect(index.userPages('bob')).toEqual([{ page: '/b', ts: WALL }]);
    expect(index.onlineCount()).toBe(2);
  });

  it('refuses a microsecond timestamp taken as ms (Date.now() * 1000)', () => {
    const index = openIndex({ now: () => WALL });
    expect(() => index.record('a', '/p', WALL * 1000)).toThrow(RangeError);
    expect(index.watermark).toBe(-Infinity);
  });

  it('accepts up to the wall clock + maxFutureSkew exactly, refuses 1 ms more, and follows the option', () => {
    const index = openIndex({ now: () => WALL });
    index.record('a', '/p', WALL + 10 * MINUTE);
    expect(() => index.record('b', '/p', WALL + 10 * MINUTE + 1)).toThrow(RangeError);
    const strict = openIndex({ now: () => WALL, maxFutureSkew: '1s' });
    strict.record('a', '/p', WALL + SECOND);
    expect(() => strict.record('a', '/p', WALL + SECOND + 1)).toThrow(/maxFutureSkew \(.* \+ 1000 ms/);
    const off = openIndex({ now: () => WALL, maxFutureSkew: Infinity });
    off.record('a', '/p', Number.MAX_SAFE_INTEGER);
    expect(off.watermark).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => new ActivityIndex({ maxFutureSkew: 0 })).toThrow(RangeError);
    expect(() => new ActivityIndex({ maxFutureSkew: 'soon' })).toThrow(/options\.maxFutureSkew/);
  });

  it('refuses an older event behind an accepted one never (it cannot be ahead)', () => {
    const clock = new ManualClock(WALL);
    const index = openIndex({ now: clock.read, maxFutureSkew: '1m' });
    index.record('a', '/p', WALL + MINUTE);
    index.record('b', '/p', WALL + 30 * SECOND);
    expect(index.stats().events).toBe(2);
  });

  it('refuses advanceWatermark() to a future time as it refuses an event', () => {
    const index = openIndex({ now: () => WALL });
    expect(() => index.advanceWatermark(WALL + DAY)).toThrow(/^ts must be at most the wall clock/);
    expect(index.watermark).toBe(-Infinity);
    index.advanceWatermark(WALL + MINUTE);
    expect(index.now).toBe(WALL + MINUTE);
  });

  it('makes recordMany name the position and index nothing of the batch', () => {
    const index = openIndex({ now: () => WALL });
    const events = [
      { user: 'a', page: '/p', ts: WALL },
      { user: 'b', page: '/p', ts: WALL - HOUR },
      { user: 'c', page: '/p', ts: new Date(WALL + 2 * DAY) },
      { user: 'd', page: '/p', ts: WALL + 3 * DAY },
    ];
    expect(() => index.recordMany(events)).toThrow(/^events\[2\]\.ts must be at most the wall clock/);
    try {
      index.recordMany(events);
    } catch (error) {
      expect((error as { argument: string }).argument).toBe('events[2].ts');
    }
    expect(index.stats().events).toBe(0);
    // An earlier invalid event is still the first error.
    expect(() => index.recordMany([{ user: '', page: '/p', ts: 1 }, ...events])).toThrow(/^events\[0\]\.user/);
    expect(index.recordMany(events.slice(0, 2))).toBe(2);
  });

  it('counts future log lines under reasons.future, in every format, and samples them', async () => {
    const index = openIndex({ now: () => WALL });
    const report = index.ingest(
      combinedLine('a', '/ok', WALL - SECOND) + combinedLine('m', '/x', WALL + 365 * DAY) + combinedLine('b', '/ok', WALL - 2 * SECOND),
    );
    expect(report).toMatchObject({ lines: 3, accepted: 2, rejected: 1, reasons: { future: 1 } });
    expect(report.samples).toEqual([{ line: 2, reason: 'future', text: combinedLine('m', '/x', WALL + 365 * DAY).trimEnd() }]);
    expect(index.watermark).toBe(WALL - SECOND);
    const ndjson = index.ingest(`{"user":"m","page":"/y","ts":${WALL * 1000}}\n{"user":"c","page":"/ok","ts":${WALL}}\n`, { format: 'ndjson' });
    expect(ndjson).toMatchObject({ lines: 2, accepted: 1, reasons: { future: 1 } });
    const stream = index.createIngestStream({ format: 'ndjson' });
    stream.end(`{"user":"m","page":"/z","ts":"2099-01-01T00:00:00Z"}\n`);
    await new Promise((resolve) => stream.on('report', resolve));
    expect(stream.report).toMatchObject({ lines: 1, rejected: 1, reasons: { future: 1 } });
    expect(index.watermark).toBe(WALL);
    expect(index.lastUsers('/x')).toEqual([]);
  });

  it('reads the wall clock at each chunk of a stream', () => {
    const clock = new ManualClock(WALL);
    const index = openIndex({ now: clock.read, maxFutureSkew: '1m' });
    const stream = index.createIngestStream();
    const ahead = combinedLine('a', '/p', WALL + 2 * MINUTE);
    stream.write(ahead);
    expect(stream.report.reasons).toEqual({ future: 1 });
    clock.advance(MINUTE);
    stream.write(ahead);
    expect(stream.report).toMatchObject({ accepted: 1, reasons: { future: 1 } });
    stream.end();
  });

  it('gives the same answers for a stream with rare wildly future-dated events as without them', () => {
    const eventArb = fc.record({
      user: fc.constantFrom('a', 'b', 'c', 'd'),
      page: fc.constantFrom('/1', '/2', '/3'),
      ts: fc.integer({ min: 0, max: 120 }),
      future: fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 ** 40 }) }),
      via: fc.constantFrom('record', 'line'),
    });
    const BASE = 10_000_000;
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 60 }), fc.integer({ min: 1, max: 100 }), (events, presence) => {
        const options = { userWindow: 100, presenceWindow: presence, usersPerPage: 3, now: () => BASE };
        const withFuture = new ActivityIndex(options);
        const without = new ActivityIndex(options);
        try {
          for (const event of events) {
            const ts = BASE - 200 + event.ts;
            for (const [index, future] of [[withFuture, event.future], [without, null]] as const) {
              // The future event comes just before the real one, so it would win any tie.
              if (future !== null) {
                const at = BASE + 10 * MINUTE + future;
                if (event.via === 'record') expect(() => index.record('mallory', event.page, at)).toThrow(RangeError);
                else expect(index.ingest(combinedLine('mallory', event.page, Math.floor(at / 1000) * 1000 + 1000)).reasons).toEqual({ future: 1 });
              }
              if (event.via === 'record') index.record(event.user, event.page, ts);
              else index.ingest(`{"user":"${event.user}","page":"${event.page}","ts":${ts}}`, { format: 'ndjson' });
            }
          }
          for (const page of ['/1', '/2', '/3']) {
            expect(withFuture.lastUsers(page, 3)).toEqual(without.lastUsers(page, 3));
            expect(withFuture.onlineUsers(page)).toEqual(without.onlineUsers(page));
          }
          for (const user of ['a', 'b', 'c', 'd', 'mallory']) expect(withFuture.userPages(user)).toEqual(without.userPages(user));
          // memoryBytes counts allocator usable sizes, which depend on the heap's history.
          const { memoryBytes: _a, ...statsWith } = withFuture.stats();
          const { memoryBytes: _b, ...statsWithout } = without.stats();
          expect(statsWith).toEqual(statsWithout);
          expect(withFuture.now).toBe(without.now);
        } finally {
          withFuture.close();
          without.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('serve on a quiet live site (the HTTP layer over a followed file, clock injected)', () => {
  it('empties /pages/:page/online and /online presenceWindow after the last line', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 30, 23, 0, 1));
    const index = new ActivityIndex({ presenceWindow: '2s', now: clock.read });
    const file = path.join(tempDir(), 'night.log');
    fs.writeFileSync(file, '');
    const follower = follow(index, file, { pollInterval: 60_000 });
    const { server } = createQueryServer(index);
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    onTestFinished(async () => {
      await follower.close();
      await new Promise((resolve) => server.close(resolve));
      index.close();
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const get = async (route: string) => (await fetch(base + route)).json();
    await follower.poll();
    fs.appendFileSync(file, combinedLine('10.0.0.7', '/pricing', Date.UTC(2026, 10, 30, 23, 0, 0)));
    await follower.poll();
    expect(await get('/pages/%2Fpricing/online')).toEqual({ page: '/pricing', count: 1, users: [{ user: '10.0.0.7', ts: Date.UTC(2026, 10, 30, 23, 0, 0) }] });
    clock.advance(5 * SECOND);
    expect(await get('/pages/%2Fpricing/online')).toEqual({ page: '/pricing', count: 0, users: [] });
    expect(await get('/online')).toEqual({ count: 0 });
  });
});
