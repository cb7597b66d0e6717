import { describe, expect, it } from 'vitest';
import { MINUTE, openIndex } from './helpers.js';

describe('ActivityIndex#stats()', () => {
  it('reports zeros and a -Infinity watermark on a fresh index', () => {
    const stats = openIndex().stats();
    expect(stats).toMatchObject({ events: 0, pages: 0, users: 0, entries: 0, late: 0, evicted: 0, online: 0, watermark: -Infinity });
    expect(typeof stats.memoryBytes).toBe('number');
    expect(stats.memoryBytes).toBeGreaterThanOrEqual(0);
  });

  it('reports every field as a number', () => {
    const index = openIndex();
    index.record('alice', '/a', 1);
    const stats = index.stats();
    for (const field of ['events', 'pages', 'users', 'entries', 'late', 'evicted', 'online', 'watermark', 'memoryBytes'] as const) {
      expect(typeof stats[field], field).toBe('number');
    }
  });

  it('counts events, pages, users, entries and online users', () => {
    const index = openIndex();
    index.recordMany([
      { user: 'alice', page: '/a', ts: 1 },
      { user: 'alice', page: '/b', ts: 2 },
      { user: 'bob', page: '/a', ts: 3 },
      { user: 'bob', page: '/a', ts: 4 },
    ]);
    // page index: /a {alice, bob}, /b {alice}; user index: alice {/a, /b}, bob {/a}
    expect(index.stats()).toMatchObject({ events: 4, pages: 2, users: 2, entries: 3 + 3, late: 0, evicted: 0, online: 2, watermark: 4 });
  });

  it('counts entries kept, not entries seen', () => {
    const index = openIndex({ usersPerPage: 2, pagesPerUser: 1 });
    for (let i = 0; i < 5; i++) index.record(`u${i}`, `/p${i % 2}`, i);
    index.record('u0', '/p1', 10);
    // page index: /p0 {u4, u2}, /p1 {u0, u3}; user index: one page for each of u0..u4
    expect(index.stats()).toMatchObject({ events: 6, pages: 2, users: 5, entries: 4 + 5 });
  });

  it('counts late events', () => {
    const index = openIndex({ userWindow: MINUTE });
    index.record('a', '/', 10 * MINUTE);
    index.record('b', '/', MINUTE);
    index.record('c', '/', 2 * MINUTE);
    expect(index.stats()).toMatchObject({ events: 3, late: 2 });
  });

  it('reports the watermark getter\'s value', () => {
    const index = openIndex();
    index.record('a', '/', 1234);
    expect(index.stats().watermark).toBe(index.watermark);
  });

  it('reports more memory as more is indexed', () => {
    const index = openIndex();
    const empty = index.stats().memoryBytes;
    index.recordMany(Array.from({ length: 20_000 }, (_, i) => ({ user: `user-${i}`, page: `/page-${i % 500}`, ts: i })));
    const full = index.stats().memoryBytes;
    expect(Number.isInteger(full)).toBe(true);
    // 20,000 distinct user strings alone are more than 100 kB.
    expect(full).toBeGreaterThan(empty + 100_000);
  });
});
