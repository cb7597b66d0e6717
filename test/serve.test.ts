import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RowJson } from '../src/http/row-json.js';
import { openIndex } from './helpers.js';
import { T0, combinedLine, combinedLines, runCli, startServe, tempDir, waitFor, type Served } from './live-helpers.js';

async function ingested(served: Served): Promise<number> {
  const { body } = await served.get('/stats');
  return body.ingest.lines;
}

function waitForLines(served: Served, lines: number) {
  return waitFor(() => ingested(served), (value) => value === lines, { what: `${lines} lines ingested` });
}

describe('skiptrail serve', () => {
  it('follows a file through appends, rotation and truncation and answers over HTTP', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'access.log');
    fs.writeFileSync(file, combinedLines(0, 40));
    const served = await startServe(['--follow', file, '--from', 'start', '--poll-interval', '50ms']);
    await waitForLines(served, 40);

    fs.appendFileSync(file, combinedLines(40, 10));
    await waitForLines(served, 50);

    // Rotation: the writer still writes a little to the old file, then the new one starts.
    const writer = fs.openSync(file, 'a');
    fs.renameSync(file, `${file}.1`);
    fs.writeSync(writer, combinedLines(50, 5));
    fs.closeSync(writer);
    fs.writeFileSync(file, combinedLines(55, 5));
    await waitForLines(served, 60);

    fs.truncateSync(file, 0);
    fs.appendFileSync(file, combinedLines(60, 3) + combinedLine('ann', '/a/b', T0 + 100_000) + combinedLine('bob', '/a/b', T0 + 100_000, 404));
    await waitForLines(served, 65);

    const stats = (await served.get('/stats')).body;
    expect(stats.ingest).toMatchObject({ lines: 65, accepted: 64, rejected: 1, reasons: { filtered: 1 } });
    expect(stats.sources).toEqual([
      expect.objectContaining({ name: `follow:${file}`, rotations: 1, truncations: 1, pendingBytes: 0, open: true }),
    ]);
    expect(stats.index.events).toBe(64);

    // The same lines in a library index give the answers to expect.
    const expected = openIndex();
    expected.ingest(combinedLines(0, 63) + combinedLine('ann', '/a/b', T0 + 100_000));

    const q1 = await served.get('/pages/%2Fp3/users?k=4');
    expect(q1.status).toBe(200);
    expect(q1.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(q1.body).toEqual({ page: '/p3', users: expected.lastUsers('/p3', 4) });
    expect((await served.get('/pages/%2Fa%2Fb/users')).body).toEqual({ page: '/a/b', users: [{ user: 'ann', ts: T0 + 100_000 }] });

    const q2 = await served.get('/users/u62/pages?window=30m&limit=5');
    expect(q2.body).toEqual({ user: 'u62', pages: expected.userPages('u62', { window: '30m', limit: 5 }) });
    expect(q2.body.pages).toHaveLength(1);
    expect((await served.get(`/users/ann/pages?now=${T0 + 100_000}&window=60000`)).body.pages).toEqual([{ page: '/a/b', ts: T0 + 100_000 }]);

    const q3 = await served.get('/pages/%2Fa%2Fb/online?k=10');
    expect(q3.body).toEqual({ page: '/a/b', count: expected.onlineCount('/a/b'), users: expected.onlineUsers('/a/b', 10) });
    expect((await served.get('/online')).body).toEqual({ count: expected.onlineCount() });

    // Unknown keys are not errors.
    expect(await served.get('/pages/%2Fnowhere/users')).toMatchObject({ status: 200, body: { page: '/nowhere', users: [] } });
    expect(await served.get('/users/nobody/pages')).toMatchObject({ status: 200, body: { user: 'nobody', pages: [] } });
    expect(await served.get('/pages/%2Fnowhere/online')).toMatchObject({ status: 200, body: { count: 0, users: [] } });

    expect(await served.stop('SIGTERM')).toBe(0);
    expect(served.stderr()).toMatch(/closed: 65 lines, 64 accepted, 1 rejected, 0 late; 64 events indexed/);
  });

  it('answers bad parameters with 400, unknown routes with 404 and other methods with 405, all in JSON', async () => {
    const file = path.join(tempDir(), 'access.log');
    fs.writeFileSync(file, combinedLines(0, 5));
    const served = await startServe(['--follow', file, '--from', 'start', '--users-per-page', '10']);
    const cases: [string, number, RegExp][] = [
      ['/pages/%2Fp1/users?k=abc', 400, /^k must be a positive integer, received "abc"$/],
      ['/pages/%2Fp1/users?k=0', 400, /^k must be an integer in 1 \.\. 10, received number 0$/],
      ['/pages/%2Fp1/users?k=11', 400, /^k must be an integer in 1 \.\. 10/],
      ['/pages/%2Fp1/users?k=1&k=2', 400, /^query parameter k is given twice$/],
      ['/pages/%2Fp1/users?kk=1', 400, /^unknown query parameter "kk" \(expected k\)$/],
      ['/users/u1/pages?window=1y', 400, /^window must be a duration such as/],
      ['/users/u1/pages?window=2h', 400, /^window must be at most userWindow \(1800000 ms\)/],
      ['/users/u1/pages?limit=0', 400, /^limit must be an integer >= 1/],
      ['/users/u1/pages?now=yesterday', 400, /^now must be milliseconds since the epoch or an ISO-8601 time/],
      ['/pages/%E0%A4%A/users', 400, /^page must be percent-encoded UTF-8/],
      ['/pages/%2Fp1/online?k=-1', 400, /^k must be a positive integer/],
      ['/online?page=x', 400, /^unknown query parameter "page" \(this route takes no query parameters\)$/],
      ['/pages/%2Fp1', 404, /^no route for \/pages\/%2Fp1/],
      ['/nope', 404, /^no route for \/nope/],
      ['/pages/a/b/users', 404, /^no route/],
    ];
    for (const [url, status, message] of cases) {
      const response = await served.get(url);
      expect({ url, status: response.status }).toEqual({ url, status });
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(response.body.error).toMatch(message);
    }
    // A facade error names its query parameter in the body, from the error's argument.
    expect(await served.get('/users/u1/pages?window=2h')).toMatchObject({
      status: 400,
      body: { error: 'window must be at most userWindow (1800000 ms), received the string "2h"', parameter: 'window' },
    });
    expect((await served.get('/pages/%2Fp1/users?k=0')).body).toEqual({
      error: 'k must be an integer in 1 .. 10, received number 0',
      parameter: 'k',
    });
    const post = await served.get('/online', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(post.body.error).toMatch(/POST is not allowed on \/online/);
    const head = await served.get('/pages/%2Fp1/users', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await served.stop()).toBe(0);
  });

  it('serves health and Prometheus metrics', async () => {
    const file = path.join(tempDir(), 'access.log');
    fs.writeFileSync(file, combinedLines(0, 8) + combinedLine('x', '/gone', T0, 404) + 'junk\n');
    const served = await startServe(['--follow', file, '--from', 'start']);
    await waitForLines(served, 10);
    expect(await served.get('/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    await served.get('/pages/%2Fp1/users');
    await served.get('/pages/%2Fp1/users?k=0');
    const metrics = await served.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text: string = metrics.body;
    const source = `source="follow:${file}"`;
    for (const sample of [
      'skiptrail_events_total 8',
      `skiptrail_ingest_lines_total{${source}} 10`,
      `skiptrail_ingest_accepted_total{${source}} 8`,
      `skiptrail_ingest_rejected_total{${source},reason="filtered"} 1`,
      `skiptrail_ingest_rejected_total{${source},reason="malformed"} 1`,
      `skiptrail_source_rotations_total{${source}} 0`,
      'skiptrail_http_requests_total{route="/pages/:page/users",code="200"} 1',
      'skiptrail_http_requests_total{route="/pages/:page/users",code="400"} 1',
      'skiptrail_http_request_duration_seconds_count{route="/pages/:page/users"} 2',
      'skiptrail_http_request_duration_seconds_bucket{route="/pages/:page/users",le="+Inf"} 2',
    ]) {
      expect(text).toContain(`\n${sample}\n`);
    }
    expect(text).toMatch(/\nskiptrail_memory_bytes \d+\n/);
    expect(text).toMatch(/\nskiptrail_entries \d+\n/);
    expect(text).toMatch(/\nskiptrail_online_users \d+\n/);
    expect(text).toMatch(/\n# TYPE skiptrail_http_request_duration_seconds histogram\n/);
    // Every sample line is name{labels} value, and every family has HELP and TYPE.
    for (const line of text.trimEnd().split('\n')) {
      expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{(\w+="[^"]*",?)+\})? -?[\d.e+-]+|\w+(\{.*\})? \+Inf)$/);
    }
    expect(await served.stop('SIGINT')).toBe(0);
  });

  it('reports the NUL hole a non-appending writer leaves after copytruncate in /stats and /metrics', async () => {
    const file = path.join(tempDir(), 'access.log');
    const writer = fs.openSync(file, 'w'); // no O_APPEND: after the truncation it writes on at its old offset
    try {
      const first = combinedLine('u1', '/first', T0);
      fs.writeSync(writer, first);
      const served = await startServe(['--follow', file, '--from', 'start', '--poll-interval', '50ms']);
      await waitForLines(served, 1);
      fs.truncateSync(file, 0);
      fs.writeSync(writer, combinedLine('u2', '/second', T0 + 1000));
      await waitForLines(served, 2);
      const stats = (await served.get('/stats')).body;
      expect(stats.ingest).toMatchObject({ lines: 2, accepted: 2, rejected: 0 });
      expect(stats.sources).toEqual([
        expect.objectContaining({ name: `follow:${file}`, truncations: 1, skippedNulBytes: Buffer.byteLength(first), missingChecks: 0 }),
      ]);
      const metrics: string = (await served.get('/metrics')).body;
      const source = `source="follow:${file}"`;
      expect(metrics).toContain(`\nskiptrail_source_skipped_nul_bytes_total{${source}} ${Buffer.byteLength(first)}\n`);
      expect(metrics).toContain(`\nskiptrail_source_missing_checks_total{${source}} 0\n`);
      expect(await served.stop()).toBe(0);
    } finally {
      fs.closeSync(writer);
    }
  });

  it('exits 2 on usage errors and 1 when it cannot listen', async () => {
    const body = await runCli(['serve', '--max-body-bytes', '0']);
    expect(body.code).toBe(2);
    expect(body.stderr).toContain('--max-body-bytes must be at least 1');
    const port = await runCli(['serve', '--follow', 'x.log', '--port', '70000']);
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('--port must be a port number 0 .. 65535, received 70000');
    const nats = await runCli(['serve', '--nats', 'nats://127.0.0.1:1']);
    expect(nats.code).toBe(2);
    expect(nats.stderr).toContain('--nats URL and --subject S go together');
    const window = await runCli(['serve', '--follow', 'x.log', '--presence-window', '2h']);
    expect(window.code).toBe(2);
    expect(window.stderr).toContain('--presence-window must be at most userWindow');

    const blocker = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    try {
      const taken = (blocker.address() as net.AddressInfo).port;
      const busy = await runCli(['serve', '--follow', path.join(tempDir(), 'x.log'), '--port', String(taken)]);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });

  it('reads standard input with --stdin and keeps serving after it ends', async () => {
    const served = await startServe(['--stdin']);
    served.child.stdin!.end(combinedLines(0, 12));
    await waitForLines(served, 12);
    await waitFor(() => served.stderr(), (text) => text.includes('standard input ended; still serving'));
    expect((await served.get('/healthz')).status).toBe(200);
    expect(await served.stop()).toBe(0);
  });
});

describe('POST /views', () => {
  it('records one JSON event, a JSON array or NDJSON lines, as recordMany would', async () => {
    const served = await startServe(['--users-per-page', '5']);
    expect(served.stderr()).toContain('no log source: recording only what POST /views receives');
    const post = (body: string, type = 'application/x-ndjson') =>
      served.get('/views', { method: 'POST', body, headers: { 'content-type': type } });
    expect(await post('{"user":"ann","page":"/a","ts":1000}', 'application/json')).toMatchObject({ status: 200, body: { recorded: 1 } });
    expect(await post('[{"user":"bob","page":"/a","ts":1000},{"user":"cy","page":"/b","ts":900}]', 'application/json')).toMatchObject({
      body: { recorded: 2 },
    });
    // NDJSON: blank lines and "\r\n" are fine, and a pretty-printed event needs application/json.
    expect(await post('{"user":"dee","page":"/a","ts":2000}\r\n\n{"user":"ann","page":"/b","ts":500}\n')).toMatchObject({
      body: { recorded: 2 },
    });
    expect(await post('{\n  "user": "eve",\n  "page": "/a",\n  "ts": 1500\n}', 'application/json')).toMatchObject({ body: { recorded: 1 } });
    // A missing ts is the time of arrival.
    const before = Date.now();
    expect(await post('{"user":"fay","page":"/c"}')).toMatchObject({ status: 200 });
    const fay = (await served.get('/pages/%2Fc/users')).body.users[0];
    expect(fay.user).toBe('fay');
    expect(fay.ts).toBeGreaterThanOrEqual(before);

    const expected = openIndex({ usersPerPage: 5 });
    expected.recordMany([
      { user: 'ann', page: '/a', ts: 1000 },
      { user: 'bob', page: '/a', ts: 1000 },
      { user: 'cy', page: '/b', ts: 900 },
      { user: 'dee', page: '/a', ts: 2000 },
      { user: 'ann', page: '/b', ts: 500 },
      { user: 'eve', page: '/a', ts: 1500 },
    ]);
    expect((await served.get('/pages/%2Fa/users')).body.users).toEqual(expected.lastUsers('/a'));
    expect((await served.get('/pages/%2Fb/users')).body.users).toEqual(expected.lastUsers('/b'));
    expect((await served.get('/stats')).body.index.events).toBe(7);
    expect((await served.get('/metrics')).body).toMatch(/skiptrail_http_requests_total\{route="\/views",code="200"\} 5/);
    expect(await served.stop()).toBe(0);
  });

  it('refuses a batch with any bad event, listing each by line, and records none of it', async () => {
    const served = await startServe(['--max-key-bytes', '8', '--max-body-bytes', '4096']);
    const post = (body: string, type = 'application/x-ndjson') =>
      served.get('/views', { method: 'POST', body, headers: { 'content-type': type } });
    const bad = await post(
      [
        '{"user":"ann","page":"/a","ts":1}',
        '{"user":"","page":"/a","ts":1}',
        'not json',
        '{"user":"bob","page":"/toolongpage","ts":1}',
        '{"user":"bob","page":"/a","ts":-5}',
        '{"user":"bob","page":"/a","ts":"2020-01-01"}',
        '[1]',
        '{"user":"\\ud800","page":"/a","ts":1}',
      ].join('\n'),
    );
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(bad.body).toEqual({
      error: '7 of 8 events are invalid; none was recorded',
      invalid: 7,
      errors: [
        { line: 2, error: 'user must be a non-empty string, received the string ""', argument: 'user' },
        { line: 3, error: expect.stringMatching(/^not JSON: /) },
        { line: 4, error: 'page must be at most 8 UTF-8 bytes (maxKeyBytes), received the string "/toolongpage"', argument: 'page' },
        { line: 5, error: 'ts must be a safe integer >= 0 (ms since the epoch), received number -5', argument: 'ts' },
        { line: 6, error: 'ts must be a number of milliseconds or a Date, received the string "2020-01-01"', argument: 'ts' },
        { line: 7, error: 'event must be an object { user, page, ts }, received an array', argument: 'event' },
        { line: 8, error: 'user must be well-formed UTF-16 (it has a lone surrogate), received the string "\\ud800"', argument: 'user' },
      ],
    });
    expect((await served.get('/stats')).body.index.events).toBe(0);
    expect(await post('{"user":', 'application/json')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^the body is not JSON/) } });
    expect(await post('\n\n')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^the body holds no event/) } });

    const large = `${'{"user":"ann","page":"/a","ts":1}\n'.repeat(200)}`;
    const tooLarge = await post(large);
    expect(tooLarge).toMatchObject({ status: 413, body: { error: 'the body is larger than 4096 bytes; send fewer events per request', limit: 4096 } });
    // Without a Content-Length, the limit holds as the body streams in.
    const chunked = await served.get('/views', {
      method: 'POST',
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode(large.slice(0, 1000)));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect((await served.get('/stats')).body.index.events).toBe(0);

    const get = await served.get('/views');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(get.body.error).toBe('GET is not allowed on /views; use POST');
    expect(await served.stop()).toBe(0);
  });
});

describe('RowJson', () => {
  it('writes exactly what JSON.stringify writes, whatever the keys and times', () => {
    const json = new RowJson();
    const key = fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constantFrom('"', '\\', '\n', '\u2028', '\ud800'));
    const ts = fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.maxSafeNat());
    fc.assert(
      fc.property(key, fc.array(fc.record({ user: key, ts })), fc.option(fc.nat(), { nil: undefined }), (page, users, count) => {
        const expected = JSON.stringify(count === undefined ? { page, users } : { page, count, users });
        expect(json.answer('page', page, 'users', 'user', users, count)).toBe(expected);
        const pages = users.map((row) => ({ page: row.user, ts: row.ts }));
        expect(json.answer('user', page, 'pages', 'page', pages)).toBe(JSON.stringify({ user: page, pages }));
      }),
      { numRuns: 300 },
    );
  });
});
