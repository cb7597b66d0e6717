import { describe, expect, it } from 'vitest';
import { ActivityIndex } from '../src/index.js';
import { openIndex } from './helpers.js';

/** Every public member of a closed index, called with valid arguments. */
const uses: [string, (index: ActivityIndex) => unknown][] = [
  ['record()', (index) => index.record('alice', '/a', 1)],
  ['record() without ts', (index) => index.record('alice', '/a')],
  ['recordMany()', (index) => index.recordMany([{ user: 'alice', page: '/a', ts: 1 }])],
  ['recordMany() of an empty batch', (index) => index.recordMany([])],
  ['lastUsers()', (index) => index.lastUsers('/a')],
  ['userPages()', (index) => index.userPages('alice', { window: '1m' })],
  ['onlineUsers()', (index) => index.onlineUsers('/a')],
  ['onlineCount(page)', (index) => index.onlineCount('/a')],
  ['onlineCount()', (index) => index.onlineCount()],
  ['the watermark getter', (index) => index.watermark],
  ['stats()', (index) => index.stats()],
  ['clear()', (index) => index.clear()],
  ['validate()', (index) => index.validate()],
];

function closedIndex(): ActivityIndex {
  const index = new ActivityIndex();
  index.record('alice', '/a', 1);
  index.close();
  return index;
}

describe('ActivityIndex#close()', () => {
  it.each(uses)('makes %s throw an Error that says the index is closed', (_name, use) => {
    const index = closedIndex();
    expect(() => use(index)).toThrow(Error);
    expect(() => use(index)).toThrow(/closed/);
  });

  it('makes ingest() and createIngestStream() throw too, where they exist', () => {
    const index = closedIndex();
    for (const name of ['ingest', 'createIngestStream'] as const) {
      const method = Reflect.get(index, name) as ((...args: unknown[]) => unknown) | undefined;
      if (typeof method !== 'function') continue;
      expect(() => method.call(index, name === 'ingest' ? '' : {})).toThrow(/closed/);
    }
  });

  it('may be called twice', () => {
    const index = new ActivityIndex();
    expect(index.close()).toBeUndefined();
    expect(index.close()).toBeUndefined();
  });

  it('closes on a fresh index', () => {
    const index = new ActivityIndex();
    index.close();
    expect(() => index.lastUsers('/')).toThrow(/closed/);
  });

  it('leaves other indexes working', () => {
    const kept = openIndex();
    kept.record('bob', '/a', 2);
    closedIndex();
    kept.record('carol', '/a', 3);
    expect(kept.lastUsers('/a').map((entry) => entry.user)).toEqual(['carol', 'bob']);
  });
});
