import { describe, expect, it } from 'vitest';
import { ActivityIndex } from '../src/index.js';
import { DAY, HOUR, MINUTE, openIndex, SECOND, type IndexOptions, frozenClock } from './helpers.js';

/** Asserts `new ActivityIndex(options)` throws `error` naming `options.<field>`. */
function expectRejected(options: unknown, error: ErrorConstructor, field: string): void {
  let thrown: unknown;
  try {
    new ActivityIndex(options as IndexOptions).close();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ${JSON.stringify(options)} to throw`).toBeInstanceOf(error);
  expect((thrown as Error).message).toContain(`options.${field}`);
}

/** The userWindow an index uses, found from where a user's view stops being returned. */
function expectUserWindow(userWindow: number | string, ms: number): void {
  const index = openIndex({ userWindow, now: frozenClock });
  index.record('alice', '/a', 0);
  index.record('bob', '/b', ms);
  expect(index.userPages('alice')).toHaveLength(1);
  index.record('bob', '/b', ms + 1);
  expect(index.userPages('alice')).toHaveLength(0);
}

describe('new ActivityIndex(options)', () => {
  it('works without options', () => {
    const index = openIndex();
    index.record('a', '/', 1);
    expect(index.lastUsers('/')).toEqual([{ user: 'a', ts: 1 }]);
    expect(openIndex({}).stats().events).toBe(0);
  });

  describe('usersPerPage', () => {
    it('defaults to 30', () => {
      const index = openIndex();
      for (let i = 0; i < 40; i++) index.record(`u${i}`, '/', i);
      expect(index.lastUsers('/', 30)).toHaveLength(30);
      expect(() => index.lastUsers('/', 31)).toThrow(RangeError);
      expect(index.stats().entries).toBe(30 + 40);
    });

    it('bounds each page', () => {
      const index = openIndex({ usersPerPage: 3 });
      for (let i = 0; i < 10; i++) index.record(`u${i}`, '/', i);
      expect(index.lastUsers('/', 3).map((entry) => entry.user)).toEqual(['u9', 'u8', 'u7']);
    });

    it('takes 1 and 100000', () => {
      openIndex({ usersPerPage: 1 });
      openIndex({ usersPerPage: 100_000 });
    });

    it.each([0, -1, 1.5, 100_001, NaN, Infinity])('rejects %s', (value) => expectRejected({ usersPerPage: value }, RangeError, 'usersPerPage'));
    it.each(['30', null, true])('rejects %s with a TypeError', (value) => expectRejected({ usersPerPage: value }, TypeError, 'usersPerPage'));
  });

  describe('pagesPerUser', () => {
    it('defaults to 1000', () => {
      const index = openIndex();
      index.recordMany(Array.from({ length: 1001 }, (_, i) => ({ user: 'alice', page: `/p${i}`, ts: i })));
      const pages = index.userPages('alice');
      expect(pages).toHaveLength(1000);
      expect(pages.at(-1)).toEqual({ page: '/p1', ts: 1 });
    });

    it('takes 1 and 1000000', () => {
      const index = openIndex({ pagesPerUser: 1 });
      index.record('alice', '/a', 1);
      index.record('alice', '/b', 2);
      expect(index.userPages('alice')).toEqual([{ page: '/b', ts: 2 }]);
      openIndex({ pagesPerUser: 1_000_000 });
    });

    it.each([0, -1, 2.5, 1_000_001, NaN])('rejects %s', (value) => expectRejected({ pagesPerUser: value }, RangeError, 'pagesPerUser'));
    it.each(['5', {}])('rejects %s with a TypeError', (value) => expectRejected({ pagesPerUser: value }, TypeError, 'pagesPerUser'));
  });

  describe('userWindow', () => {
    it('defaults to 30 minutes', () => expectUserWindow(30 * MINUTE, 30 * MINUTE));

    it.each<[string | number, number]>([
      [12_345, 12_345],
      ['500ms', 500],
      ['90s', 90 * SECOND],
      ['30m', 30 * MINUTE],
      ['2h', 2 * HOUR],
      ['1d', DAY],
    ])('takes %s', (value, ms) => expectUserWindow(value, ms));

    it.each([0, -1, 1.5, NaN, Infinity, 2 ** 53, '', '30', '30x', '-5m', 'm', '0s'])('rejects %s', (value) =>
      expectRejected({ userWindow: value }, RangeError, 'userWindow'),
    );
    it.each([null, true, {}])('rejects %s with a TypeError', (value) => expectRejected({ userWindow: value }, TypeError, 'userWindow'));
  });

  describe('pageWindow', () => {
    it('defaults to none', () => {
      const index = openIndex();
      index.record('a', '/', 0);
      index.record('b', '/x', 1000 * DAY);
      expect(index.lastUsers('/')).toEqual([{ user: 'a', ts: 0 }]);
    });

    it('takes ms or a duration string', () => {
      for (const pageWindow of [90 * SECOND, '90s']) {
        const index = openIndex({ pageWindow });
        index.record('a', '/', 0);
        index.record('b', '/x', 90 * SECOND);
        expect(index.lastUsers('/')).toHaveLength(1);
        index.record('b', '/x', 90 * SECOND + 1);
        expect(index.lastUsers('/')).toHaveLength(0);
      }
    });

    it.each([0, -5, 0.5, NaN, 'soon'])('rejects %s', (value) => expectRejected({ pageWindow: value }, RangeError, 'pageWindow'));
    it.each([true, null])('rejects %s with a TypeError', (value) => expectRejected({ pageWindow: value }, TypeError, 'pageWindow'));
  });

  describe('presenceWindow', () => {
    it('may equal userWindow', () => {
      openIndex({ userWindow: '10m', presenceWindow: 10 * MINUTE });
      openIndex({ presenceWindow: '30m' });
    });

    it('rejects a presenceWindow larger than userWindow', () => {
      expectRejected({ userWindow: '10m', presenceWindow: '11m' }, RangeError, 'presenceWindow');
      expectRejected({ presenceWindow: 30 * MINUTE + 1 }, RangeError, 'presenceWindow');
    });

    it.each([0, -1, 1.5, 'x'])('rejects %s', (value) => expectRejected({ presenceWindow: value }, RangeError, 'presenceWindow'));
    it.each([false, null])('rejects %s with a TypeError', (value) => expectRejected({ presenceWindow: value }, TypeError, 'presenceWindow'));
  });

  describe.each(['maxPages', 'maxUsers'] as const)('%s', (cap) => {
    it('takes a positive integer or Infinity', () => {
      openIndex({ [cap]: 1 });
      openIndex({ [cap]: 1_000_000_000 });
      openIndex({ [cap]: Infinity });
    });

    it.each([0, -1, 1.5, NaN, -Infinity])('rejects %s', (value) => expectRejected({ [cap]: value }, RangeError, cap));
    it.each(['5', null, {}])('rejects %s with a TypeError', (value) => expectRejected({ [cap]: value }, TypeError, cap));
  });

  describe('maxKeyBytes', () => {
    it('defaults to 1024', () => {
      const index = openIndex();
      index.record('a'.repeat(1024), '/', 1);
      expect(() => index.record('a'.repeat(1025), '/', 1)).toThrow(RangeError);
    });

    it('takes 1 and 65535', () => {
      const small = openIndex({ maxKeyBytes: 1 });
      small.record('a', 'b', 1);
      expect(() => small.record('é', 'b', 1)).toThrow(RangeError);
      const large = openIndex({ maxKeyBytes: 65_535 });
      large.record('u'.repeat(65_535), 'p'.repeat(65_535), 1);
      expect(large.lastUsers('p'.repeat(65_535))).toEqual([{ user: 'u'.repeat(65_535), ts: 1 }]);
      expect(() => large.record('u'.repeat(65_536), '/', 1)).toThrow(RangeError);
    });

    it.each([0, 65_536, -1, 1.5, NaN, Infinity])('rejects %s', (value) => expectRejected({ maxKeyBytes: value }, RangeError, 'maxKeyBytes'));
    it.each(['1024', null])('rejects %s with a TypeError', (value) => expectRejected({ maxKeyBytes: value }, TypeError, 'maxKeyBytes'));
  });

  describe('clock', () => {
    it("defaults to 'stream': queries look back from the watermark", () => {
      for (const index of [openIndex(), openIndex({ clock: 'stream' })]) {
        index.record('alice', '/a', 1000);
        expect(index.userPages('alice')).toEqual([{ page: '/a', ts: 1000 }]);
        expect(index.onlineCount()).toBe(1);
      }
    });

    it("'wall' looks back from Date.now() by default", () => {
      const index = openIndex({ clock: 'wall' });
      const now = Date.now();
      index.record('old', '/a', now - HOUR);
      index.record('recent', '/a', now - MINUTE);
      expect(index.userPages('old')).toEqual([]);
      expect(index.userPages('old', { now: now - HOUR })).toEqual([]); // older than watermark - userWindow
      expect(index.userPages('recent')).toEqual([{ page: '/a', ts: now - MINUTE }]);
      index.record('future', '/a', now + MINUTE);
      expect(index.userPages('future')).toEqual([]);
      expect(index.userPages('future', { now: now + MINUTE })).toEqual([{ page: '/a', ts: now + MINUTE }]);
      expect(index.watermark).toBe(now + MINUTE);
    });

    it("'wall' counts presence up to Date.now()", () => {
      const index = openIndex({ clock: 'wall', presenceWindow: '5m' });
      const now = Date.now();
      index.record('gone', '/a', now - 10 * MINUTE);
      index.record('here', '/a', now - MINUTE);
      expect(index.onlineUsers('/a')).toEqual([{ user: 'here', ts: now - MINUTE }]);
      expect(index.onlineCount()).toBe(1);
      const stream = openIndex({ presenceWindow: '5m' });
      stream.record('old', '/a', 1000);
      expect(stream.onlineCount()).toBe(1);
    });

    it.each(['Wall', 'utc', ''])('rejects %s', (value) => expectRejected({ clock: value }, RangeError, 'clock'));
    it.each([1, true, null])('rejects %s with a TypeError', (value) => expectRejected({ clock: value }, TypeError, 'clock'));
  });

  it('rejects an unknown option with a RangeError naming it, its argument and the nearest option', () => {
    expectRejected({ userperpage: 5 }, RangeError, 'userperpage');
    expectRejected({ usersPerPage: 5, window: '5m' }, RangeError, 'window');
    expect(() => new ActivityIndex({ userperpage: 5 } as never)).toThrow(
      'options.userperpage is not an option of ActivityIndex (did you mean usersPerPage?)',
    );
    let thrown: unknown;
    try {
      new ActivityIndex({ pageWindw: '1d' } as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RangeError);
    expect((thrown as { argument: string }).argument).toBe('options.pageWindw');
  });

  it('names the argument of every validation error in its argument property', () => {
    for (const [options, argument] of [
      [{ userWindow: 'soon' }, 'options.userWindow'],
      [{ usersPerPage: 0 }, 'options.usersPerPage'],
      [{ clock: 5 }, 'options.clock'],
      [5, 'options'],
    ] as const) {
      try {
        new ActivityIndex(options as never);
        expect.unreachable();
      } catch (error) {
        expect((error as { argument: string }).argument).toBe(argument);
      }
    }
  });

  it('rejects options that are not an object', () => {
    for (const options of [5, 'fast', true]) expect(() => new ActivityIndex(options as never)).toThrow(TypeError);
  });
});
