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
  it('reaches the engine: one entry in skiplist form takes a node pool chunk', () => {
    setEngineTuning(undefined);
    const arrays = new ActivityIndex();
    setEngineTuning(EVERY_LIST_A_SKIPLIST);
    const skiplists = new ActivityIndex();
    try {
      const empty = { arrays: arrays.stats().memoryBytes, skiplists: skiplists.stats().memoryBytes };
      arrays.record('u', '/p', 1);
      skiplists.record('u', '/p', 1);
      const arraysGrew = arrays.stats().memoryBytes - empty.arrays;
      const skiplistsGrew = skiplists.stats().memoryBytes - empty.skiplists;
      // Two lists (page -> users, user -> pages), each a skiplist: at least one 4 KiB
      // chunk of skiplist nodes; as arrays, a few small allocations.
      expect(skiplistsGrew - arraysGrew).toBeGreaterThanOrEqual(4096);
      expect(skiplists.lastUsers('/p')).toEqual([{ user: 'u', ts: 1 }]);
      skiplists.validate();
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
