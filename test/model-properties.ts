// The model-based properties: random event streams run through the native engine and
// through the reference model (test/model.ts); every answer must be equal. Defined
// once and run once per encoding (as Redis runs its suite once per encoding):
// test/properties.test.ts with the engine's own choices, and
// test/properties-skiplist.test.ts with every list a skiplist and presence compacting
// at every chance (src/engine-tuning.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActivityIndex } from '../src/index.js';
import {
  BAD_EVENTS,
  configArb,
  eventArb,
  PAGES,
  probeArb,
  stepArb,
  tieEventArb,
  TRICKY_KEYS,
  UNSEEN_PAGE,
  UNSEEN_USER,
  USERS,
  type Config,
  type EventInput,
  type Step,
  type UserPagesProbe,
} from './arbitraries.js';
import { frozenClock } from './helpers.js';
import { ActivityModel, type ModelStats, type ViewEvent } from './model.js';

export interface PropertyRuns {
  /** Names the encoding in every test title. */
  encoding: string;
  /** Runs of each property over small streams. */
  numRuns: number;
  /** Runs of each property over long streams (hundreds of keys, long lists). */
  longRuns: number;
}

const toEngine = (event: EventInput) => ({ user: event.user, page: event.page, ts: event.asDate ? new Date(event.ts) : event.ts });
const toModel = ({ user, page, ts }: EventInput): ViewEvent => ({ user, page, ts });

function iterableOf<T>(items: T[], as: 'array' | 'generator' | 'set'): Iterable<T> {
  if (as === 'array') return items;
  if (as === 'set') return new Set(items);
  return (function* () {
    yield* items;
  })();
}

/** Applies one step to both; returns nothing, throws on an engine/model mismatch. */
function applyStep(index: ActivityIndex, model: ActivityModel, step: Step): void {
  if (step.kind === 'record') {
    const { user, page, ts } = toEngine(step.event);
    expect(index.record(user, page, ts)).toBeUndefined();
    model.record(toModel(step.event));
  } else if (step.kind === 'many') {
    expect(index.recordMany(iterableOf(step.events.map(toEngine), step.as))).toBe(step.events.length);
    expect(model.recordMany(step.events.map(toModel))).toBe(step.events.length);
  } else {
    const batch: unknown[] = step.events.map(toEngine);
    const { event, error } = BAD_EVENTS[step.bad]!;
    batch.splice(step.badAt, 0, event);
    const before = index.stats().events;
    expect(() => index.recordMany(batch as never)).toThrow(error);
    expect(() => index.recordMany(batch as never)).toThrow(`events[${step.badAt}]`);
    expect(index.stats().events).toBe(before);
  }
}

/** Every answer the public API gives about the alphabet, in one comparable object. */
interface Observation {
  watermark: number;
  lastUsers: Record<string, unknown>;
  lastUsersTop: Record<string, unknown>;
  userPages: Record<string, unknown>;
  userPagesProbed: Record<string, unknown>;
  onlineUsers: Record<string, unknown>;
  onlineFirst: Record<string, unknown>;
  onlineCount: Record<string, number>;
  onlineTotal: number;
  stats: Partial<ModelStats>;
}

interface Queryable {
  readonly watermark: number;
  lastUsers(page: string, k: number): unknown;
  userPages(user: string, query?: { window?: number; now?: number | Date; limit?: number }): unknown;
  onlineUsers(page: string, k: number): unknown;
  onlineCount(page?: string): number;
  stats(): ModelStats;
}

function observe(target: Queryable, config: Config, probes: UserPagesProbe[], statFields: (keyof ModelStats)[], engine: boolean): Observation {
  const obs: Observation = {
    watermark: target.watermark,
    lastUsers: {},
    lastUsersTop: {},
    userPages: {},
    userPagesProbed: {},
    onlineUsers: {},
    onlineFirst: {},
    onlineCount: {},
    onlineTotal: target.onlineCount(),
    stats: {},
  };
  for (const page of [...PAGES, UNSEEN_PAGE]) {
    obs.lastUsers[page] = target.lastUsers(page, config.usersPerPage);
    obs.lastUsersTop[page] = target.lastUsers(page, 1);
    obs.onlineUsers[page] = target.onlineUsers(page, 1000);
    obs.onlineFirst[page] = target.onlineUsers(page, 1);
    obs.onlineCount[page] = target.onlineCount(page);
  }
  for (const user of [...USERS, UNSEEN_USER]) {
    obs.userPages[user] = target.userPages(user);
    obs.userPagesProbed[user] = probes.map((probe) => {
      const query: { window: number; now?: number | Date; limit?: number } = {
        window: Math.min(probe.window, config.userWindow),
      };
      if (probe.nowOffset !== undefined && Number.isFinite(target.watermark)) {
        const now = Math.max(0, target.watermark + probe.nowOffset);
        query.now = engine && probe.nowAsDate ? new Date(now) : now;
      }
      if (probe.limit !== undefined) query.limit = probe.limit;
      return target.userPages(user, query);
    });
  }
  const stats = target.stats();
  for (const field of statFields) obs.stats[field] = stats[field];
  return obs;
}

