// The reference model's own tests: hand-computed answers for every rule it encodes,
// so that a property failure points at the engine, not at the model.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActivityModel, compareKeys, compareRank, type ViewEvent } from './model.js';

const view = (user: string, page: string, ts: number): ViewEvent => ({ user, page, ts });

describe('compareKeys()', () => {
  it('orders by UTF-8 bytes, not by UTF-16 code units', () => {
    // U+FB00 is EF AC 80 in UTF-8 and 0xFB00 in UTF-16; U+1F600 is F0 9F 98 80 and 0xD83D 0xDE00.
    expect('😀' < 'ﬀ').toBe(true);
    expect(compareKeys('ﬀ', '😀')).toBeLessThan(0);
  });

  it('puts a prefix first', () => {
    expect(compareKeys('a', 'aa')).toBeLessThan(0);
    expect(compareKeys('a', 'a')).toBe(0);
    expect(compareKeys('B', 'a')).toBeLessThan(0);
  });
});

describe('compareRank()', () => {
  it('ranks the larger ts first, then the byte-wise smaller key', () => {
    expect(compareRank({ key: 'z', ts: 2 }, { key: 'a', ts: 1 })).toBeLessThan(0);
    expect(compareRank({ key: 'a', ts: 1 }, { key: 'b', ts: 1 })).toBeLessThan(0);
    expect(compareRank({ key: '😀', ts: 1 }, { key: 'ﬀ', ts: 1 })).toBeGreaterThan(0);
  });
});

describe('ActivityModel: Q1', () => {
  it('keeps the latest view of each user (max semantics)', () => {
    const model = new ActivityModel();
    model.recordMany([view('a', '/', 5), view('a', '/', 3), view('b', '/', 4)]);
    expect(model.lastUsers('/')).toEqual([
      { user: 'a', ts: 5 },
      { user: 'b', ts: 4 },
    ]);
  });

  it('keeps the top usersPerPage users and drops a late event that would not make the top', () => {
    const model = new ActivityModel({ usersPerPage: 2 });
    model.recordMany([view('a', '/', 1), view('b', '/', 2), view('c', '/', 3)]);
    expect(model.lastUsers('/', 2)).toEqual([
      { user: 'c', ts: 3 },
      { user: 'b', ts: 2 },
    ]);
    model.record(view('a', '/', 2)); // ties b's time but 'a' < 'b': enters, b is dropped
    expect(model.lastUsers('/', 2)).toEqual([
      { user: 'c', ts: 3 },
      { user: 'a', ts: 2 },
    ]);
    model.record(view('b', '/', 1)); // ranks below the lowest kept: dropped
    expect(model.lastUsers('/', 2)).toEqual([
      { user: 'c', ts: 3 },
      { user: 'a', ts: 2 },
    ]);
    expect(model.stats().entries).toBe(2 + 3);
  });

  it('gives [] for an unknown page and cuts the answer at k', () => {
    const model = new ActivityModel();
    model.recordMany([view('a', '/', 1), view('b', '/', 2)]);
    expect(model.lastUsers('/x')).toEqual([]);
    expect(model.lastUsers('/', 1)).toEqual([{ user: 'b', ts: 2 }]);
  });

  it('expires page entries older than watermark - pageWindow', () => {
    const model = new ActivityModel({ pageWindow: 10 });
    model.recordMany([view('a', '/', 0), view('b', '/', 10), view('c', '/x', 20)]);
    expect(model.lastUsers('/')).toEqual([{ user: 'b', ts: 10 }]);
    model.record(view('d', '/x', 21));
    expect(model.lastUsers('/')).toEqual([]);
    expect(model.stats().pages).toBe(1);
  });

  it('updates the page index with a late event', () => {
    const model = new ActivityModel({ userWindow: 10 });
    model.recordMany([view('a', '/', 100), view('b', '/', 50)]);
    expect(model.lastUsers('/')).toEqual([
      { user: 'a', ts: 100 },
      { user: 'b', ts: 50 },
    ]);
    expect(model.userPages('b')).toEqual([]);
    expect(model.stats()).toMatchObject({ late: 1, events: 2, users: 1, pages: 1, entries: 3 });
  });

  it('gives the same answer for every arrival order (no caps, no pageWindow)', () => {
    const events = fc.array(
      fc.record({
        user: fc.constantFrom('a', 'b', 'c', 'ﬀ', '😀'),
        page: fc.constantFrom('/', '/x'),
        ts: fc.integer({ min: 0, max: 20 }),
      }),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(
        events.chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length }))),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 30 }),
        ([inOrder, shuffled], usersPerPage, userWindow) => {
          const a = new ActivityModel({ usersPerPage, userWindow });
          const b = new ActivityModel({ usersPerPage, userWindow });
          a.recordMany(inOrder);
          b.recordMany(shuffled);
          for (const page of ['/', '/x']) expect(b.lastUsers(page, usersPerPage)).toEqual(a.lastUsers(page, usersPerPage));
        },
      ),
    );
  });

  it('equals the top k of each user\'s latest view when nothing is capped or expired', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ user: fc.constantFrom('a', 'b', 'é', '😀'), page: fc.constant('/'), ts: fc.nat(9) })),
        fc.integer({ min: 1, max: 5 }),
        (events, k) => {
          const model = new ActivityModel({ usersPerPage: k });
          model.recordMany(events);
          const latest = new Map<string, number>();
          for (const { user, ts } of events) latest.set(user, Math.max(latest.get(user) ?? -1, ts));
          const expected = [...latest]
            .map(([user, ts]) => ({ user, ts }))
            .sort((x, y) => y.ts - x.ts || Buffer.compare(Buffer.from(x.user), Buffer.from(y.user)))
            .slice(0, k);
          expect(model.lastUsers('/', k)).toEqual(expected);
        },
      ),
    );
  });
});

