import { describe, expect, it } from 'vitest';
import { openIndex } from './helpers.js';

const events = [
  { user: 'alice', page: '/a', ts: 100 },
  { user: 'bob', page: '/a', ts: 200 },
  { user: 'alice', page: '/b', ts: 300 },
];

/** What an index answers about `events`' keys, to compare two indexes. */
function snapshot(index: ReturnType<typeof openIndex>) {
  const { memoryBytes: _memory, ...stats } = index.stats();
  return {
    stats,
    watermark: index.watermark,
    a: index.lastUsers('/a'),
    b: index.lastUsers('/b'),
    alice: index.userPages('alice'),
    bob: index.userPages('bob'),
    online: index.onlineUsers('/a'),
  };
}

describe('ActivityIndex#recordMany()', () => {
  it('returns the number of events indexed', () => {
    const index = openIndex();
    expect(index.recordMany(events)).toBe(3);
    expect(index.recordMany([])).toBe(0);
    expect(index.stats().events).toBe(3);
  });

  it('indexes the same as record() of each event in turn', () => {
    const one = openIndex({ userWindow: 150 });
    const many = openIndex({ userWindow: 150 });
    const stream = [...events, { user: 'carol', page: '/a', ts: 50 }, { user: 'bob', page: '/b', ts: 250 }];
    for (const { user, page, ts } of stream) one.record(user, page, ts);
    expect(many.recordMany(stream)).toBe(stream.length);
    expect(snapshot(many)).toEqual(snapshot(one));
  });

  it('accepts any iterable: an array, a Set, a generator, a Map\'s values', () => {
    const fromArray = openIndex();
    fromArray.recordMany(events);
    const expected = snapshot(fromArray);
    const iterables: Iterable<(typeof events)[number]>[] = [
      new Set(events),
      (function* () {
        yield* events;
      })(),
      new Map(events.map((event, i) => [i, event])).values(),
    ];
    for (const iterable of iterables) {
      const index = openIndex();
      expect(index.recordMany(iterable)).toBe(3);
      expect(snapshot(index)).toEqual(expected);
    }
  });

  it('takes keys near maxKeyBytes and Date times in the same batch as plain events', () => {
    const index = openIndex();
    const long = 'x'.repeat(400) + 'é'.repeat(300); // 700 UTF-16 units, 1000 UTF-8 bytes
    expect(index.recordMany([events[0]!, { user: long, page: '/😀', ts: new Date(150) }, events[1]!])).toBe(3);
    expect(index.lastUsers('/😀')).toEqual([{ user: long, ts: 150 }]);
    expect(index.lastUsers('/a')).toEqual([
      { user: 'bob', ts: 200 },
      { user: 'alice', ts: 100 },
    ]);
  });

  it('takes Date times', () => {
    const index = openIndex();
    index.recordMany([{ user: 'alice', page: '/a', ts: new Date(1234) }]);
    expect(index.lastUsers('/a')).toEqual([{ user: 'alice', ts: 1234 }]);
  });

  it('decides lateness event by event, as the watermark moves within the batch', () => {
    const index = openIndex({ userWindow: 50 });
    index.recordMany([
      { user: 'x', page: '/', ts: 10 },
      { user: 'y', page: '/', ts: 100 },
      { user: 'z', page: '/', ts: 40 },
    ]);
    // x arrived first, so it was not late; z arrived after y moved the watermark to 100.
    expect(index.stats().late).toBe(1);
    expect(index.userPages('z')).toEqual([]);
    expect(index.lastUsers('/').map((entry) => entry.user)).toEqual(['y', 'z', 'x']);
  });

  it('indexes nothing of a batch with an invalid event, and names its position', () => {
    const index = openIndex();
    index.record('zed', '/z', 10);
    const before = snapshot(index);
    const cases: [unknown[], RegExp, ErrorConstructor][] = [
      [[...events, { user: 'dave', page: '/a', ts: -1 }], /events\[3\]\.ts/, RangeError],
      [[events[0], { user: '', page: '/a', ts: 1 }], /events\[1\]\.user/, RangeError],
      [[{ user: 'dave', page: 42, ts: 1 }], /events\[0\]\.page/, TypeError],
      [[events[0], events[1], null], /events\[2\]/, TypeError],
      [[events[0], { user: 'dave', page: '/a', ts: '5' }], /events\[1\]\.ts/, TypeError],
      [[events[0], { user: 'dave', page: '/a' }], /events\[1\]\.ts/, TypeError],
      [[events[0], { user: '\uDC00', page: '/a', ts: 1 }], /events\[1\]\.user/, RangeError],
      // A high surrogate ending the user and a low one starting the page are no pair.
      [[events[0], { user: 'dave\uD83D', page: '\uDE00/a', ts: 1 }], /events\[1\]\.user/, RangeError],
      [[events[0], { user: 'dave', page: '/a\uD83D', ts: 1 }, events[1]], /events\[1\]\.page/, RangeError],
      // The first invalid event is named, whichever check finds it.
      [[{ user: 'x'.repeat(2000), page: '/a', ts: 1 }, { user: 'e\uD800', page: '/a', ts: 1 }], /events\[0\]\.user/, RangeError],
      [[{ user: 'e\uD800', page: '/a', ts: 1 }, { user: 'dave', page: 42, ts: 1 }], /events\[0\]\.user/, RangeError],
      [[{ user: 'e\uD800', page: '/a', ts: 1 }, { user: 'x'.repeat(400) + 'é'.repeat(300), page: '/a', ts: 1 }, { user: 'f', page: '/a', ts: new Date(NaN) }], /events\[0\]\.user/, RangeError],
      [[{ user: 'x'.repeat(400) + 'é'.repeat(300), page: '/a', ts: 1 }, { user: 'f', page: '/a', ts: new Date(NaN) }], /events\[1\]\.ts/, RangeError],
    ];
    for (const [batch, message, kind] of cases) {
      expect(() => index.recordMany(batch as never)).toThrow(kind);
      expect(() => index.recordMany(batch as never)).toThrow(message);
      expect(snapshot(index)).toEqual(before);
    }
  });

  it('indexes nothing when the iterable itself throws', () => {
    const index = openIndex();
    function* failing() {
      yield events[0]!;
      yield events[1]!;
      throw new Error('source failed');
    }
    expect(() => index.recordMany(failing())).toThrow('source failed');
    expect(index.stats().events).toBe(0);
    expect(index.lastUsers('/a')).toEqual([]);
  });

  it('rejects something that is not an iterable with a TypeError naming events', () => {
    const index = openIndex();
    for (const bad of [undefined, null, 5, {}, { length: 1, 0: events[0] }]) {
      expect(() => index.recordMany(bad as never)).toThrow(TypeError);
      expect(() => index.recordMany(bad as never)).toThrow(/events/);
    }
  });

  // recordMany hands known keys over as ids (a JavaScript key -> id cache); ids are
  // freed with a key's last entry and reused for other keys, by any write path.
  describe('when a key\'s id is freed and taken by another key between batches', () => {
    const freeAlice = (index: ReturnType<typeof openIndex>) => {
      index.recordMany([{ user: 'alice', page: '/p', ts: 0 }]);
      // bob takes alice's place on /p (usersPerPage 1) and her user entry expires.
      index.recordMany([{ user: 'bob', page: '/p', ts: 5000 }]);
    };

    it('through recordMany', () => {
      const index = openIndex({ usersPerPage: 1, userWindow: 1000 });
      freeAlice(index);
      index.recordMany([{ user: 'carol', page: '/r', ts: 5001 }]);
      index.recordMany([{ user: 'alice', page: '/s', ts: 5002 }]);
      expect(index.userPages('alice')).toEqual([{ page: '/s', ts: 5002 }]);
      expect(index.userPages('carol')).toEqual([{ page: '/r', ts: 5001 }]);
      expect(index.lastUsers('/r')).toEqual([{ user: 'carol', ts: 5001 }]);
      expect(index.lastUsers('/s')).toEqual([{ user: 'alice', ts: 5002 }]);
      index.validate();
    });

    it('through record() and ingest()', () => {
      for (const write of ['record', 'ingest'] as const) {
        const index = openIndex({ usersPerPage: 1, userWindow: 1000 });
        freeAlice(index);
        if (write === 'record') index.record('carol', '/r', 5001);
        else index.ingest('{"user":"carol","page":"/r","ts":5001}\n', { format: 'ndjson' });
        index.recordMany([{ user: 'alice', page: '/s', ts: 5002 }]);
        expect(index.userPages('alice'), write).toEqual([{ page: '/s', ts: 5002 }]);
        expect(index.userPages('carol'), write).toEqual([{ page: '/r', ts: 5001 }]);
        expect(index.lastUsers('/s'), write).toEqual([{ user: 'alice', ts: 5002 }]);
        index.validate();
      }
    });

    it('within one batch', () => {
      const index = openIndex({ usersPerPage: 1, userWindow: 1000 });
      index.recordMany([{ user: 'alice', page: '/p', ts: 0 }]);
      index.recordMany([
        { user: 'bob', page: '/p', ts: 5000 },
        { user: 'carol', page: '/r', ts: 5001 },
        { user: 'alice', page: '/s', ts: 5002 },
        { user: 'carol', page: '/t', ts: 5003 },
      ]);
      expect(index.userPages('alice')).toEqual([{ page: '/s', ts: 5002 }]);
      expect(index.userPages('carol')).toEqual([
        { page: '/t', ts: 5003 },
        { page: '/r', ts: 5001 },
      ]);
      index.recordMany([{ user: 'carol', page: '/u', ts: 5004 }, { user: 'alice', page: '/u', ts: 5005 }]);
      expect(index.lastUsers('/u')).toEqual([{ user: 'alice', ts: 5005 }]);
      expect(index.userPages('carol')[0]).toEqual({ page: '/u', ts: 5004 });
      index.validate();
    });

    it('after more ids were freed than the engine logs (the cache starts over)', () => {
      const index = openIndex({ usersPerPage: 1, userWindow: 1000 });
      const many = Array.from({ length: 70_000 }, (_, i) => ({ user: `u${i}`, page: `/p${i}`, ts: 0 }));
      index.recordMany(many);
      // Every user but the last is pushed off their page, then all expire.
      index.recordMany(many.map((e) => ({ user: 'x', page: e.page, ts: 5000 })));
      index.recordMany(many.slice(0, 1000).map((e, i) => ({ user: `new${i}`, page: '/new', ts: 5001 })));
      index.recordMany([{ user: 'u1', page: '/back', ts: 5002 }]);
      expect(index.userPages('u1')).toEqual([{ page: '/back', ts: 5002 }]);
      expect(index.lastUsers('/back')).toEqual([{ user: 'u1', ts: 5002 }]);
      expect(index.userPages('new999')).toEqual([{ page: '/new', ts: 5001 }]);
      index.validate();
    });
  });
});
