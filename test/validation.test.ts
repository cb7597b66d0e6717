// Bad input to record() and the queries (SPEC section 1): TypeError for a wrong type,
// RangeError for a bad value, a message naming the argument, and no change to the index.
import { describe, expect, it } from 'vitest';
import { openIndex } from './helpers.js';

type Bad = [label: string, value: unknown, error: ErrorConstructor];

const badKeys: Bad[] = [
  ['undefined', undefined, TypeError],
  ['null', null, TypeError],
  ['a number', 5, TypeError],
  ['an object', {}, TypeError],
  ['a String object', new String('alice'), TypeError],
  ['a symbol', Symbol('alice'), TypeError],
  ['an empty string', '', RangeError],
  ['1025 ASCII bytes', 'a'.repeat(1025), RangeError],
  ['1026 bytes of two-byte characters', 'é'.repeat(513), RangeError],
  ['1028 bytes of four-byte characters', '😀'.repeat(257), RangeError],
  ['a lone high surrogate', 'ab\uD800', RangeError],
  ['a lone low surrogate', '\uDC00cd', RangeError],
  ['surrogates in the wrong order', '\uDE00\uD83D', RangeError],
];

const badTimes: Bad[] = [
  ['a numeric string', '5', TypeError],
  ['null', null, TypeError],
  ['a boolean', true, TypeError],
  ['an object', { valueOf: () => 5 }, TypeError],
  ['a bigint', 5n, TypeError],
  ['NaN', NaN, RangeError],
  ['-1', -1, RangeError],
  ['1.5', 1.5, RangeError],
  ['2 ** 53', 2 ** 53, RangeError],
  ['Infinity', Infinity, RangeError],
  ['an invalid Date', new Date(NaN), RangeError],
  ['a Date before the epoch', new Date(-1), RangeError],
];

