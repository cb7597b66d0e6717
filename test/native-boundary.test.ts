// The raw addon (src/binding.ts) handed what the facade never hands it: C++ must
// answer with a TypeError, never dereference a missing engine.
import { describe, expect, it } from 'vitest';
import { addon } from '../src/binding.js';
import { resolveIngestOptions } from '../src/ingest.js';

const OPTIONS = resolveIngestOptions({}, 1024);
const LINE = '1.2.3.4 - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 5 "-" "x"\n';

function newIndex() {
  return new addon.NativeActivityIndex(30, 1000, 3_600_000, -1, 3_600_000, -1, -1, 1024);
}

describe('NativeIngestSession(index, options)', () => {
  it('feeds an open index', () => {
    const index = newIndex();
    const session = new addon.NativeIngestSession(index, OPTIONS);
    session.feed(Buffer.from(LINE));
    session.finish();
    expect(session.report()).toMatchObject({ lines: 1, accepted: 1, rejected: 0 });
    expect(index.stats().events).toBe(1);
    index.close();
  });

  it('throws a TypeError for anything that is not an index this addon made', () => {
    const index = newIndex();
    const session = new addon.NativeIngestSession(index, OPTIONS);
    const notIndexes: [string, unknown][] = [
      ['an object made from the prototype, never constructed', Object.create(addon.NativeActivityIndex.prototype)],
      ['an ingest session given the index prototype', Object.setPrototypeOf(new addon.NativeIngestSession(index, OPTIONS), addon.NativeActivityIndex.prototype)],
      ['a plain object', {}],
      ['null', null],
      ['a number', 7],
      ['a function', () => index],
    ];
    for (const [what, value] of notIndexes) {
      expect(() => new addon.NativeIngestSession(value as never, OPTIONS), what).toThrow(
        new TypeError('NativeIngestSession(index, options): index must be a NativeActivityIndex'),
      );
    }
    expect(() => new (addon.NativeIngestSession as unknown as new () => unknown)()).toThrow(TypeError);
    session.finish();
    index.close();
  });

  it('throws a TypeError for a closed index, and an Error when the index closes under a session', () => {
    const closed = newIndex();
    closed.close();
    expect(() => new addon.NativeIngestSession(closed, OPTIONS)).toThrow(new TypeError('NativeIngestSession(index, options): index is closed'));

    const index = newIndex();
    const session = new addon.NativeIngestSession(index, OPTIONS);
    index.close();
    expect(() => session.feed(Buffer.from(LINE))).toThrow(new Error('ActivityIndex is closed'));
    expect(() => session.finish()).toThrow(new Error('ActivityIndex is closed'));
  });
});
