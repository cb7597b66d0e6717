import { describe, expect, it } from 'vitest';
import { byteOrder, MINUTE, openIndex, SECOND, frozenClock } from './helpers.js';

describe('ActivityIndex#userPages()', () => {
  it('returns [] for an unknown user', () => {
    const index = openIndex();
    expect(index.userPages('nobody')).toEqual([]);
    index.record('alice', '/home', 1);
    expect(index.userPages('nobody')).toEqual([]);
  });

  it('returns each page once, with its latest view, most recent first', () => {
    const index = openIndex();
    index.record('alice', '/a', 1 * MINUTE);
    index.record('alice', '/b', 2 * MINUTE);
    index.record('alice', '/a', 3 * MINUTE);
    index.record('alice', '/c', 2 * MINUTE + 1);
    index.record('alice', '/b', 1 * MINUTE);
    expect(index.userPages('alice')).toEqual([
      { page: '/a', ts: 3 * MINUTE },
      { page: '/c', ts: 2 * MINUTE + 1 },
      { page: '/b', ts: 2 * MINUTE },
    ]);
  });

  it('breaks equal times by byte-wise page order', () => {
    const index = openIndex();
    const pages = ['/😀', '/ﬀ', '/b', '/B', '/a', '/aa'];
    for (const page of pages) index.record('alice', page, 9);
    expect(index.userPages('alice').map((entry) => entry.page)).toEqual(byteOrder(pages));
  });

  it('defaults to the last userWindow before the watermark, bounds included', () => {
    const index = openIndex({ userWindow: 10 * MINUTE });
    index.record('alice', '/edge', 5 * MINUTE);
    index.record('alice', '/new', 15 * MINUTE);
    expect(index.userPages('alice')).toEqual([
      { page: '/new', ts: 15 * MINUTE },
      { page: '/edge', ts: 5 * MINUTE },
    ]);
    index.record('bob', '/', 15 * MINUTE + 1);
    expect(index.userPages('alice')).toEqual([{ page: '/new', ts: 15 * MINUTE }]);
  });

  describe('window', () => {
    it('includes both bounds on a list past 128 entries (the skiplist encoding) too', () => {
      const index = openIndex();
      for (let i = 0; i <= 128; i++) index.record('u', `/p${i}`, i);
      const newestFirst = (from: number, to: number) =>
        Array.from({ length: to - from + 1 }, (_, i) => ({ page: `/p${to - i}`, ts: to - i }));
      // now = the watermark (128): [28, 128]
      expect(index.userPages('u', { window: 100 })).toEqual(newestFirst(28, 128));
      // [0, 100]: ends at a stored time
      expect(index.userPages('u', { now: 100, window: 1000 })).toEqual(newestFirst(0, 100));
      expect(index.userPages('u', { now: 100, window: 50 })).toEqual(newestFirst(50, 100));
      expect(index.userPages('u', { now: 100, window: 50, limit: 3 })).toEqual(newestFirst(98, 100));
    });

    it('narrows the answer to [now - window, now], in ms or as a duration string', () => {
      const index = openIndex({ now: frozenClock });
      index.record('alice', '/a', 100 * SECOND);
      index.record('alice', '/b', 130 * SECOND);
      index.record('alice', '/c', 160 * SECOND);
      expect(index.userPages('alice', { window: 30 * SECOND })).toEqual([
        { page: '/c', ts: 160 * SECOND },
        { page: '/b', ts: 130 * SECOND },
      ]);
      expect(index.userPages('alice', { window: '30s' })).toEqual(index.userPages('alice', { window: 30 * SECOND }));
      expect(index.userPages('alice', { window: '1m' })).toHaveLength(3);
      expect(index.userPages('alice', { window: 29 * SECOND })).toEqual([{ page: '/c', ts: 160 * SECOND }]);
    });

    it('may equal userWindow', () => {
      const index = openIndex({ userWindow: '2h' });
      index.record('alice', '/a', 0);
      expect(index.userPages('alice', { window: '2h' })).toHaveLength(1);
      expect(index.userPages('alice', { window: 2 * 60 * MINUTE })).toHaveLength(1);
    });
  });

  describe('now', () => {
    it('looks back from a given time, as a number or a Date', () => {
      const index = openIndex();
      index.record('alice', '/a', 1 * MINUTE);
      index.record('alice', '/b', 2 * MINUTE);
      index.record('alice', '/c', 3 * MINUTE);
      const expected = [
        { page: '/b', ts: 2 * MINUTE },
        { page: '/a', ts: 1 * MINUTE },
      ];
      expect(index.userPages('alice', { now: 2 * MINUTE })).toEqual(expected);
      expect(index.userPages('alice', { now: new Date(2 * MINUTE) })).toEqual(expected);
      expect(index.userPages('alice', { now: 2 * MINUTE, window: MINUTE })).toEqual(expected);
      expect(index.userPages('alice', { now: 2 * MINUTE, window: MINUTE - 1 })).toEqual([{ page: '/b', ts: 2 * MINUTE }]);
    });

    it('may lie beyond the watermark', () => {
      const index = openIndex({ userWindow: 10 * MINUTE });
      index.record('alice', '/a', 1 * MINUTE);
      index.record('alice', '/b', 2 * MINUTE);
      expect(index.userPages('alice', { now: 11 * MINUTE })).toHaveLength(2);
      expect(index.userPages('alice', { now: 11 * MINUTE + 1 })).toEqual([{ page: '/b', ts: 2 * MINUTE }]);
      expect(index.userPages('alice', { now: 12 * MINUTE + 1 })).toEqual([]);
    });

    it('never returns entries older than watermark - userWindow, whatever now says', () => {
      const index = openIndex({ userWindow: 10 * MINUTE });
      index.record('alice', '/old', 1 * MINUTE);
      index.record('alice', '/new', 20 * MINUTE);
      expect(index.userPages('alice', { now: 5 * MINUTE })).toEqual([]);
      expect(index.userPages('alice', { now: 20 * MINUTE })).toEqual([{ page: '/new', ts: 20 * MINUTE }]);
    });
  });

  it('cuts the answer at limit', () => {
    const index = openIndex();
    for (let i = 0; i < 5; i++) index.record('alice', `/p${i}`, i);
    expect(index.userPages('alice', { limit: 2 })).toEqual([
      { page: '/p4', ts: 4 },
      { page: '/p3', ts: 3 },
    ]);
    expect(index.userPages('alice', { limit: 99 })).toHaveLength(5);
  });

  it('keeps the top pagesPerUser pages of each user', () => {
    const index = openIndex({ pagesPerUser: 2 });
    index.record('alice', '/a', 1);
    index.record('alice', '/b', 3);
    index.record('alice', '/c', 2);
    index.record('alice', '/d', 0);
    expect(index.userPages('alice')).toEqual([
      { page: '/b', ts: 3 },
      { page: '/c', ts: 2 },
    ]);
    index.record('alice', '/a', 5);
    expect(index.userPages('alice')).toEqual([
      { page: '/a', ts: 5 },
      { page: '/b', ts: 3 },
    ]);
  });

  it('leaves out late events', () => {
    const index = openIndex({ userWindow: MINUTE });
    index.record('alice', '/now', 10 * MINUTE);
    index.record('alice', '/then', 2 * MINUTE);
    expect(index.userPages('alice')).toEqual([{ page: '/now', ts: 10 * MINUTE }]);
  });

  it('forgets a user whose latest view is older than watermark - userWindow', () => {
    const index = openIndex({ userWindow: MINUTE });
    index.record('alice', '/a', 0);
    index.record('bob', '/b', MINUTE + 1);
    expect(index.userPages('alice')).toEqual([]);
    expect(index.userPages('alice', { now: 0 })).toEqual([]);
    index.record('alice', '/c', 2 * MINUTE);
    expect(index.userPages('alice')).toEqual([{ page: '/c', ts: 2 * MINUTE }]);
  });
  it('returns every key of a result whose new keys span several native chunks (over 1 MiB)', () => {
    // Keys new to JavaScript cross the boundary joined into strings of about 1 MiB;
    // 40 keys of ~60 KB (some with characters beyond U+FFFF) need three of them.
    const index = openIndex({ maxKeyBytes: 65_535, pagesPerUser: 100 });
    const pages = Array.from({ length: 40 }, (_, i) => `/${i % 3 === 0 ? '😀é' : 'p'}${i}/` + 'x'.repeat(60_000));
    index.record('alice', pages[5]!, 1); // one key already known to JavaScript
    expect(index.userPages('alice')).toEqual([{ page: pages[5], ts: 1 }]);
    pages.forEach((page, i) => index.record('alice', page, 100 + i));
    const expected = pages.map((page, i) => ({ page, ts: 100 + i })).reverse();
    expect(index.userPages('alice')).toEqual(expected);
    expect(index.userPages('alice')).toEqual(expected); // now all from the cache
  });
});