describe('ActivityModel: Q2', () => {
  it('returns pages viewed in [now - window, now], ranked, cut at limit', () => {
    const model = new ActivityModel({ userWindow: 100 });
    model.recordMany([view('u', '/a', 10), view('u', '/b', 20), view('u', '/c', 30), view('u', '/a', 5)]);
    expect(model.userPages('u')).toEqual([
      { page: '/c', ts: 30 },
      { page: '/b', ts: 20 },
      { page: '/a', ts: 10 },
    ]);
    expect(model.userPages('u', { window: 10 })).toEqual([
      { page: '/c', ts: 30 },
      { page: '/b', ts: 20 },
    ]);
    expect(model.userPages('u', { now: 20, window: 10 })).toEqual([
      { page: '/b', ts: 20 },
      { page: '/a', ts: 10 },
    ]);
    expect(model.userPages('u', { limit: 1 })).toEqual([{ page: '/c', ts: 30 }]);
    expect(model.userPages('nobody')).toEqual([]);
  });

  it('never returns an entry older than watermark - userWindow, whatever now says', () => {
    const model = new ActivityModel({ userWindow: 10 });
    model.recordMany([view('u', '/a', 0), view('u', '/b', 15)]);
    expect(model.userPages('u', { now: 5, window: 10 })).toEqual([]);
    expect(model.userPages('u')).toEqual([{ page: '/b', ts: 15 }]);
  });

  it('drops a user whose latest view is expired', () => {
    const model = new ActivityModel({ userWindow: 10 });
    model.recordMany([view('u', '/a', 0), view('v', '/a', 11)]);
    expect(model.userPages('u')).toEqual([]);
    expect(model.stats()).toMatchObject({ users: 1, pages: 1, entries: 2 + 1 });
  });

  it('keeps the top pagesPerUser pages', () => {
    const model = new ActivityModel({ pagesPerUser: 2 });
    model.recordMany([view('u', '/a', 1), view('u', '/b', 3), view('u', '/c', 2), view('u', '/d', 0)]);
    expect(model.userPages('u')).toEqual([
      { page: '/b', ts: 3 },
      { page: '/c', ts: 2 },
    ]);
  });

  it('counts a late event and keeps it out of the user index', () => {
    const model = new ActivityModel({ userWindow: 10 });
    model.recordMany([view('u', '/a', 20), view('u', '/b', 9), view('u', '/c', 10)]);
    expect(model.stats().late).toBe(1);
    expect(model.userPages('u')).toEqual([
      { page: '/a', ts: 20 },
      { page: '/c', ts: 10 },
    ]);
  });
});

