// Apache LogFormat and nginx log_format strings, compiled once natively (issue 14).
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActivityIndex, type IngestOptions } from '../src/index.js';
import { referenceView, type RefView } from './format-reference.js';
import { openIndex } from './helpers.js';
import { runCli, tempDir } from './live-helpers.js';

const T = Date.UTC(2026, 10, 28, 10, 0, 0); // days before the session: no line is future-dated
const clf = (ts: number) => {
  const d = new Date(ts);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
};

/** Ingests `lines` and checks every accepted view against the TypeScript reading of the same lines. */
function checkFixture(dialect: 'apache' | 'nginx', format: string, userList: string, lines: string[], options: IngestOptions) {
  const index = openIndex({ userWindow: '1d' });
  const report = index.ingest(lines.join('\n'), options);
  const expected = lines.map((line) => referenceView(dialect, format, userList, line)).filter((v): v is RefView => v !== undefined);
  expect(report.accepted).toBe(expected.length);
  expect(report.lines).toBe(lines.length);
  for (const view of expected) expect(index.lastUsers(view.page)).toContainEqual({ user: view.user, ts: view.ts });
  return report;
}

describe('format: { apache }', () => {
  const format = '%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i" "%{X-Forwarded-For}i"';
  const lines = [
    `10.0.0.1 - - [${clf(T)}] "GET /a?x=1 HTTP/1.1" 200 512 "-" "Mozilla/5.0" "203.0.113.7, 10.0.0.9"`,
    `10.0.0.2 - alice [${clf(T + 1000)}] "GET /b HTTP/1.1" 304 0 "https://r/" "curl/8 \\"q\\"" "-"`,
    `10.0.0.3 - John Smith [${clf(T + 2000)}] "HEAD /c HTTP/2" 200 0 "-" "UA" "198.51.100.2"`,
    `10.0.0.4 - - [${clf(T + 3000)}] "GET /d HTTP/1.1" 404 0 "-" "UA" "-"`,
    `10.0.0.5 - - [${clf(T + 4000)}] "GET /e HTTP/1.1" 200 0 "-" "UA"`,
    `10.0.0.6 - - [31/Feb/2026:10:00:00 +0000] "GET /f HTTP/1.1" 200 0 "-" "UA" "-"`,
  ];

  it('reads the first X-Forwarded-For address, else the client address, as the reference does', () => {
    const report = checkFixture('apache', format, '%{X-Forwarded-For}i|%h', lines, {
      format: { apache: format },
      user: '%{X-Forwarded-For}i|%h',
    });
    // HEAD /c is not a reader's page load, and curl is not a reader (the default view rules).
    expect(report.reasons).toEqual({ filtered: 1, malformed: 1, 'bad-time': 1, method: 1, crawler: 1 });
  });

  it('takes a cookie as the user', () => {
    const cookieFormat = '%h %t "%r" %>s %{uid}C';
    const index = openIndex();
    const report = index.ingest(
      [`10.0.0.1 [${clf(T)}] "GET /a HTTP/1.1" 200 u-17`, `10.0.0.2 [${clf(T)}] "GET /a HTTP/1.1" 200 -`].join('\n'),
      { format: { apache: cookieFormat }, user: '%{uid}C' },
    );
    expect(report).toMatchObject({ accepted: 1, reasons: { filtered: 1 } });
    expect(index.lastUsers('/a')).toEqual([{ user: 'u-17', ts: T }]);
  });

  it('reads %{sec}t and %{msec}t', () => {
    const index = openIndex();
    index.ingest(`10.0.0.1 ${T / 1000} "GET /s HTTP/1.1" 200\n`, { format: { apache: '%h %{sec}t "%r" %>s' } });
    index.ingest(`10.0.0.1 ${T + 5} "GET /m HTTP/1.1" 200\n`, { format: { apache: '%h %{msec}t "%r" %>s' } });
    expect(index.lastUsers('/s')).toEqual([{ user: '10.0.0.1', ts: T }]);
    expect(index.lastUsers('/m')).toEqual([{ user: '10.0.0.1', ts: T + 5 }]);
  });

  it("reads Apache's vhost_combined preset", () => {
    const index = openIndex();
    const line = `example.com:443 10.0.0.1 - - [${clf(T)}] "GET /v HTTP/1.1" 200 10 "-" "UA"\n`;
    expect(index.ingest(line, { format: 'vhost_combined' })).toMatchObject({ accepted: 1 });
    expect(index.lastUsers('/v')).toEqual([{ user: '10.0.0.1', ts: T }]);
  });
});

