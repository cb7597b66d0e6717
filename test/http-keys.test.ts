// Every key-taking HTTP route (docs/http.md) with keys that need percent-decoding and
// with malformed encodings: the exact status and body of each answer. Requests go out
// with node:http, byte for byte as written here (fetch would normalize some paths).
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivityIndex, createQueryServer } from '../src/index.js';

interface Answer {
  status: number;
  contentType: string | undefined;
  body: unknown;
}

let index: ActivityIndex;
let server: http.Server;
let port: number;

/** GET `path` exactly as given (no normalization, no re-encoding). */
function get(path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path, method: 'GET', agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: response.statusCode!, contentType: response.headers['content-type'], body: JSON.parse(text) });
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

const JSON_TYPE = 'application/json; charset=utf-8';
const T = 1_700_000_000_000;

/**
 * Keys that need decoding, each with the encodings a client may send for it (a
 * character that is legal in a path segment may come encoded or not).
 */
const KEYS: { key: string; encodings: string[] }[] = [
  { key: 'a b', encodings: ['a%20b'] },
  { key: '2001:db8::1', encodings: ['2001%3Adb8%3A%3A1', '2001:db8::1', '2001%3adb8%3a%3a1'] },
  { key: '100%', encodings: ['100%25'] },
  { key: '/a/b', encodings: ['%2Fa%2Fb', '%2fa%2fb'] },
  { key: 'a+b', encodings: ['a+b', 'a%2Bb'] },
  { key: 'what?#x', encodings: ['what%3F%23x'] },
  { key: 'é', encodings: ['%C3%A9', '%c3%a9'] },
  { key: 'ﬀ', encodings: ['%EF%AC%80'] },
  { key: '😀', encodings: ['%F0%9F%98%80'] },
  { key: '/ü ber/😀?q=1&r=%', encodings: ['%2F%C3%BC%20ber%2F%F0%9F%98%80%3Fq%3D1%26r%3D%25'] },
];

/** Malformed percent-encodings: none decodes to well-formed UTF-8. */
const MALFORMED = [
  '%E0%A4%A', // truncated escape
  '%', // a lone percent sign
  'a%zz', // not hex
  '%C3', // a lead byte without its continuation
  '%C0%AF', // an overlong encoding of '/'
  '%ED%A0%80', // a UTF-16 surrogate (U+D800) encoded as UTF-8
  '%FF', // never valid in UTF-8
  '%F4%90%80%80', // past U+10FFFF
];

beforeAll(async () => {
  index = new ActivityIndex({ userWindow: '1h' });
  // Every key as a user and as a page, seen by a few others, so every answer has rows.
  let ts = T;
  for (const { key } of KEYS) {
    index.record(key, key, ts++);
    index.record('x', key, ts++);
    index.record(key, '/x', ts++);
  }
  // Two users online on a page of their own, one on another: per-page counts differ
  // from each other and from the global count.
  index.record('on-1', '/two', ts++);
  index.record('on-2', '/two', ts++);
  index.record('on-3', '/one', ts++);
  const query = createQueryServer(index);
  server = query.server;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.close();
  await once(server, 'close');
  index.close();
});

describe('HTTP routes: keys that need percent-decoding', () => {
  for (const { key, encodings } of KEYS) {
    for (const encoded of encodings) {
      it(`GET /pages/${encoded}/users answers for page ${JSON.stringify(key)}`, async () => {
        const users = index.lastUsers(key, 30);
        expect(users.length).toBeGreaterThan(0);
        expect(await get(`/pages/${encoded}/users`)).toEqual({ status: 200, contentType: JSON_TYPE, body: { page: key, users } });
      });

      it(`GET /pages/${encoded}/online answers for page ${JSON.stringify(key)}`, async () => {
        expect(await get(`/pages/${encoded}/online`)).toEqual({
          status: 200,
          contentType: JSON_TYPE,
          body: { page: key, count: index.onlineCount(key), users: index.onlineUsers(key, 30) },
        });
      });

      it(`GET /users/${encoded}/pages answers for user ${JSON.stringify(key)}`, async () => {
        const pages = index.userPages(key);
        expect(pages.length).toBeGreaterThan(0);
        expect(await get(`/users/${encoded}/pages`)).toEqual({ status: 200, contentType: JSON_TYPE, body: { user: key, pages } });
      });
    }
  }

  it('finds the view by user 2001:db8::1 at GET /users/2001%3Adb8%3A%3A1/pages', async () => {
    expect((await get('/users/2001%3Adb8%3A%3A1/pages')).body).toEqual({
      user: '2001:db8::1',
      pages: [
        { page: '/x', ts: expect.any(Number) },
        { page: '2001:db8::1', ts: expect.any(Number) },
      ],
    });
  });

  it('answers each page\'s own online count and users, not the global ones', async () => {
    expect(index.onlineCount()).toBeGreaterThan(3);
    expect(await get('/pages/%2Ftwo/online')).toEqual({
      status: 200,
      contentType: JSON_TYPE,
      body: { page: '/two', count: 2, users: index.onlineUsers('/two', 30) },
    });
    expect((await get('/pages/%2Ftwo/online?k=1')).body).toEqual({ page: '/two', count: 2, users: index.onlineUsers('/two', 1) });
    expect((await get('/pages/%2Fone/online')).body).toEqual({ page: '/one', count: 1, users: [{ user: 'on-3', ts: expect.any(Number) }] });
    expect((await get('/pages/%2Fnone/online')).body).toEqual({ page: '/none', count: 0, users: [] });
    expect(await get('/online')).toEqual({ status: 200, contentType: JSON_TYPE, body: { count: index.onlineCount() } });
  });

  it('treats a key that decodes to nothing known as unknown: 200 and no rows', async () => {
    expect(await get('/pages/%20/users')).toEqual({ status: 200, contentType: JSON_TYPE, body: { page: ' ', users: [] } });
    expect(await get('/users/%F0%9F%98%81/pages')).toEqual({ status: 200, contentType: JSON_TYPE, body: { user: '😁', pages: [] } });
  });
});

describe('HTTP routes: malformed percent-encodings are 400', () => {
  const routes = [
    { path: (encoded: string) => `/pages/${encoded}/users`, name: 'page' },
    { path: (encoded: string) => `/pages/${encoded}/online`, name: 'page' },
    { path: (encoded: string) => `/users/${encoded}/pages`, name: 'user' },
  ];
  for (const { path, name } of routes) {
    for (const encoded of MALFORMED) {
      it(`GET ${path(encoded)}`, async () => {
        expect(await get(path(encoded))).toEqual({
          status: 400,
          contentType: JSON_TYPE,
          body: { error: `${name} must be percent-encoded UTF-8, received ${JSON.stringify(encoded)}` },
        });
      });
    }
  }

  it('rejects a malformed key before looking at the query', async () => {
    expect(await get('/users/%E0%A4%A/pages?bogus=1')).toEqual({
      status: 400,
      contentType: JSON_TYPE,
      body: { error: 'user must be percent-encoded UTF-8, received "%E0%A4%A"' },
    });
  });
});