describe('ActivityModel: Q3', () => {
  it('puts a user on the page of their latest view, the smallest page on equal times', () => {
    const model = new ActivityModel();
    model.recordMany([view('u', '/b', 10), view('u', '/a', 10), view('u', '/c', 10), view('v', '/b', 5)]);
    expect(model.onlineUsers('/a')).toEqual([{ user: 'u', ts: 10 }]);
    expect(model.onlineUsers('/b')).toEqual([{ user: 'v', ts: 5 }]);
    expect(model.onlineCount('/c')).toBe(0);
    expect(model.onlineCount()).toBe(2);
  });

  it('keeps a user online while ts >= watermark - presenceWindow', () => {
    const model = new ActivityModel({ userWindow: 100, presenceWindow: 10 });
    model.recordMany([view('u', '/a', 0), view('v', '/b', 10)]);
    expect(model.onlineCount()).toBe(2);
    model.record(view('w', '/b', 11));
    expect(model.onlineUsers('/a')).toEqual([]);
    expect(model.onlineUsers('/b')).toEqual([
      { user: 'w', ts: 11 },
      { user: 'v', ts: 10 },
    ]);
    expect(model.userPages('u')).toEqual([{ page: '/a', ts: 0 }]);
  });
});

describe('ActivityModel: caps', () => {
  it('evicts the page with the oldest latest entry, the byte-wise largest on a tie', () => {
    const model = new ActivityModel({ maxPages: 2 });
    model.recordMany([view('u', '/a', 5), view('u', '/b', 5), view('u', '/c', 6)]);
    expect(model.lastUsers('/b')).toEqual([]);
    expect(model.lastUsers('/a')).toEqual([{ user: 'u', ts: 5 }]);
    expect(model.stats()).toMatchObject({ pages: 2, evicted: 1 });
    model.record(view('u', '/d', 1)); // old: the page just written goes
    expect(model.lastUsers('/d')).toEqual([]);
    expect(model.stats()).toMatchObject({ pages: 2, evicted: 2 });
    // Q2 keeps every page
    expect(model.userPages('u').map((entry) => entry.page)).toEqual(['/c', '/a', '/b', '/d']);
  });

  it('evicts the user with the oldest latest view, who loses Q2 and presence but stays in Q1', () => {
    const model = new ActivityModel({ maxUsers: 1 });
    model.recordMany([view('u', '/a', 5), view('v', '/b', 6)]);
    expect(model.userPages('u')).toEqual([]);
    expect(model.onlineUsers('/a')).toEqual([]);
    expect(model.lastUsers('/a')).toEqual([{ user: 'u', ts: 5 }]);
    expect(model.stats()).toMatchObject({ users: 1, evicted: 1, online: 1 });
  });
});

describe('ActivityModel#unambiguousStats()', () => {
  it('vouches for every count until something expires', () => {
    const model = new ActivityModel({ userWindow: 10, maxUsers: 5 });
    model.recordMany([view('u', '/a', 0), view('v', '/a', 10)]);
    expect(model.unambiguousStats().sort()).toEqual(
      ['entries', 'events', 'evicted', 'late', 'online', 'pages', 'users', 'watermark'].sort(),
    );
    model.record(view('v', '/a', 11));
    expect(model.unambiguousStats().sort()).toEqual(['events', 'late', 'online', 'pages', 'watermark'].sort());
  });
});
