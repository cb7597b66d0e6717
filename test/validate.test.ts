import { describe, expect, it } from 'vitest';
import { openIndex } from './helpers.js';

describe('ActivityIndex#validate()', () => {
  it('passes on a fresh index', () => {
    expect(openIndex().validate()).toBeUndefined();
  });

  it('passes after a stream with expiry, caps, late events and ties', () => {
    const index = openIndex({ usersPerPage: 3, pagesPerUser: 2, userWindow: 50, pageWindow: 80, presenceWindow: 20, maxPages: 20, maxUsers: 40 });
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 12;
    let ts = 0;
    for (let i = 0; i < 20_000; i++) {
      ts += next() % 3;
      const when = next() % 10 === 0 ? Math.max(0, ts - (next() % 200)) : ts;
      index.record(`user${next() % 100}`, `/page${next() % 30}`, when);
      if (i % 2000 === 0) index.validate();
    }
    expect(index.validate()).toBeUndefined();
    expect(index.stats().late).toBeGreaterThan(0);
    expect(index.stats().evicted).toBeGreaterThan(0);
  });

  it('passes after clear()', () => {
    const index = openIndex();
    for (let i = 0; i < 1000; i++) index.record(`u${i}`, `/p${i % 10}`, i);
    index.clear();
    index.validate();
    index.record('u', '/p', 1);
    index.validate();
  });
});
