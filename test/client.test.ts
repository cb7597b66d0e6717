// createClient(): the ActivityIndex methods over HTTP. The answers are checked against
// the reference model (test/model.ts) through a real server on a loopback port, and the
// errors against what ActivityIndex throws for the same arguments.
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivityIndex, ClientError, createClient, createQueryServer, type ActivityClient } from '../src/index.js';
import { configArb, eventArb, PAGES, UNSEEN_PAGE, UNSEEN_USER, USERS } from './arbitraries.js';
import { freePort, startServe } from './live-helpers.js';
import { frozenClock } from './helpers.js';
import { ActivityModel } from './model.js';

const numRuns = process.env.CI ? 60 : 25;

/** An index served over HTTP on 127.0.0.1, with a client for it. */
async function served(index: ActivityIndex, options: { maxBodyBytes?: number } = {}) {
  const query = createQueryServer(index, options);
  query.server.listen(0, '127.0.0.1');
  await once(query.server, 'listening');
  const { port } = query.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const client = createClient({ url, timeout: 2000 });
  return {
    url,
    client,
    async close() {
      await client.close();
      await new Promise((resolve) => query.server.close(resolve));
      query.server.closeAllConnections();
    },
  };
}

describe('createClient()', () => {
  it('answers as the reference model for random streams recorded through the client', async () => {
    await fc.assert(
      fc.asyncProperty(
        configArb,
        fc.array(fc.array(eventArb, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 6 }),
        async (config, batches) => {
          const index = new ActivityIndex({ ...config, now: frozenClock });
          const model = new ActivityModel(config);
          const server = await served(index);
          try {
            for (const batch of batches) {
              const events = batch.map(({ user, page, ts, asDate }) => ({ user, page, ts: asDate ? new Date(ts) : ts }));
              expect(await server.client.recordMany(events)).toBe(batch.length);
              model.recordMany(batch.map(({ user, page, ts }) => ({ user, page, ts })));
            }
            for (const page of [...PAGES, UNSEEN_PAGE]) {
              expect(await server.client.lastUsers(page, config.usersPerPage)).toEqual(model.lastUsers(page, config.usersPerPage));
              expect(await server.client.onlineUsers(page, 100)).toEqual(model.onlineUsers(page, 100));
              expect(await server.client.onlineCount(page)).toBe(model.onlineCount(page));
            }
            for (const user of [...USERS, UNSEEN_USER]) {
              expect(await server.client.userPages(user)).toEqual(model.userPages(user));
              const window = Math.max(1, Math.floor(config.userWindow / 2));
              expect(await server.client.userPages(user, { window, limit: 2 })).toEqual(model.userPages(user, { window, limit: 2 }));
            }
            expect(await server.client.onlineCount()).toBe(model.onlineCount());
            const stats = await server.client.stats();
            expect(stats).toEqual(index.stats());
          } finally {
            await server.close();
            index.close();
          }
        },
      ),
      { numRuns },
    );
  });

  describe('against one server', () => {
    const index = new ActivityIndex({ usersPerPage: 10, userWindow: '1h' });
    let server: Awaited<ReturnType<typeof served>>;
    beforeAll(async () => {
      server = await served(index);
    });
    afterAll(async () => {
      await server.close();
      index.close();
    });

    it('records one view, with the time defaulting to now', async () => {
      const before = Date.now();
      await server.client.record('ann', '/a/b?c=1 d');
      await server.client.record('bob', '/a/b?c=1 d', new Date(before - 5000));
      const rows = await server.client.lastUsers('/a/b?c=1 d');
      expect(rows.map((row) => row.user)).toEqual(['ann', 'bob']);
      expect(rows[0]!.ts).toBeGreaterThanOrEqual(before);
      expect(rows[0]!.ts).toBeLessThanOrEqual(Date.now());
      expect(await server.client.recordMany([])).toBe(0);
      expect((await server.client.stats()).events).toBe(2);
    });

    it('rejects bad arguments with the TypeError or RangeError ActivityIndex throws', async () => {
      const local = new ActivityIndex({ usersPerPage: 10, userWindow: '1h' });
      const same = async (remote: () => Promise<unknown>, here: () => unknown) => {
        let expected: Error | undefined;
        try {
          here();
        } catch (error) {
          expected = error as Error;
        }
        expect(expected).toBeInstanceOf(Error);
        await expect(remote()).rejects.toThrow(expected!.constructor as typeof Error);
        await expect(remote()).rejects.toThrow(expected!.message);
      };
      await same(() => server.client.record('', '/a'), () => local.record('', '/a'));
      await same(() => server.client.record('ann', 7 as never), () => local.record('ann', 7 as never));
      await same(() => server.client.record('ann', '/a', -1), () => local.record('ann', '/a', -1));
      await same(() => server.client.recordMany(5 as never), () => local.recordMany(5 as never));
      await same(
        () => server.client.recordMany([{ user: 'a', page: '/', ts: 1 }, { user: 'a', page: '', ts: 1 }]),
        () => local.recordMany([{ user: 'a', page: '/', ts: 1 }, { user: 'a', page: '', ts: 1 }]),
      );
      await same(() => server.client.lastUsers(3 as never), () => local.lastUsers(3 as never));
      await same(() => server.client.lastUsers('/a', 0), () => local.lastUsers('/a', 0));
      await expect(server.client.lastUsers('/a', 1.5)).rejects.toThrow(/^k must be an integer in 1 \.\. usersPerPage \(the server's option\), received number 1\.5$/);
      // Checked by the server, which knows usersPerPage and userWindow.
      await same(() => server.client.lastUsers('/a', 11), () => local.lastUsers('/a', 11));
      await same(() => server.client.userPages('ann', { window: '2h' }), () => local.userPages('ann', { window: '2h' }));
      await same(() => server.client.userPages('ann', { window: '1y' }), () => local.userPages('ann', { window: '1y' }));
      await same(() => server.client.userPages('ann', { limit: 0 }), () => local.userPages('ann', { limit: 0 }));
      // A misspelled option is refused as by the library, not sent or ignored.
      await same(() => server.client.userPages('ann', { windw: '5m' } as never), () => local.userPages('ann', { windw: '5m' } as never));
      expect(() => createClient({ url: 'http://127.0.0.1:1', timout: 5 } as never)).toThrow(
        'options.timout is not an option of createClient() (did you mean timeout?)',
      );
      await same(() => server.client.onlineUsers('/a', 1.5), () => local.onlineUsers('/a', 1.5));
      // A key longer than the server's maxKeyBytes (1024), named by its position.
      await expect(server.client.recordMany([{ user: 'a', page: '/', ts: 1 }, { user: 'x'.repeat(2000), page: '/', ts: 1 }])).rejects.toThrow(
        /^events\[1\]\.user must be at most 1024 UTF-8 bytes/,
      );
      // A lone surrogate is never stored, so it is simply not found.
      expect(await server.client.lastUsers('\ud800')).toEqual([]);
      local.close();
    });
  });

  it('names the server when it cannot connect, times out, or is closed', async () => {
    const port = await freePort();
    const refused = createClient({ url: `http://127.0.0.1:${port}` });
    const error = await refused.lastUsers('/a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect(error).toMatchObject({ code: 'ECONNECTION', server: `http://127.0.0.1:${port}` });
    expect((error as Error).message).toMatch(new RegExp(`^GET http://127\\.0\\.0\\.1:${port}/pages/%2Fa/users: ECONNREFUSED`));
    await refused.close();

    // A server that accepts and never answers.
    const silent = http.createServer(() => undefined);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const slow = createClient({ url, timeout: 200 });
    const started = Date.now();
    const timedOut = await slow.onlineCount().catch((e: unknown) => e);
    expect(timedOut).toMatchObject({ name: 'ClientError', code: 'ETIMEDOUT', server: url });
    expect((timedOut as Error).message).toBe(`GET ${url}/online: no answer within 200 ms`);
    expect(Date.now() - started).toBeLessThan(5000);
    await slow.close();
    silent.closeAllConnections();
    silent.close();
    await expect(slow.stats()).rejects.toMatchObject({ code: 'ECLOSED' });

    expect(() => createClient({ url: 'nowhere' })).toThrow(/options\.url must be an http:\/\/ URL/);
    expect(() => createClient({ url: 'ftp://x' })).toThrow(RangeError);
    expect(() => createClient({ url: 'http://x', timeout: 0 })).toThrow(/options\.timeout must be an integer in 1 \.\. 3600000/);
  });

  it('keeps requests on a few keep-alive connections', async () => {
    const index = new ActivityIndex();
    const query = createQueryServer(index);
    let connections = 0;
    query.server.on('connection', () => connections++);
    query.server.listen(0, '127.0.0.1');
    await once(query.server, 'listening');
    const client = createClient({ url: `http://127.0.0.1:${(query.server.address() as AddressInfo).port}`, connections: 2 });
    for (let round = 0; round < 20; round++) {
      await Promise.all([client.record(`u${round}`, '/a', round), client.lastUsers('/a'), client.onlineCount()]);
    }
    expect(await client.lastUsers('/a', 1)).toEqual([{ user: 'u19', ts: 19 }]);
    expect(connections).toBeLessThanOrEqual(2);
    await client.close();
    query.server.close();
    index.close();
  });

  it('records through `skiptrail serve` as through the library', async () => {
    const served = await startServe(['--stdin', '--users-per-page', '5']);
    const client = createClient({ url: served.url });
    const expected = new ActivityIndex({ usersPerPage: 5 });
    const events = Array.from({ length: 300 }, (_, i) => ({ user: `u${(i * 7) % 40}`, page: `/p${i % 6}`, ts: 1_000_000 + ((i * 37) % 200) }));
    expect(await client.recordMany(events)).toBe(300);
    expected.recordMany(events);
    for (let p = 0; p < 6; p++) {
      expect(await client.lastUsers(`/p${p}`, 5)).toEqual(expected.lastUsers(`/p${p}`, 5));
      expect(await client.onlineUsers(`/p${p}`, 50)).toEqual(expected.onlineUsers(`/p${p}`, 50));
    }
    for (let u = 0; u < 40; u++) expect(await client.userPages(`u${u}`)).toEqual(expected.userPages(`u${u}`));
    await client.close();
    expect(await served.stop()).toBe(0);
    expected.close();
  });
});
