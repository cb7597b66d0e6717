import { describe, expect, it } from 'vitest';
import { byteOrder, MINUTE, openIndex } from './helpers.js';

describe('ActivityIndex#lastUsers()', () => {
  it('returns [] for an unknown page', () => {
    const index = openIndex();
    expect(index.lastUsers('/nowhere')).toEqual([]);
    index.record('alice', '/home', 1);
    expect(index.lastUsers('/nowhere')).toEqual([]);
  });

  it('ranks users most recent first', () => {
    const index = openIndex();
    index.record('alice', '/', 100);
    index.record('bob', '/', 300);
    index.record('carol', '/', 200);
    expect(index.lastUsers('/')).toEqual([
      { user: 'bob', ts: 300 },
      { user: 'carol', ts: 200 },
      { user: 'alice', ts: 100 },
    ]);
  });

  it('breaks equal times by byte-wise key order', () => {
    const index = openIndex();
    // UTF-16 order would put '😀' (0xD83D…) before 'ﬀ' (0xFB00); UTF-8 bytes put it after.
    const users = ['😀', 'ﬀ', 'b', 'B', 'aa', 'a', 'é', 'z'];
    for (const user of users) index.record(user, '/', 7);
    expect(index.lastUsers('/').map((entry) => entry.user)).toEqual(byteOrder(users));
    expect(byteOrder(users)).toEqual(['B', 'a', 'aa', 'b', 'z', 'é', 'ﬀ', '😀']);
  });

  it('keeps the latest view when an older one arrives late', () => {
    const index = openIndex();
    index.record('alice', '/', 500);
    index.record('bob', '/', 400);
    index.record('alice', '/', 300);
    expect(index.lastUsers('/')).toEqual([
      { user: 'alice', ts: 500 },
      { user: 'bob', ts: 400 },
    ]);
  });

  it('returns at most k entries, 30 by default', () => {
    const index = openIndex();
    for (let i = 0; i < 40; i++) index.record(`user${i}`, '/', i);
    expect(index.lastUsers('/')).toHaveLength(30);
    expect(index.lastUsers('/', 3)).toEqual([
      { user: 'user39', ts: 39 },
      { user: 'user38', ts: 38 },
      { user: 'user37', ts: 37 },
    ]);
    expect(index.lastUsers('/', 30).at(-1)).toEqual({ user: 'user10', ts: 10 });
  });

  describe('with usersPerPage', () => {
    it('keeps the top-ranked users of each page', () => {
      const index = openIndex({ usersPerPage: 2 });
      index.record('a', '/', 1);
      index.record('b', '/', 3);
      index.record('c', '/', 2);
      expect(index.lastUsers('/', 2)).toEqual([
        { user: 'b', ts: 3 },
        { user: 'c', ts: 2 },
      ]);
    });

    it('drops a late event that would not make the top', () => {
      const index = openIndex({ usersPerPage: 2 });
      index.recordMany([
        { user: 'b', page: '/', ts: 3 },
        { user: 'c', page: '/', ts: 2 },
        { user: 'a', page: '/', ts: 1 },
      ]);
      expect(index.lastUsers('/', 2).map((entry) => entry.user)).toEqual(['b', 'c']);
    });

    it('lets a user that was dropped come back with a newer view', () => {
      const index = openIndex({ usersPerPage: 2 });
      index.recordMany([
        { user: 'a', page: '/', ts: 1 },
        { user: 'b', page: '/', ts: 2 },
        { user: 'c', page: '/', ts: 3 },
        { user: 'a', page: '/', ts: 4 },
      ]);
      expect(index.lastUsers('/', 2)).toEqual([
        { user: 'a', ts: 4 },
        { user: 'c', ts: 3 },
      ]);
    });

    it('lets an equal-time newcomer in when its key is byte-wise smaller than the lowest kept', () => {
      const index = openIndex({ usersPerPage: 1 });
      index.record('b', '/', 5);
      index.record('c', '/', 5);
      expect(index.lastUsers('/', 1)).toEqual([{ user: 'b', ts: 5 }]);
      index.record('a', '/', 5);
      expect(index.lastUsers('/', 1)).toEqual([{ user: 'a', ts: 5 }]);
    });

    it('gives the same answer for any arrival order of the same events', () => {
      const views = [
        { user: 'a', page: '/', ts: 5 },
        { user: 'b', page: '/', ts: 9 },
        { user: 'a', page: '/', ts: 12 },
        { user: 'c', page: '/', ts: 9 },
        { user: 'd', page: '/', ts: 1 },
        { user: 'b', page: '/', ts: 2 },
      ];
      const orders = [views, [...views].reverse(), [views[3]!, views[0]!, views[5]!, views[1]!, views[4]!, views[2]!]];
      const answers = orders.map((order) => {
        const index = openIndex({ usersPerPage: 2, userWindow: 3 });
        index.recordMany(order);
        return index.lastUsers('/', 2);
      });
      expect(answers[0]).toEqual([
        { user: 'a', ts: 12 },
        { user: 'b', ts: 9 },
      ]);
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[2]).toEqual(answers[0]);
    });
  });

  it('keeps entries older than userWindow (only pageWindow expires Q1)', () => {
    const index = openIndex({ userWindow: MINUTE });
    index.record('old', '/', 0);
    index.record('new', '/', 60 * MINUTE);
    expect(index.lastUsers('/')).toEqual([
      { user: 'new', ts: 60 * MINUTE },
      { user: 'old', ts: 0 },
    ]);
  });

  describe('with pageWindow', () => {
    it('never returns entries older than watermark - pageWindow', () => {
      const index = openIndex({ pageWindow: 10 * MINUTE });
      index.record('old', '/', 0);
      index.record('edge', '/', 5 * MINUTE);
      index.record('new', '/other', 15 * MINUTE);
      expect(index.lastUsers('/')).toEqual([{ user: 'edge', ts: 5 * MINUTE }]);
      index.record('new', '/other', 15 * MINUTE + 1);
      expect(index.lastUsers('/')).toEqual([]);
      expect(index.lastUsers('/other')).toEqual([{ user: 'new', ts: 15 * MINUTE + 1 }]);
    });

    it('does not return an event already expired when it arrives', () => {
      const index = openIndex({ pageWindow: '1m' });
      index.record('new', '/', 10 * MINUTE);
      index.record('old', '/', MINUTE);
      index.record('old', '/fresh', MINUTE);
      expect(index.lastUsers('/')).toEqual([{ user: 'new', ts: 10 * MINUTE }]);
      expect(index.lastUsers('/fresh')).toEqual([]);
    });

    it('lets new users fill the places of expired ones', () => {
      const index = openIndex({ usersPerPage: 2, pageWindow: 10 });
      index.recordMany([
        { user: 'a', page: '/', ts: 0 },
        { user: 'b', page: '/', ts: 1 },
        { user: 'c', page: '/', ts: 20 },
      ]);
      expect(index.lastUsers('/', 2)).toEqual([{ user: 'c', ts: 20 }]);
      index.record('d', '/', 19);
      expect(index.lastUsers('/', 2)).toEqual([
        { user: 'c', ts: 20 },
        { user: 'd', ts: 19 },
      ]);
    });
  });

  it('takes updates from late events (older than userWindow)', () => {
    const index = openIndex({ userWindow: MINUTE, usersPerPage: 3 });
    index.record('now', '/', 100 * MINUTE);
    index.record('then', '/', 10 * MINUTE);
    expect(index.lastUsers('/', 3)).toEqual([
      { user: 'now', ts: 100 * MINUTE },
      { user: 'then', ts: 10 * MINUTE },
    ]);
    expect(index.stats().late).toBe(1);
  });
});