function compare(index: ActivityIndex, model: ActivityModel, config: Config, probes: UserPagesProbe[]): void {
  const fields = model.unambiguousStats();
  const expected = observe(model, config, probes, fields, false);
  const actual = observe(index as unknown as Queryable, config, probes, fields, true);
  expect(actual).toEqual(expected);
  expect(index.stats().watermark).toBe(index.watermark);
}

/**
 * A userPages() probe that lands on a user's stored times: `now` at one stored time,
 * the window's start at another, each nudged by -1, 0 or +1, and a limit.
 */
interface StoredTimeProbe {
  now: number;
  from: number;
  nudgeNow: -1 | 0 | 1;
  nudgeFrom: -1 | 0 | 1;
  /** now at the watermark (the default) instead of at a stored time. */
  defaultNow: boolean;
  limit: number;
  withLimit: boolean;
}

const storedTimeProbeArb: fc.Arbitrary<StoredTimeProbe> = fc.record({
  now: fc.nat(),
  from: fc.nat(),
  nudgeNow: fc.constantFrom(-1, 0, 0, 1),
  nudgeFrom: fc.constantFrom(-1, 0, 0, 1),
  defaultNow: fc.boolean(),
  limit: fc.nat(),
  withLimit: fc.boolean(),
});

/**
 * The queries `probes` make of a user whose kept entries are `kept` (best-ranked
 * first): windows whose bounds fall exactly on stored times (and one off), limits
 * that end a result at any row.
 */
function storedTimeQueries(kept: readonly { ts: number }[], probes: readonly StoredTimeProbe[], watermark: number, userWindow: number) {
  if (kept.length === 0) return [];
  const queries: { window: number; now?: number; limit?: number }[] = [];
  for (const probe of probes) {
    const now = probe.defaultNow ? watermark : kept[probe.now % kept.length]!.ts + probe.nudgeNow;
    const from = kept[probe.from % kept.length]!.ts + probe.nudgeFrom;
    const window = Math.min(userWindow, Math.max(1, now - from));
    const query: { window: number; now?: number; limit?: number } = { window };
    if (!probe.defaultNow) query.now = Math.max(0, now);
    if (probe.withLimit) query.limit = 1 + (probe.limit % kept.length);
    queries.push(query);
  }
  return queries;
}

