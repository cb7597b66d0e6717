// Serving safely: /readyz, the bearer token (--auth-token-file), SIGHUP, and a followed
// file that does not exist, reported at start and while it stays missing.

import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';

import { ActivityIndex, createQueryServer, follow, type QueryServerOptions } from '../src/index.js';
import { combinedLine, combinedLines, startServe, tempDir, waitFor } from './live-helpers.js';

async function listen(options: QueryServerOptions) {
  const index = new ActivityIndex();
  const query = createQueryServer(index, options);
  query.server.listen(0, '127.0.0.1');
  await new Promise((resolve) => query.server.once('listening', resolve));
  onTestFinished(async () => {
    await new Promise((resolve) => query.server.close(resolve));
    index.close();
  });
  const base = `http://127.0.0.1:${(query.server.address() as AddressInfo).port}`;
  const get = async (route: string, token?: string) => {
    const response = await fetch(base + route, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: await response.json(), headers: response.headers };
  };
  return { query, get };
}

describe('GET /readyz', () => {
  it('answers 503 naming the sources still catching up, then 200; 503 again while draining', async () => {
    let waiting = ['follow:a.log', 'stdin'];
    const { query, get } = await listen({ notReady: () => waiting });
    expect(await get('/readyz')).toMatchObject({ status: 503, body: { error: 'catching up: follow:a.log, stdin', waiting } });
    expect((await get('/healthz')).status).toBe(200); // liveness is not readiness
    waiting = [];
    expect(await get('/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    query.setDraining();
    expect(await get('/readyz')).toMatchObject({ status: 503, body: { error: 'shutting down' } });
  });
});

describe('a page key without its leading "/"', () => {
  it('gets a hint in the JSON when the page is unknown and "/" + key is known', async () => {
    const index = new ActivityIndex({ now: () => Date.UTC(2026, 0, 1) });
    index.record('ann', '/pricing', Date.UTC(2026, 0, 1));
    const { server } = createQueryServer(index);
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    onTestFinished(async () => {
      await new Promise((resolve) => server.close(resolve));
      index.close();
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const get = async (route: string): Promise<any> => (await fetch(base + route)).json();
    const hint = 'no page "pricing", but "/pricing" is known: its key is /pages/%2Fpricing/… (the leading "/" is part of the page, percent-encoded as %2F)';
    expect(await get('/pages/pricing/users')).toEqual({ page: 'pricing', users: [], hint });
    expect(await get('/pages/pricing/online')).toEqual({ page: 'pricing', count: 0, users: [], hint });
    expect(await get('/pages/nothing/users')).toEqual({ page: 'nothing', users: [] });
    expect(await get('/pages/%2Fnothing/users')).toEqual({ page: '/nothing', users: [] });
    expect((await get('/pages/%2Fpricing/users')).users).toHaveLength(1);
  });
});

describe('the bearer token', () => {
  it('is required on every route but /healthz, compared whole, with 401 and WWW-Authenticate otherwise', async () => {
    let token = 's3cret-token';
    const { get } = await listen({ authToken: () => token });
    for (const route of ['/stats', '/online', '/pages/%2Fa/users', '/readyz', '/metrics', '/no/such/route']) {
      const denied = await get(route);
      expect({ route, status: denied.status }).toEqual({ route, status: 401 });
      expect(denied.headers.get('www-authenticate')).toBe('Bearer realm="skiptrail"');
      expect(denied.body).toEqual({ error: 'this server requires a bearer token: Authorization: Bearer <token>' });
    }
    for (const wrong of ['s3cret', 's3cret-token2', 'S3CRET-TOKEN', '']) expect((await get('/online', wrong)).status).toBe(401);
    expect(await get('/online', token)).toMatchObject({ status: 200, body: { count: 0 } });
    expect((await get('/no/such/route', token)).status).toBe(404);
    expect(await get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    token = 'rotated';
    expect((await get('/online', 's3cret-token')).status).toBe(401);
    expect((await get('/online', 'rotated')).status).toBe(200);
  });
});

describe('follow() of a file that does not exist', () => {
  it("emits 'missing' at once and again while it stays missing, counts the checks, and is caught up", async () => {
    const file = path.join(tempDir(), 'does-not-exist.log');
    const index = new ActivityIndex();
    const follower = follow(index, file, { pollInterval: 60_000, missingWarningInterval: 0 });
    onTestFinished(async () => {
      await follower.close();
      index.close();
    });
    const missing: string[] = [];
    follower.on('missing', (name: string) => missing.push(name));
    expect(follower.stats().caughtUp).toBe(false);
    await follower.poll();
    await follower.poll();
    expect(missing.length).toBeGreaterThanOrEqual(2);
    expect(follower.stats()).toMatchObject({ missing: true, open: false, caughtUp: true });
    expect(follower.stats().missingChecks).toBe(missing.length);
    fs.writeFileSync(file, combinedLines(0, 3));
    await follower.poll();
    expect(follower.stats()).toMatchObject({ missing: false, open: true });
    expect(follower.report.lines).toBe(3);
  });

  it('reports it once by default until reopen() looks again', async () => {
    const file = path.join(tempDir(), 'later.log');
    const index = new ActivityIndex();
    const follower = follow(index, file, { pollInterval: 60_000 });
    onTestFinished(async () => {
      await follower.close();
      index.close();
    });
    let missing = 0;
    follower.on('missing', () => missing++);
    await follower.poll();
    await follower.poll();
    expect(missing).toBe(1);
    await follower.reopen();
    expect(missing).toBe(2);
    expect(follower.stats().missingChecks).toBeGreaterThanOrEqual(3);
  });

  it('is caught up once what the file held at start has been read', async () => {
    const file = path.join(tempDir(), 'big.log');
    fs.writeFileSync(file, combinedLines(0, 2000));
    const index = new ActivityIndex();
    const follower = follow(index, file, { pollInterval: 60_000, from: 'start' });
    onTestFinished(async () => {
      await follower.close();
      index.close();
    });
    const caughtUp = new Promise((resolve) => follower.once('caught-up', resolve));
    expect(follower.stats().caughtUp).toBe(false);
    await caughtUp;
    expect(follower.report.lines).toBe(2000);
    expect(follower.stats().caughtUp).toBe(true);
  });
});

describe('skiptrail serve: token file, SIGHUP and a missing file', () => {
  it('requires the token, re-reads it and re-checks the file on SIGHUP without exiting, and reports the missing file', async () => {
    const dir = tempDir();
    const tokenFile = path.join(dir, 'token');
    fs.writeFileSync(tokenFile, 'first-token\n');
    const log = path.join(dir, 'logs', 'does-not-exist.log');
    const served = await startServe(['--follow', log, '--auth-token-file', tokenFile, '--poll-interval', '1h']);
    await waitFor(
      () => served.stderr(),
      (text) => text.includes(`follow ${log}: the file does not exist; it will be read from its start when it appears`),
      { what: 'the missing file to be reported' },
    );
    const auth = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    expect((await served.get('/stats')).status).toBe(401);
    expect((await served.get('/healthz')).status).toBe(200);
    const stats = await served.get('/stats', auth('first-token'));
    expect(stats.status).toBe(200);
    expect(stats.body.sources[0]).toMatchObject({ name: `follow:${log}`, missing: true, missingChecks: 1, caughtUp: true });
    expect(await served.get('/readyz', auth('first-token'))).toMatchObject({ status: 200, body: { status: 'ready' } });

    fs.writeFileSync(tokenFile, 'second-token\n');
    served.child.kill('SIGHUP');
    await waitFor(() => served.stderr(), (text) => text.includes('still missing (2 checks)'), { what: 'SIGHUP to re-check the file' });
    expect(served.stderr()).toContain('SIGHUP: re-checking followed files and re-reading the token file');
    expect((await served.get('/online', auth('first-token'))).status).toBe(401);
    expect((await served.get('/online', auth('second-token'))).status).toBe(200);

    fs.mkdirSync(path.dirname(log));
    fs.writeFileSync(log, combinedLine('10.0.0.1', '/pricing', Date.UTC(2015, 4, 17, 10, 5, 3)));
    served.child.kill('SIGHUP');
    await waitFor(
      async () => (await served.get('/stats', auth('second-token'))).body.ingest.lines,
      (lines) => lines === 1,
      { what: 'the file to be read after SIGHUP' },
    );
    expect(served.child.exitCode).toBeNull();
    expect(await served.stop('SIGTERM')).toBe(0);
  });

  it('fails at start, exit 1, when the token file cannot be read or is empty', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'empty'), '\n');
    for (const [file, message] of [
      [path.join(dir, 'nope'), /cannot read --auth-token-file .*nope: ENOENT/],
      [path.join(dir, 'empty'), /--auth-token-file .*empty is empty/],
    ] as const) {
      await expect(startServe(['--stdin', '--auth-token-file', file])).rejects.toThrow(message);
    }
  });
});
