// A long stream through a small userWindow: what the engine holds must level off
// (semantics.md: memory is bounded by the users active in the window).
import { describe, expect, it } from 'vitest';
import { openIndex } from './helpers.js';

const EVENTS = 1_000_000;
const BATCH = 10_000;
const PAGES = 1000;
const EVENTS_PER_SECOND = 2000;

describe('memory under a long stream', () => {
  it('levels off while users come and go', () => {
    const index = openIndex({ userWindow: '10s' });
    const samples: { events: number; memoryBytes: number; users: number }[] = [];
    let seed = 12345;
    // a linear congruential generator; its low bits cycle, so use the high ones
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 12;
    for (let start = 0; start < EVENTS; start += BATCH) {
      const batch = new Array<{ user: string; page: string; ts: number }>(BATCH);
      for (let j = 0; j < BATCH; j++) {
        const i = start + j;
        // a new user about every 10 events, each seen ~10 times over about a second
        const user = `user-${Math.floor((i + (random() % 2000)) / 10)}`;
        batch[j] = { user, page: `/page/${random() % PAGES}`, ts: Math.floor((i * 1000) / EVENTS_PER_SECOND) };
      }
      expect(index.recordMany(batch)).toBe(BATCH);
      const stats = index.stats();
      samples.push({ events: stats.events, memoryBytes: stats.memoryBytes, users: stats.users });
    }
    index.validate();
    if (process.env.SKIPTRAIL_MEMORY_LOG) console.log(samples.filter((_, i) => i % 10 === 9));

    const maxOf = (list: typeof samples) => Math.max(...list.map((sample) => sample.memoryBytes));
    const half = samples.filter((sample) => sample.events <= EVENTS / 2);
    const lastQuarter = samples.filter((sample) => sample.events > (EVENTS * 3) / 4);
    expect(maxOf(lastQuarter)).toBeLessThanOrEqual(1.2 * maxOf(half));

    // ~10 s × 2000 events/s ÷ ~10 events per user, plus the users straddling the edges
    const windowUsers = (10 * EVENTS_PER_SECOND) / 10;
    for (const sample of samples) expect(sample.users).toBeLessThan(1.5 * windowUsers);
    expect(index.stats()).toMatchObject({ events: EVENTS, pages: PAGES, late: 0 });
  });
});
