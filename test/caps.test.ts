// maxPages and maxUsers (SPEC section 6, docs/semantics.md "Caps and eviction").
import { describe, expect, it } from 'vitest';
import { openIndex } from './helpers.js';

describe('maxPages', () => {
  it('evicts the page whose latest view is oldest, and counts it', () => {
    const index = openIndex({ maxPages: 2 });
    index.record('a', '/1', 10);
    index.record('b', '/2', 20);
    index.record('a', '/1', 30); // /1 is now the more recent
    index.record('c', '/3', 40);
    expect(index.lastUsers('/2')).toEqual([]);
    expect(index.lastUsers('/1')).toEqual([{ user: 'a', ts: 30 }]);
    expect(index.lastUsers('/3')).toEqual([{ user: 'c', ts: 40 }]);
    expect(index.stats()).toMatchObject({ pages: 2, evicted: 1 });
  });

  it('evicts the byte-wise largest page among equally old ones', () => {
    const index = openIndex({ maxPages: 2 });
    index.record('a', '/😀', 5);
    index.record('a', '/ﬀ', 5);
    index.record('a', '/z', 6);
    expect(index.lastUsers('/😀')).toEqual([]);
    expect(index.lastUsers('/ﬀ')).toEqual([{ user: 'a', ts: 5 }]);
  });

  it('may evict the page just written, if its event was old', () => {
    const index = openIndex({ maxPages: 1 });
    index.record('a', '/new', 100);
    index.record('b', '/old', 50);
    expect(index.lastUsers('/old')).toEqual([]);
    expect(index.lastUsers('/new')).toEqual([{ user: 'a', ts: 100 }]);
    expect(index.stats().evicted).toBe(1);
  });

  it('keeps the users\' side of an evicted page', () => {
    const index = openIndex({ maxPages: 1 });
    index.record('a', '/1', 10);
    index.record('a', '/2', 20);
    expect(index.lastUsers('/1')).toEqual([]);
    expect(index.userPages('a')).toEqual([
      { page: '/2', ts: 20 },
      { page: '/1', ts: 10 },
    ]);
  });

  it('starts an evicted page afresh when it is viewed again', () => {
    const index = openIndex({ maxPages: 1 });
    index.record('a', '/1', 10);
    index.record('b', '/2', 20);
    index.record('c', '/1', 30);
    expect(index.lastUsers('/1')).toEqual([{ user: 'c', ts: 30 }]);
    expect(index.stats().evicted).toBe(2);
  });
});

describe('maxUsers', () => {
  it('evicts the user whose latest view is oldest: Q2 and presence go, Q1 stays', () => {
    const index = openIndex({ maxUsers: 2 });
    index.record('alice', '/a', 10);
    index.record('bob', '/b', 20);
    index.record('carol', '/c', 30);
    expect(index.userPages('alice')).toEqual([]);
    expect(index.onlineCount('/a')).toBe(0);
    expect(index.lastUsers('/a')).toEqual([{ user: 'alice', ts: 10 }]);
    expect(index.stats()).toMatchObject({ users: 2, evicted: 1, online: 2 });
  });

  it('evicts the byte-wise largest user among equally old ones', () => {
    const index = openIndex({ maxUsers: 2 });
    index.record('😀', '/a', 5);
    index.record('ﬀ', '/a', 5);
    index.record('z', '/a', 6);
    expect(index.userPages('😀')).toEqual([]);
    expect(index.userPages('ﬀ')).toEqual([{ page: '/a', ts: 5 }]);
    expect(index.onlineUsers('/a')).toEqual([
      { user: 'z', ts: 6 },
      { user: 'ﬀ', ts: 5 },
    ]);
  });

  it('may evict the user just written, if its event was old', () => {
    const index = openIndex({ maxUsers: 1 });
    index.record('alice', '/a', 100);
    index.record('bob', '/a', 50);
    expect(index.userPages('bob')).toEqual([]);
    expect(index.userPages('alice')).toEqual([{ page: '/a', ts: 100 }]);
    expect(index.stats()).toMatchObject({ users: 1, evicted: 1 });
  });

  it('does not count expiry by time as eviction', () => {
    const index = openIndex({ userWindow: 10, pageWindow: 10 });
    index.record('alice', '/a', 0);
    index.record('bob', '/b', 100);
    expect(index.userPages('alice')).toEqual([]);
    expect(index.lastUsers('/a')).toEqual([]);
    expect(index.stats().evicted).toBe(0);
  });
});
