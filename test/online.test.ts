import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byteOrder, MINUTE, openIndex, frozenClock } from './helpers.js';
import { ActivityModel } from './model.js';

describe('ActivityIndex#onlineUsers() and #onlineCount()', () => {
  it('give [] and 0 for an unknown page and an empty index', () => {
    const index = openIndex();
    expect(index.onlineUsers('/')).toEqual([]);
    expect(index.onlineCount('/')).toBe(0);
    expect(index.onlineCount()).toBe(0);
    index.record('alice', '/a', 1);
    expect(index.onlineUsers('/nowhere')).toEqual([]);
    expect(index.onlineCount('/nowhere')).toBe(0);
  });

  it('put a user on the page of their latest view', () => {
    const index = openIndex();
    index.record('alice', '/a', 1 * MINUTE);
    index.record('bob', '/a', 2 * MINUTE);
    expect(index.onlineUsers('/a')).toEqual([
      { user: 'bob', ts: 2 * MINUTE },
      { user: 'alice', ts: 1 * MINUTE },
    ]);
    index.record('alice', '/b', 3 * MINUTE);
    expect(index.onlineUsers('/a')).toEqual([{ user: 'bob', ts: 2 * MINUTE }]);
    expect(index.onlineUsers('/b')).toEqual([{ user: 'alice', ts: 3 * MINUTE }]);
    expect(index.onlineCount('/a')).toBe(1);
    expect(index.onlineCount('/b')).toBe(1);
    expect(index.onlineCount()).toBe(2);
  });

  it('do not move a user for an older view of another page', () => {
    const index = openIndex();
    index.record('alice', '/b', 3 * MINUTE);
    index.record('alice', '/a', 2 * MINUTE);
    expect(index.onlineUsers('/b')).toEqual([{ user: 'alice', ts: 3 * MINUTE }]);
    expect(index.onlineCount('/a')).toBe(0);
  });

  it('put a user with equal-time views on the byte-wise smallest page', () => {
    const index = openIndex();
    index.record('alice', '/😀', 10);
    index.record('alice', '/ﬀ', 10);
    expect(index.onlineCount('/ﬀ')).toBe(1);
    index.record('alice', '/b', 10);
    expect(index.onlineUsers('/b')).toEqual([{ user: 'alice', ts: 10 }]);
    index.record('alice', '/c', 10);
    expect(index.onlineUsers('/b')).toEqual([{ user: 'alice', ts: 10 }]);
    expect(index.onlineCount('/c') + index.onlineCount('/ﬀ') + index.onlineCount('/😀')).toBe(0);
    expect(index.onlineCount()).toBe(1);
  });

  it('rank users most recent first, then byte-wise, and cut at k', () => {
    const index = openIndex();
    const users = ['😀', 'ﬀ', 'b', 'a'];
    for (const user of users) index.record(user, '/', 5);
    index.record('late', '/', 4);
    index.record('first', '/', 6);
    expect(index.onlineUsers('/').map((entry) => entry.user)).toEqual(['first', ...byteOrder(users), 'late']);
    expect(index.onlineUsers('/', 2)).toEqual([
      { user: 'first', ts: 6 },
      { user: 'a', ts: 5 },
    ]);
  });

  it('count every user on a page, not only the top usersPerPage, and take any positive k', () => {
    const index = openIndex({ usersPerPage: 2 });
    for (let i = 0; i < 50; i++) index.record(`user${i}`, '/popular', 1000 + i);
    expect(index.onlineCount('/popular')).toBe(50);
    expect(index.onlineUsers('/popular', 1000)).toHaveLength(50);
    expect(index.onlineUsers('/popular')).toHaveLength(30);
    expect(index.onlineUsers('/popular', 40)).toHaveLength(40);
    expect(index.lastUsers('/popular', 2)).toHaveLength(2);
  });

  describe('presenceWindow', () => {
    it('keeps a user online while ts >= watermark - presenceWindow', () => {
      const index = openIndex({ userWindow: '30m', presenceWindow: '5m' });
      index.record('alice', '/a', 0);
      index.record('bob', '/b', 5 * MINUTE);
      expect(index.onlineCount()).toBe(2);
      expect(index.onlineUsers('/a')).toEqual([{ user: 'alice', ts: 0 }]);
      index.record('bob', '/b', 5 * MINUTE + 1);
      expect(index.onlineUsers('/a')).toEqual([]);
      expect(index.onlineCount('/a')).toBe(0);
      expect(index.onlineCount()).toBe(1);
      // still in the user index
      expect(index.userPages('alice')).toEqual([{ page: '/a', ts: 0 }]);
    });

    it('defaults to userWindow', () => {
      const index = openIndex({ userWindow: '10m' });
      index.record('alice', '/a', 0);
      index.record('bob', '/b', 10 * MINUTE);
      expect(index.onlineCount('/a')).toBe(1);
      index.record('bob', '/b', 10 * MINUTE + 1);
      expect(index.onlineCount('/a')).toBe(0);
      expect(index.onlineCount()).toBe(1);
    });

    it('brings a user back online with a new view', () => {
      const index = openIndex({ presenceWindow: '1m' });
      index.record('alice', '/a', 0);
      index.record('bob', '/b', 2 * MINUTE);
      expect(index.onlineCount('/a')).toBe(0);
      index.record('alice', '/a', 2 * MINUTE);
      expect(index.onlineUsers('/a')).toEqual([{ user: 'alice', ts: 2 * MINUTE }]);
      expect(index.onlineCount()).toBe(2);
    });
  });

  it('ignore late events', () => {
    const index = openIndex({ userWindow: MINUTE });
    index.record('alice', '/a', 10 * MINUTE);
    index.record('bob', '/a', MINUTE);
    expect(index.onlineUsers('/a')).toEqual([{ user: 'alice', ts: 10 * MINUTE }]);
    expect(index.onlineCount()).toBe(1);
  });

  it('stay exact as many users come and go', () => {
    const options = { userWindow: 10 * MINUTE, presenceWindow: MINUTE };
    const index = openIndex(options);
    const model = new ActivityModel(options);
    const pages = ['/a', '/b', '/c'];
    for (let i = 0; i < 3000; i++) {
      // 400 users in turn, one view every 0.4 s to 40 s: some drift out of presence.
      const event = { user: `user${(i * 7919) % 400}`, page: pages[(i * 31) % 3]!, ts: i * 400 + (i % 7) * 5000 };
      index.record(event.user, event.page, event.ts);
      model.record(event);
      if (i % 500 === 499) {
        expect(index.onlineCount()).toBe(model.onlineCount());
        for (const page of pages) {
          expect(index.onlineCount(page)).toBe(model.onlineCount(page));
          expect(index.onlineUsers(page, 1000)).toEqual(model.onlineUsers(page, 1000));
        }
      }
    }
    expect(index.onlineCount()).toBeGreaterThan(0);
  });

  // Long hopping streams: enough moves that every page's arrival array and the expiry
  // queue get compacted, late views go to the out-of-order heap, equal times are
  // common, and user ids are freed (userWindow expiry, maxUsers) and reused.
  it('stay exact through long streams of users hopping between pages', () => {
    const eventArb = fc.record({
      user: fc.integer({ min: 0, max: 59 }),
      page: fc.integer({ min: 0, max: 3 }),
      step: fc.constantFrom(0, 0, 1, 5, 40),
      lateBy: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 300 }) }),
    });
    fc.assert(
      fc.property(
        fc.record({
          userWindow: fc.integer({ min: 50, max: 3000 }),
          presenceFraction: fc.double({ min: 0.05, max: 1, noNaN: true }),
          maxUsers: fc.option(fc.integer({ min: 5, max: 50 }), { nil: undefined }),
        }),
        fc.array(eventArb, { minLength: 1000, maxLength: 3000 }),
        ({ userWindow, presenceFraction, maxUsers }, events) => {
          const options = {
            userWindow,
            presenceWindow: Math.max(1, Math.floor(userWindow * presenceFraction)),
            ...(maxUsers === undefined ? {} : { maxUsers }),
          };
          const index = openIndex({ ...options, now: frozenClock });
          const model = new ActivityModel(options);
          const pages = ['/a', '/b', '/c', '/d'];
          let now = 0;
          events.forEach(({ user, page, step, lateBy }, i) => {
            now += step;
            const event = { user: `user${user}`, page: pages[page]!, ts: Math.max(0, now - lateBy) };
            index.record(event.user, event.page, event.ts);
            model.record(event);
            if (i % 250 === 249 || i === events.length - 1) {
              index.validate();
              expect(index.onlineCount()).toBe(model.onlineCount());
              for (const p of pages) {
                expect(index.onlineCount(p)).toBe(model.onlineCount(p));
                expect(index.onlineUsers(p, 1000)).toEqual(model.onlineUsers(p, 1000));
              }
            }
          });
        },
      ),
      // Shrinking 3,000-event streams takes minutes: report the first failure as is.
      { numRuns: process.env.CI ? 100 : 20, endOnFailure: true },
    );
  });
});