describe('format: { nginx }', () => {
  const format = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $cookie_uid';
  it('reads a log_format with a cookie user and the client address as fallback, as the reference does', () => {
    const lines = [
      `10.0.0.1 - - [${clf(T)}] "GET /n1 HTTP/1.1" 200 5 "-" "Mozilla/5.0" u1`,
      `10.0.0.2 - - [${clf(T)}] "GET /n2?q HTTP/1.1" 200 5 "-" "Mozilla/5.0" -`,
      `10.0.0.3 - - [${clf(T)}] "GET /n3 HTTP/1.1" 500 5 "-" "Mozilla/5.0" u3`,
      `10.0.0.4 - - [${clf(T)}] "GET /n4 HTTP/1.1" 200 5 "-" "Mozilla/5.0 \\x22x\\x22" u4 extra`,
    ];
    const report = checkFixture('nginx', format, '$cookie_uid|$remote_addr', lines, { format: { nginx: format }, user: '$cookie_uid|$remote_addr' });
    expect(report.reasons).toEqual({ filtered: 1, malformed: 1 });
  });

  it('reads $time_iso8601 and $request_uri, keeping the query with keepQuery', () => {
    const index = openIndex();
    const isoFormat = '$remote_addr [$time_iso8601] $request_uri $status';
    index.ingest(`10.0.0.1 [2026-11-28T11:00:00+01:00] /i?x=1 200\n`, { format: { nginx: isoFormat }, keepQuery: true });
    expect(index.lastUsers('/i?x=1')).toEqual([{ user: '10.0.0.1', ts: T }]);
  });
});

describe('format strings are checked when the options are read', () => {
  it.each([
    [{ format: { apache: '%h %Z %t "%r"' } }, /^options\.format: unknown directive %Z at offset 3$/],
    [{ format: { apache: '%h "%r"' } }, /^options\.format: the format has no time/],
    [{ format: { apache: '%h %{%H:%M}t "%r"' } }, /^options\.format: unsupported directive %\{%H:%M\}t/],
    [{ format: { nginx: '$remote_addr [$time_local] "$request" $bogus' } }, /^options\.format: unknown or unsupported variable \$bogus/],
    [{ format: { nginx: '$remote_addr [$time_local] "$request"' }, user: '$cookie_uid' }, /^options\.user: user \$cookie_uid is not a directive/],
    [{ format: { apache: '%h %t "%r"', nginx: '$x' } }, /^options\.format must be a format name or/],
    [{ format: { apache: '%h %t "%r"' }, fields: { user: 'u' } }, /^options\.fields does not apply to format 'apache'/],
  ] as [IngestOptions, RegExp][])('%j is a RangeError', (options, message) => {
    const index = openIndex();
    expect(() => index.ingest('', options)).toThrow(RangeError);
    expect(() => index.ingest('', options)).toThrow(message);
    expect(() => index.createIngestStream(options)).toThrow(message);
  });
});

