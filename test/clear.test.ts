import { describe, expect, it } from 'vitest';
import { MINUTE, openIndex } from './helpers.js';

function filled() {
  const index = openIndex({ usersPerPage: 3, userWindow: '10m', maxUsers: 1000 });
  index.recordMany(Array.from({ length: 5000 }, (_, i) => ({ user: `user-${i}`, page: `/p${i % 50}`, ts: 20 * MINUTE + i })));
  index.record('late', '/p0', 0);
  return index;
}

describe('ActivityIndex#clear()', () => {
  it('forgets every view', () => {
    const index = filled();
    expect(index.clear()).toBeUndefined();
    expect(index.lastUsers('/p0', 3)).toEqual([]);
    expect(index.userPages('user-4999')).toEqual([]);
    expect(index.onlineUsers('/p49')).toEqual([]);
    expect(index.onlineCount()).toBe(0);
    expect(index.watermark).toBe(-Infinity);
    expect(index.stats()).toMatchObject({ pages: 0, users: 0, entries: 0, online: 0, watermark: -Infinity });
    index.validate();
  });

  it('resets the counters, as on a new index', () => {
    const index = filled();
    expect(index.stats()).toMatchObject({ events: 5001, late: 1 });
    index.clear();
    expect(index.stats()).toMatchObject({ events: 0, late: 0, evicted: 0 });
  });

  it('returns the memory it held', () => {
    const index = filled();
    const full = index.stats().memoryBytes;
    index.clear();
    expect(index.stats().memoryBytes).toBeLessThan(full);
  });

  it('leaves a working index with the same options', () => {
    const index = filled();
    index.clear();
    // the old watermark is gone: an early time is not late any more
    index.record('alice', '/a', 0);
    expect(index.userPages('alice')).toEqual([{ page: '/a', ts: 0 }]);
    for (let i = 1; i <= 5; i++) index.record(`u${i}`, '/a', i);
    expect(index.lastUsers('/a', 3).map((entry) => entry.user)).toEqual(['u5', 'u4', 'u3']);
    expect(() => index.lastUsers('/a', 4)).toThrow(RangeError);
    expect(index.stats()).toMatchObject({ pages: 1, users: 6, entries: 3 + 6, online: 6, watermark: 5 });
    index.validate();
  });

  it('is harmless on an empty index', () => {
    const index = openIndex();
    index.clear();
    index.clear();
    expect(index.stats()).toMatchObject({ pages: 0, users: 0, entries: 0 });
  });
});
