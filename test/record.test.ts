import { describe, expect, it } from 'vitest';
import { MINUTE, openIndex, frozenClock } from './helpers.js';

describe('ActivityIndex#record()', () => {
  it('indexes a view for Q1, Q2 and Q3 and returns undefined', () => {
    const index = openIndex();
    expect(index.record('alice', '/home', 1000)).toBeUndefined();
    expect(index.lastUsers('/home')).toEqual([{ user: 'alice', ts: 1000 }]);
    expect(index.userPages('alice')).toEqual([{ page: '/home', ts: 1000 }]);
    expect(index.onlineUsers('/home')).toEqual([{ user: 'alice', ts: 1000 }]);
    expect(index.onlineCount('/home')).toBe(1);
    expect(index.watermark).toBe(1000);
  });

  it('keeps the latest view when an older one arrives late', () => {
    const index = openIndex();
    index.record('alice', '/home', 2000);
    index.record('alice', '/home', 1000);
    expect(index.lastUsers('/home')).toEqual([{ user: 'alice', ts: 2000 }]);
    expect(index.userPages('alice')).toEqual([{ page: '/home', ts: 2000 }]);
    expect(index.watermark).toBe(2000);
  });

  it('raises the time of a user who views the page again', () => {
    const index = openIndex();
    index.record('alice', '/home', 1000);
    index.record('bob', '/home', 1500);
    index.record('alice', '/home', 2000);
    expect(index.lastUsers('/home')).toEqual([
      { user: 'alice', ts: 2000 },
      { user: 'bob', ts: 1500 },
    ]);
  });

  it('takes a Date and returns its time as a number', () => {
    const index = openIndex();
    index.record('alice', '/home', new Date(5000));
    expect(index.lastUsers('/home')).toEqual([{ user: 'alice', ts: 5000 }]);
    expect(index.watermark).toBe(5000);
  });

  it('defaults ts to Date.now()', () => {
    const index = openIndex({ now: Date.now }); // the real wall clock, the default
    const before = Date.now();
    index.record('alice', '/home');
    const after = Date.now();
    const [entry] = index.lastUsers('/home');
    expect(entry?.user).toBe('alice');
    expect(entry?.ts).toBeGreaterThanOrEqual(before);
    expect(entry?.ts).toBeLessThanOrEqual(after);
    expect(index.watermark).toBe(entry?.ts);
  });

  it('accepts ts 0 and Number.MAX_SAFE_INTEGER (with maxFutureSkew off)', () => {
    const index = openIndex({ maxFutureSkew: Infinity });
    index.record('a', '/', 0);
    expect(index.watermark).toBe(0);
    index.record('b', '/', Number.MAX_SAFE_INTEGER);
    expect(index.watermark).toBe(Number.MAX_SAFE_INTEGER);
    expect(index.lastUsers('/', 1)).toEqual([{ user: 'b', ts: Number.MAX_SAFE_INTEGER }]);
  });

  it('handles windows and times at the ends of the safe range', () => {
    const index = openIndex({ userWindow: Number.MAX_SAFE_INTEGER, maxFutureSkew: Infinity });
    index.record('first', '/', 0);
    index.record('last', '/', Number.MAX_SAFE_INTEGER);
    expect(index.stats().late).toBe(0);
    expect(index.userPages('first')).toEqual([{ page: '/', ts: 0 }]);
    expect(index.userPages('first', { now: 0, window: Number.MAX_SAFE_INTEGER })).toEqual([{ page: '/', ts: 0 }]);
    expect(index.onlineCount()).toBe(2);
    index.validate();
  });

  it('moves the watermark to the largest ts and never back', () => {
    const index = openIndex();
    expect(index.watermark).toBe(-Infinity);
    index.record('a', '/', 300);
    index.record('a', '/', 100);
    expect(index.watermark).toBe(300);
    index.record('a', '/x', 400);
    expect(index.watermark).toBe(400);
  });

  it('stores keys exactly as given: no trimming, case folding or normalization', () => {
    const index = openIndex();
    const users = ['alice', 'Alice', ' alice', 'alice ', 'e\u0301', '\u00e9', 'tab\there', 'nul\u0000byte', 'line\nbreak', '😀', '\u{10FFFF}'];
    users.forEach((user, i) => index.record(user, '/p', 100 - i));
    expect(index.lastUsers('/p').map((entry) => entry.user)).toEqual(users);
    for (const user of users) expect(index.userPages(user)).toHaveLength(1);
    index.record('u', ' /P ', 200);
    expect(index.lastUsers(' /P ')).toEqual([{ user: 'u', ts: 200 }]);
    expect(index.lastUsers('/P')).toEqual([]);
  });

  it('accepts keys of exactly maxKeyBytes UTF-8 bytes', () => {
    const index = openIndex();
    for (const key of ['a'.repeat(1024), 'é'.repeat(512), '😀'.repeat(256)]) {
      index.record(key, key, 1);
      expect(index.lastUsers(key)).toEqual([{ user: key, ts: 1 }]);
    }
  });

  describe('a late event (older than watermark - userWindow)', () => {
    it('updates the page index, skips the user index and counts as late', () => {
      const index = openIndex({ userWindow: MINUTE, now: frozenClock });
      index.record('bob', '/now', 10 * MINUTE);
      index.record('alice', '/old', 8 * MINUTE);
      expect(index.lastUsers('/old')).toEqual([{ user: 'alice', ts: 8 * MINUTE }]);
      expect(index.userPages('alice')).toEqual([]);
      expect(index.onlineCount()).toBe(1);
      expect(index.stats()).toMatchObject({ events: 2, late: 1, users: 1 });
    });

    it('is not late when exactly at watermark - userWindow', () => {
      const index = openIndex({ userWindow: MINUTE, now: frozenClock });
      index.record('bob', '/now', 10 * MINUTE);
      index.record('alice', '/edge', 9 * MINUTE);
      expect(index.stats().late).toBe(0);
      expect(index.userPages('alice')).toEqual([{ page: '/edge', ts: 9 * MINUTE }]);
      index.record('carol', '/past', 9 * MINUTE - 1);
      expect(index.stats().late).toBe(1);
    });

    it('does not lower a time the user index already holds', () => {
      const index = openIndex({ userWindow: MINUTE });
      index.record('alice', '/a', 10 * MINUTE);
      index.record('alice', '/a', MINUTE);
      expect(index.userPages('alice')).toEqual([{ page: '/a', ts: 10 * MINUTE }]);
      expect(index.lastUsers('/a')).toEqual([{ user: 'alice', ts: 10 * MINUTE }]);
    });
  });
});