/** Asserts that `call` throws `error` with a message matching `name`. */
function expectThrow(call: () => unknown, error: ErrorConstructor, name: RegExp): void {
  let thrown: unknown;
  try {
    call();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected a throw').toBeInstanceOf(error);
  expect((thrown as Error).message).toMatch(name);
}

/** An index holding one view, and a check that nothing changed since. */
function indexWithOneView() {
  const index = openIndex({ usersPerPage: 5 });
  index.record('zed', '/z', 10);
  const { memoryBytes: _m, ...before } = index.stats();
  return {
    index,
    unchanged() {
      const { memoryBytes: _mm, ...after } = index.stats();
      expect(after).toEqual(before);
      expect(index.lastUsers('/z', 5)).toEqual([{ user: 'zed', ts: 10 }]);
    },
  };
}

describe('ActivityIndex#record() bad input', () => {
  it.each(badKeys)('rejects %s as user', (_label, value, error) => {
    const { index, unchanged } = indexWithOneView();
    expectThrow(() => index.record(value as string, '/p', 20), error, /\buser\b/);
    unchanged();
  });

  it.each(badKeys.filter(([label]) => label !== 'undefined'))('rejects %s as page', (_label, value, error) => {
    const { index, unchanged } = indexWithOneView();
    expectThrow(() => index.record('alice', value as string, 20), error, /\bpage\b/);
    unchanged();
  });

  it('rejects a missing page', () => {
    const { index, unchanged } = indexWithOneView();
    expectThrow(() => (index.record as (user: string) => void)('alice'), TypeError, /\bpage\b/);
    unchanged();
  });

  it.each(badTimes)('rejects %s as ts', (_label, value, error) => {
    const { index, unchanged } = indexWithOneView();
    expectThrow(() => index.record('alice', '/p', value as number), error, /\bts\b/);
    unchanged();
  });

  it('counts bytes, not characters, against maxKeyBytes', () => {
    const index = openIndex({ maxKeyBytes: 4 });
    index.record('abcd', 'éé', 1);
    index.record('😀', '/😀'.slice(1), 1);
    expectThrow(() => index.record('abcde', '/', 1), RangeError, /\buser\b/);
    expectThrow(() => index.record('a', 'éée', 1), RangeError, /\bpage\b/);
    expectThrow(() => index.record('a😀', '/', 1), RangeError, /\buser\b/);
    expect(index.stats().events).toBe(2);
  });
});

describe('ActivityIndex#lastUsers() bad input', () => {
  it('rejects a page that is not a string', () => {
    const index = openIndex();
    for (const page of [undefined, null, 5, {}]) expectThrow(() => index.lastUsers(page as string), TypeError, /\bpage\b/);
  });

  it.each<Bad>([
    ['0', 0, RangeError],
    ['-1', -1, RangeError],
    ['1.5', 1.5, RangeError],
    ['NaN', NaN, RangeError],
    ['Infinity', Infinity, RangeError],
    ['usersPerPage + 1', 6, RangeError],
    ['a numeric string', '3', TypeError],
    ['null', null, TypeError],
  ])('rejects %s as k', (_label, k, error) => {
    const index = openIndex({ usersPerPage: 5 });
    expectThrow(() => index.lastUsers('/p', k as number), error, /\bk\b/);
  });

  it('takes k = usersPerPage', () => {
    const index = openIndex({ usersPerPage: 5 });
    expect(index.lastUsers('/p', 5)).toEqual([]);
    expect(openIndex({ usersPerPage: 100_000 }).lastUsers('/p', 100_000)).toEqual([]);
  });
});

describe('ActivityIndex#userPages() bad input', () => {
  it('rejects a user that is not a string', () => {
    const index = openIndex();
    for (const user of [undefined, null, 5, {}]) expectThrow(() => index.userPages(user as string), TypeError, /\buser\b/);
  });

  it('rejects options that are not an object', () => {
    const index = openIndex();
    for (const options of [5, 'window', true]) expect(() => index.userPages('u', options as never)).toThrow(TypeError);
  });

  it('rejects a misspelled option instead of answering for everything', () => {
    const index = openIndex();
    index.record('ann', '/a', 1000);
    expectThrow(() => index.userPages('ann', { windw: '5m' } as never), RangeError, /options\.windw is not an option of userPages\(\) \(did you mean window\?\)/);
    expectThrow(() => index.userPages('ann', { limt: 1 } as never), RangeError, /options\.limt .*did you mean limit\?/);
    try {
      index.userPages('ann', { limt: 1 } as never);
    } catch (error) {
      expect((error as { argument: string }).argument).toBe('options.limt');
    }
  });

  it.each<Bad>([
    ['0', 0, RangeError],
    ['-1', -1, RangeError],
    ['1.5', 1.5, RangeError],
    ['NaN', NaN, RangeError],
    ['more than userWindow', 10 * 60_000 + 1, RangeError],
    ['a duration longer than userWindow', '11m', RangeError],
    ['an unreadable duration', '10 parsecs', RangeError],
    ['an empty string', '', RangeError],
    ['a negative duration', '-5m', RangeError],
    ['a boolean', true, TypeError],
    ['null', null, TypeError],
  ])('rejects %s as window', (_label, window, error) => {
    const index = openIndex({ userWindow: '10m' });
    expectThrow(() => index.userPages('u', { window: window as number }), error, /\bwindow\b/);
  });

  it.each<Bad>([
    ['-1', -1, RangeError],
    ['1.5', 1.5, RangeError],
    ['NaN', NaN, RangeError],
    ['2 ** 53', 2 ** 53, RangeError],
    ['an invalid Date', new Date(NaN), RangeError],
    ['a numeric string', '5', TypeError],
    ['null', null, TypeError],
  ])('rejects %s as now', (_label, now, error) => {
    const index = openIndex();
    expectThrow(() => index.userPages('u', { now: now as number }), error, /\bnow\b/);
  });

  it.each<Bad>([
    ['0', 0, RangeError],
    ['-1', -1, RangeError],
    ['1.5', 1.5, RangeError],
    ['NaN', NaN, RangeError],
    ['a numeric string', '5', TypeError],
    ['null', null, TypeError],
  ])('rejects %s as limit', (_label, limit, error) => {
    const index = openIndex();
    expectThrow(() => index.userPages('u', { limit: limit as number }), error, /\blimit\b/);
  });
});

describe('ActivityIndex#onlineUsers() and #onlineCount() bad input', () => {
  it('reject a page that is not a string', () => {
    const index = openIndex();
    for (const page of [undefined, null, 5, {}]) expectThrow(() => index.onlineUsers(page as string), TypeError, /\bpage\b/);
    for (const page of [null, 5, {}]) expectThrow(() => index.onlineCount(page as string), TypeError, /\bpage\b/);
  });

  it.each<Bad>([
    ['0', 0, RangeError],
    ['-1', -1, RangeError],
    ['1.5', 1.5, RangeError],
    ['NaN', NaN, RangeError],
    ['a numeric string', '3', TypeError],
    ['null', null, TypeError],
  ])('onlineUsers() rejects %s as k', (_label, k, error) => {
    const index = openIndex();
    expectThrow(() => index.onlineUsers('/p', k as number), error, /\bk\b/);
  });

  it('onlineUsers() takes any positive integer k', () => {
    const index = openIndex({ usersPerPage: 1 });
    index.record('a', '/p', 1);
    expect(index.onlineUsers('/p', 1_000_000)).toEqual([{ user: 'a', ts: 1 }]);
  });
});

describe('query keys', () => {
  it('find nothing for a key that could not have been stored', () => {
    const index = openIndex({ maxKeyBytes: 8 });
    index.record('u', '/p', 1);
    for (const key of ['', 'x'.repeat(9)]) {
      expect(index.lastUsers(key)).toEqual([]);
      expect(index.userPages(key)).toEqual([]);
      expect(index.onlineUsers(key)).toEqual([]);
      expect(index.onlineCount(key)).toBe(0);
    }
  });

  it('do not let a lone surrogate find the key stored with U+FFFD in its place', () => {
    const index = openIndex();
    index.record('\uFFFD', '/\uFFFD', 1);
    expect(index.userPages('\uFFFD')).toEqual([{ page: '/\uFFFD', ts: 1 }]);
    for (const lone of ['\uD800', '\uDC00', '\uDFFF']) {
      expect(index.userPages(lone)).toEqual([]);
      expect(index.lastUsers(`/${lone}`)).toEqual([]);
      expect(index.onlineUsers(`/${lone}`)).toEqual([]);
      expect(index.onlineCount(`/${lone}`)).toBe(0);
    }
  });
});