/** Defines every model-based property, each run `numRuns` (or `longRuns`) times. */
export function defineModelProperties({ encoding, numRuns, longRuns }: PropertyRuns): void {
describe(`ActivityIndex against the reference model (${encoding})`, () => {
  it('gives the model\'s answers after every step of a random stream', () => {
    fc.assert(
      fc.property(configArb, fc.array(stepArb, { maxLength: 25 }), fc.array(probeArb, { minLength: 1, maxLength: 3 }), (config, steps, probes) => {
        const index = new ActivityIndex({ ...config, now: frozenClock });
        const model = new ActivityModel(config);
        try {
          for (const step of steps) {
            applyStep(index, model, step);
            compare(index, model, config, probes);
          }
          index.validate();
        } finally {
          index.close();
        }
      }),
      { numRuns },
    );
  });

  it('gives the model\'s answers for long streams with few checks', () => {
    fc.assert(
      fc.property(configArb, fc.array(eventArb, { minLength: 50, maxLength: 300 }), fc.array(probeArb, { minLength: 1, maxLength: 2 }), (config, events, probes) => {
        const index = new ActivityIndex({ ...config, now: frozenClock });
        const model = new ActivityModel(config);
        try {
          const half = events.length >> 1;
          index.recordMany(events.slice(0, half).map(toEngine));
          model.recordMany(events.slice(0, half).map(toModel));
          index.validate();
          compare(index, model, config, probes);
          for (const event of events.slice(half)) {
            index.record(event.user, event.page, event.ts);
            model.record(event);
          }
          index.validate();
          compare(index, model, config, probes);
        } finally {
          index.close();
        }
      }),
      { numRuns },
    );
  });

  it('gives the model\'s answers with long lists (many skiplist levels), probed at stored times', () => {
    // Caps up to 300 over 260 users and 260 pages. One user views pages of all kinds and
    // one page is viewed by users of all kinds, so their lists grow past the small-list
    // limit (128), hit their caps there and take late views of members they keep; the
    // hot page sees crowds come and go (presence's arrays and expiry queue compacted).
    const bigConfigArb = fc.record({
      // Often just past the small-list limit, so that lists fill up in skiplist form.
      usersPerPage: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 129, max: 170 })),
      pagesPerUser: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 129, max: 170 })),
      userWindow: fc.constantFrom(50, 300, 1_000_000, 1_000_000),
      pageWindow: fc.constantFrom(undefined, undefined, 100, 400),
      maxPages: fc.option(fc.integer({ min: 5, max: 300 }), { nil: undefined }),
      maxUsers: fc.option(fc.integer({ min: 20, max: 300 }), { nil: undefined }),
      presenceWindow: fc.option(fc.constantFrom(10, 40), { nil: undefined }),
    });
    const anyKey = (prefix: string) => fc.nat(259).map((n) => `${prefix}${n}`);
    const bigEventArb = fc.oneof(
      { weight: 4, arbitrary: fc.record({ user: fc.constant('u0'), page: anyKey('/p'), ts: fc.nat(1000) }) },
      { weight: 3, arbitrary: fc.record({ user: anyKey('u'), page: fc.constant('/p0'), ts: fc.nat(1000) }) },
      { weight: 1, arbitrary: fc.record({ user: anyKey('u'), page: anyKey('/p'), ts: fc.nat(1000) }) },
    );
    fc.assert(
      fc.property(
        bigConfigArb,
        fc.array(bigEventArb, { minLength: 400, maxLength: 1200 }),
        fc.array(storedTimeProbeArb, { minLength: 4, maxLength: 8 }),
        (rawConfig, events, probes) => {
          const config = Object.fromEntries(Object.entries(rawConfig).filter(([, v]) => v !== undefined)) as unknown as Config;
          if (config.presenceWindow !== undefined) config.presenceWindow = Math.min(config.presenceWindow, config.userWindow);
          // mostly increasing times, with some events late by up to a second
          const stream = events.map((event, i) => ({ ...event, ts: Math.max(0, Math.floor(i / 2) + (event.ts % 7 === 0 ? -event.ts : 0)) }));
          const index = new ActivityIndex({ ...config, now: frozenClock });
          const model = new ActivityModel(config);
          try {
            index.recordMany(stream);
            model.recordMany(stream);
            index.validate();
            const keys = Array.from({ length: 260 }, (_, n) => n);
            for (const page of [...keys.map((n) => `/p${n}`), UNSEEN_PAGE]) {
              expect(index.lastUsers(page, config.usersPerPage)).toEqual(model.lastUsers(page, config.usersPerPage));
              for (const probe of probes) {
                const k = 1 + (probe.limit % config.usersPerPage);
                expect(index.lastUsers(page, k)).toEqual(model.lastUsers(page, k));
              }
              expect(index.onlineUsers(page, 1000)).toEqual(model.onlineUsers(page, 1000));
              expect(index.onlineUsers(page, 2)).toEqual(model.onlineUsers(page, 2));
              expect(index.onlineCount(page)).toBe(model.onlineCount(page));
            }
            for (const user of [...keys.map((n) => `u${n}`), UNSEEN_USER]) {
              const kept = model.userPages(user);
              expect(index.userPages(user)).toEqual(kept);
              for (const query of storedTimeQueries(kept, probes, model.watermark, config.userWindow)) {
                expect(index.userPages(user, query), JSON.stringify(query)).toEqual(model.userPages(user, query));
              }
            }
            expect(index.onlineCount()).toBe(model.onlineCount());
            const stats = index.stats();
            const expected = model.stats();
            for (const field of model.unambiguousStats()) expect(stats[field], field).toBe(expected[field]);
          } finally {
            index.close();
          }
        },
      ),
      { numRuns: longRuns },
    );
  });

  it('breaks equal times by byte-wise key order in every list and in eviction', () => {
    const tieConfigArb = fc.record({
      usersPerPage: fc.integer({ min: 1, max: 4 }),
      pagesPerUser: fc.integer({ min: 1, max: 4 }),
      userWindow: fc.constant(1000),
      maxPages: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      maxUsers: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(tieConfigArb, fc.array(tieEventArb, { maxLength: 30 }), (rawConfig, events) => {
        const config = Object.fromEntries(Object.entries(rawConfig).filter(([, v]) => v !== undefined)) as unknown as Config;
        const index = new ActivityIndex({ ...config, now: frozenClock });
        const model = new ActivityModel(config);
        try {
          index.recordMany(events);
          model.recordMany(events);
          for (const key of TRICKY_KEYS) {
            const page = `/${key}`;
            expect(index.lastUsers(page, config.usersPerPage)).toEqual(model.lastUsers(page, config.usersPerPage));
            expect(index.onlineUsers(page, 100)).toEqual(model.onlineUsers(page, 100));
            expect(index.userPages(key)).toEqual(model.userPages(key));
          }
          const { memoryBytes: _memory, ...stats } = index.stats();
          expect(stats).toEqual(model.stats());
          index.validate();
        } finally {
          index.close();
        }
      }),
      { numRuns },
    );
  });

  it('stores any well-formed key exactly and orders keys byte-wise', () => {
    // Any code point, astral ones and control characters (NUL included).
    const keyArb = fc.string({ unit: 'binary', minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(
        fc.array(fc.record({ user: keyArb, page: fc.oneof(fc.constant('/'), keyArb), ts: fc.integer({ min: 0, max: 5 }) }), { maxLength: 30 }),
        (events) => {
          const index = new ActivityIndex({ usersPerPage: 100, userWindow: 1000, now: frozenClock });
          const model = new ActivityModel({ usersPerPage: 100, userWindow: 1000 });
          try {
            index.recordMany(events);
            model.recordMany(events);
            const pages = new Set(events.map((e) => e.page));
            const users = new Set(events.map((e) => e.user));
            for (const page of pages) {
              expect(index.lastUsers(page, 100)).toEqual(model.lastUsers(page, 100));
              expect(index.onlineUsers(page, 1000)).toEqual(model.onlineUsers(page, 1000));
            }
            for (const user of users) expect(index.userPages(user)).toEqual(model.userPages(user));
            expect(index.stats()).toMatchObject(model.stats());
            index.validate();
          } finally {
            index.close();
          }
        },
      ),
      { numRuns },
    );
  });
});

