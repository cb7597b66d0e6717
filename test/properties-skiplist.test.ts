// The model-based properties (test/model-properties.ts) a second time, with every
// ranked list in skiplist form from its first entry and presence compacting its
// per-page arrays and expiry queue at every chance (src/engine-tuning.ts): the code
// paths that long lists and crowded pages take, under every random stream.
import { describe, expect, it } from 'vitest';
import { ActivityIndex } from '../src/index.js';
import { addon } from '../src/binding.js';
import { setEngineTuning } from '../src/engine-tuning.js';
import { defineModelProperties } from './model-properties.js';

const EVERY_LIST_A_SKIPLIST = { smallListMax: 0, tombstoneSlack: 0, queueSlack: 0 };

setEngineTuning(EVERY_LIST_A_SKIPLIST);

defineModelProperties({
  encoding: 'every list a skiplist',
  numRuns: process.env.CI ? 300 : 60,
  longRuns: process.env.CI ? 40 : 10,
});

describe('engine tuning (tests only)', () => {
  it('reaches the engine: one-entry lists in skiplist form hold more memory than as arrays', () => {
    setEngineTuning(undefined);
    const arrays = new ActivityIndex();
    setEngineTuning(EVERY_LIST_A_SKIPLIST);
    const skiplists = new ActivityIndex();
    try {
      const empty = { arrays: arrays.stats().memoryBytes, skiplists: skiplists.stats().memoryBytes };
      // 500 views, each by a new user of a new page: 1,000 lists of one entry.
      for (let i = 0; i < 500; i++) {
        arrays.record(`u${i}`, `/p${i}`, 1);
        skiplists.record(`u${i}`, `/p${i}`, 1);
      }
      const arraysGrew = arrays.stats().memoryBytes - empty.arrays;
      const skiplistsGrew = skiplists.stats().memoryBytes - empty.skiplists;
      // Both kinds come from node pools, so chunks round both; but a list in skiplist
      // form holds its list object (at least 32 bytes) beside a node larger than an
      // array's 24-byte block.
      expect(skiplistsGrew - arraysGrew).toBeGreaterThanOrEqual(1000 * 32);
      expect(skiplists.lastUsers('/p7')).toEqual([{ user: 'u7', ts: 1 }]);
      skiplists.validate();
      arrays.validate();
    } finally {
      arrays.close();
      skiplists.close();
    }
  });

  it('is checked by the addon: an object of whole numbers from 0 to 2^32 - 1', () => {
    const make = (tuning: unknown) => new addon.NativeActivityIndex(30, 1000, 60_000, -1, 60_000, -1, -1, 1024, tuning as never);
    expect(() => make(undefined).close()).not.toThrow();
    expect(() => make({}).close()).not.toThrow();
    expect(() => make({ smallListMax: 4294967295, tombstoneSlack: 0, queueSlack: 7 }).close()).not.toThrow();
    expect(() => make(5)).toThrow(new TypeError('tuning must be an object'));
    expect(() => make({ smallListMax: '0' })).toThrow(new TypeError('tuning.smallListMax must be a number'));
    expect(() => make({ tombstoneSlack: -1 })).toThrow(new RangeError('tuning.tombstoneSlack must be an integer from 0 to 4294967295'));
    expect(() => make({ queueSlack: 0.5 })).toThrow(RangeError);
    expect(() => make({ smallListMax: 4294967296 })).toThrow(RangeError);
    expect(() =>
      make({
        get smallListMax() {
          throw new Error('getter');
        },
      }),
    ).toThrow('getter');
  });
});