describe('skiptrail replay --log-format', () => {
  it('reads apache: and nginx: format strings and vhost_combined', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'a.log');
    fs.writeFileSync(file, `10.0.0.1 [${clf(T)}] "GET /cli HTTP/1.1" 200\n`);
    const apache = await runCli(['replay', file, '--log-format', 'apache:%h %t "%r" %>s', '--last-users', '/cli', '--json', '--quiet']);
    expect(apache.code).toBe(0);
    expect(JSON.parse(apache.stdout).lastUsers['/cli']).toEqual([{ user: '10.0.0.1', ts: T }]);
    const nginx = await runCli(['replay', file, '--log-format', 'nginx:$remote_addr [$time_local] "$request" $status', '--last-users', '/cli', '--json', '--quiet']);
    expect(JSON.parse(nginx.stdout).lastUsers['/cli']).toHaveLength(1);
    const bad = await runCli(['replay', file, '--log-format', 'apache:%h %Z', '--quiet']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown directive %Z/);
  });
});

describe('a line made from a random format string and random values', () => {
  const userArb = fc.stringMatching(/^[a-z0-9.]{1,12}$/);
  const pageArb = fc.stringMatching(/^\/[a-z0-9/]{0,12}$/);
  const separatorArb = fc.constantFrom(' ', ' - ', ' | ', ' :: ', '\t');
  type Part = { text: string; value: (v: { user: string; page: string; ts: number }) => string };
  const ignoredArb: fc.Arbitrary<Part> = fc.constantFrom<Part>(
    { text: '%b', value: () => '1234' },
    { text: '"%{Referer}i"', value: () => '"https://ref/ \\"x\\""' },
    { text: '%D', value: () => '77' },
    { text: '%v', value: () => 'example.com' },
  );
  const timeArb = fc.constantFrom<Part>(
    { text: '%t', value: ({ ts }) => `[${clf(ts)}]` },
    { text: '%{sec}t', value: ({ ts }) => String(ts / 1000) },
    { text: '%{msec}t', value: ({ ts }) => String(ts) },
  );
  const requestArb = fc.constantFrom<Part>({ text: '"%r"', value: ({ page }) => `"GET ${page}?q=1 HTTP/1.1"` }, { text: '%U%q', value: ({ page }) => `${page}?q=1` });
  const userPart: Part = { text: '%{uid}C', value: ({ user }) => user };

  it('parses back to exactly those values, and keeps lines = accepted + rejected under mutation', () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4, maxLength: 4 }),
        timeArb,
        requestArb,
        fc.array(ignoredArb, { maxLength: 3 }),
        fc.array(separatorArb, { minLength: 8, maxLength: 8 }),
        fc.array(fc.tuple(userArb, pageArb, fc.integer({ min: 0, max: 86_400 })), { minLength: 1, maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        (order, time, request, ignored, separators, rows, mutations) => {
          const status: Part = { text: '%>s', value: () => '200' };
          const core = [userPart, time, request, status];
          const parts = [...order.map((i) => core[i]!), ...ignored];
          const format = parts.map((p, i) => (i === 0 ? p.text : separators[i % separators.length]! + p.text)).join('');
          const events = rows.map(([user, page, s]) => ({ user, page, ts: T + s * 1000 }));
          const lines = events.map((e) => parts.map((p, i) => (i === 0 ? p.value(e) : separators[i % separators.length]! + p.value(e))).join(''));
          const index = new ActivityIndex({ userWindow: '1d' });
          try {
            const report = index.ingest(lines.join('\n'), { format: { apache: format }, user: '%{uid}C' });
            expect(report).toMatchObject({ lines: lines.length, accepted: lines.length });
            for (const e of events) expect(index.lastUsers(e.page)).toContainEqual({ user: e.user, ts: latestOf(events, e) });
            const bytes = Buffer.from(lines.join('\n'));
            for (const [at, byte] of mutations) if (bytes.length > 0) bytes[at % bytes.length] = byte;
            const mutated = index.ingest(bytes, { format: { apache: format }, user: '%{uid}C' });
            expect(mutated.lines).toBe(mutated.accepted + mutated.rejected);
          } finally {
            index.close();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

/** The latest time of the user's views of the page (lastUsers keeps one row per user). */
function latestOf(events: RefView[], e: RefView): number {
  return Math.max(...events.filter((o) => o.user === e.user && o.page === e.page).map((o) => o.ts));
}