describe(`ActivityIndex#lastUsers() order independence (${encoding})`, () => {
  it('gives the same answer for any arrival order of the same events', () => {
    const configArbQ1 = fc.record({
      usersPerPage: fc.integer({ min: 1, max: 5 }),
      pagesPerUser: fc.integer({ min: 1, max: 5 }),
      userWindow: fc.integer({ min: 1, max: 40 }),
      maxUsers: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    });
    const eventsArb = fc.array(eventArb, { maxLength: 40 });
    const permutedArb = eventsArb.chain((events) =>
      fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length })),
    );
    fc.assert(
      fc.property(configArbQ1, permutedArb, (rawConfig, [events, permuted]) => {
        const config = Object.fromEntries(Object.entries(rawConfig).filter(([, v]) => v !== undefined)) as unknown as Config;
        const first = new ActivityIndex({ ...config, now: frozenClock });
        const second = new ActivityIndex({ ...config, now: frozenClock });
        const model = new ActivityModel(config);
        try {
          first.recordMany(events.map(toEngine));
          for (const event of permuted) second.record(event.user, event.page, event.ts);
          model.recordMany(events.map(toModel));
          for (const page of PAGES) {
            const expected = model.lastUsers(page, config.usersPerPage);
            expect(first.lastUsers(page, config.usersPerPage)).toEqual(expected);
            expect(second.lastUsers(page, config.usersPerPage)).toEqual(expected);
          }
          expect(second.watermark).toBe(first.watermark);
        } finally {
          first.close();
          second.close();
        }
      }),
      { numRuns },
    );
  });
});

describe(`ActivityIndex#recordMany() batching (${encoding})`, () => {
  it('ends in the same state however a stream is cut into batches', () => {
    const cutsArb = fc.array(fc.nat(40), { maxLength: 6 });
    fc.assert(
      fc.property(configArb, fc.array(eventArb, { maxLength: 40 }), cutsArb, (config, events, cuts) => {
        const one = new ActivityIndex({ ...config, now: frozenClock });
        const batched = new ActivityIndex({ ...config, now: frozenClock });
        try {
          for (const event of events) one.record(event.user, event.page, event.ts);
          const bounds = [...new Set([0, ...cuts.map((c) => Math.min(c, events.length)), events.length])].sort((a, b) => a - b);
          for (let i = 1; i < bounds.length; i++) batched.recordMany(events.slice(bounds[i - 1], bounds[i]).map(toEngine));
          const fields: (keyof ModelStats)[] = ['events', 'pages', 'users', 'entries', 'late', 'evicted', 'online', 'watermark'];
          // Two engines fed the same events must agree even on the counts the model cannot vouch for.
          expect(observe(batched as unknown as Queryable, config, [], fields, true)).toEqual(observe(one as unknown as Queryable, config, [], fields, true));
          batched.validate();
        } finally {
          one.close();
          batched.close();
        }
      }),
      { numRuns },
    );
  });
});
}
