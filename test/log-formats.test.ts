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
      `10.0.0.4 - - [${clf(T)}] "GET /n4 HTTP/1.1" 200 5 "-" "Mozilla/5.0 \\x22x\\x22" u4`,
      `10.0.0.5 - - [${clf(T)} "GET /n5 HTTP/1.1" 200 5 "-" "Mozilla/5.0" u5`,
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

describe('format strings from real configurations (issue 14, new-user findings 5, 6, 11, 16)', () => {
  it('reads any nginx variable as an opaque field, and $proxy_protocol_addr or a map variable as the user', () => {
    const format = '$proxy_protocol_addr - $remote_addr [$time_local] "$request" $status $http2 $https $ssl_server_name $geoip_country_code $is_bot "$http_user_agent"';
    const lines = [
      `203.0.113.7 - 10.0.0.1 [${clf(T)}] "GET /pp1 HTTP/1.1" 200 h2 on example.com DE 0 "Mozilla/5.0"`,
      `- - 10.0.0.2 [${clf(T + 1000)}] "GET /pp2 HTTP/1.1" 200 - - - - 0 "Mozilla/5.0"`,
      `203.0.113.9 - 10.0.0.3 [${clf(T + 2000)}] "GET /pp3 HTTP/1.1" 200 h2 on example.com DE 1 "Googlebot/2.1"`,
    ];
    const report = checkFixture('nginx', format, '$proxy_protocol_addr|$remote_addr', lines, { format: { nginx: format }, user: '$proxy_protocol_addr|$remote_addr' });
    expect(report.reasons).toEqual({ crawler: 1 });
    const index = openIndex();
    index.ingest(`198.51.100.4 [${clf(T)}] "GET /m HTTP/1.1" 200\n`, { format: { nginx: '$client_ip [$time_local] "$request" $status' }, user: '$client_ip' });
    expect(index.lastUsers('/m')).toEqual([{ user: '198.51.100.4', ts: T }]);
  });

  it("reads Apache's ssl_request_log (%{SSL_PROTOCOL}x) and %{NAME}c as opaque fields", () => {
    const format = '%t %h %{SSL_PROTOCOL}x %{SSL_CIPHER}x %{version}c "%r" %b';
    const lines = [`[${clf(T)}] 10.0.0.1 TLSv1.3 TLS_AES_256_GCM_SHA384 TLSv1.3 "GET /ssl HTTP/1.1" 512`];
    expect(checkFixture('apache', format, '%h', lines, { format: { apache: format } }).accepted).toBe(1);
  });

  it("reads Apache's millisecond recipe and strftime times with spaces, as the reference does", () => {
    const d = new Date(T + 42);
    const p = (n: number) => String(n).padStart(2, '0');
    const format = '%h [%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t] "%r" %>s "%{User-Agent}i"';
    const stamp = `${p(d.getUTCDate())}/Nov/${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
    const lines = [
      `10.0.0.1 [${stamp}.042 +0000] "GET /ms1 HTTP/1.1" 200 "Mozilla/5.0"`,
      `10.0.0.2 [${stamp}.043 -0130] "GET /ms2 HTTP/1.1" 200 "Mozilla/5.0"`,
      `10.0.0.3 [31/Nov/2026 10:00:00.000 +0000] "GET /ms3 HTTP/1.1" 200 "Mozilla/5.0"`,
      `10.0.0.4 [${stamp} +0000] "GET /ms4 HTTP/1.1" 200 "Mozilla/5.0"`,
    ];
    const report = checkFixture('apache', format, '%h', lines, { format: { apache: format } });
    expect(report.reasons).toEqual({ 'bad-time': 1, malformed: 1 });
    const index = openIndex();
    index.ingest(`${stamp.replace(/^(\d\d)\/Nov\/(\d{4})/, '$2-11-$1')} +0000 10.0.0.1 "GET /iso HTTP/1.1" 200\n`, { format: { apache: '%{%Y-%m-%d %H:%M:%S %z}t %h "%r" %>s' } });
    expect(index.lastUsers('/iso')).toEqual([{ user: '10.0.0.1', ts: T }]);
  });

  it('reads the most precise of two times and the final status of %<s %>s; the others are opaque', () => {
    const apache = '%h %t "%r" %<s %>s %{msec}t';
    const lines = [
      `10.0.0.1 [${clf(T)}] "GET /t1 HTTP/1.1" 302 200 ${T + 7}`,
      `10.0.0.2 [31/Feb/2026:10:00:00 +0000] "GET /t2 HTTP/1.1" - 200 ${T + 8}`,
      `10.0.0.3 [${clf(T)}] "GET /t3 HTTP/1.1" 200 404 ${T + 9}`,
    ];
    expect(checkFixture('apache', apache, '%h', lines, { format: { apache } }).reasons).toEqual({ filtered: 1 });
    const nginx = '$remote_addr [$time_local] "$request" $status $msec';
    const index = openIndex();
    index.ingest(`10.0.0.1 [${clf(T)}] "GET /n HTTP/1.1" 200 ${(T + 250) / 1000}\n`, { format: { nginx } });
    expect(index.lastUsers('/n')).toEqual([{ user: '10.0.0.1', ts: T + 250 }]);
  });

  it('lets an unquoted last field run to the end of the line: the first address of an X-Forwarded-For list is the user', () => {
    const apache = '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %{X-Forwarded-For}i';
    const apacheLines = [`10.0.0.9 - - [${clf(T)}] "GET /x1 HTTP/1.1" 200 1 "-" "Mozilla/5.0" 203.0.113.7, 10.0.0.8`];
    checkFixture('apache', apache, '%{X-Forwarded-For}i|%h', apacheLines, { format: { apache }, user: '%{X-Forwarded-For}i|%h' });
    const index = openIndex();
    for (const variable of ['$http_x_forwarded_for', '$proxy_add_x_forwarded_for']) {
      const nginx = `$remote_addr [$time_local] "$request" $status ${variable}`;
      const report = index.ingest(`10.0.0.2 [${clf(T)}] "GET /x2 HTTP/1.1" 200 203.0.113.8, 10.0.0.2\n`, { format: { nginx }, user: `${variable}|$remote_addr` });
      expect(report).toMatchObject({ accepted: 1 });
    }
    expect(index.lastUsers('/x1')).toEqual([]);
    expect(index.lastUsers('/x2')).toEqual([{ user: '203.0.113.8', ts: T }]);
  });

  it('falls through an X-Forwarded-For list whose first entry names no client (unknown, empty) to the next user entry', () => {
    const apache = '%h %t "%r" %>s "%{X-Forwarded-For}i"';
    const apacheLines = [
      `10.0.0.9 [${clf(T)}] "GET /u1 HTTP/1.1" 200 "unknown, 10.0.0.9"`, // Squid hides the client
      `10.0.0.8 [${clf(T)}] "GET /u2 HTTP/1.1" 200 "Unknown"`,
      `10.0.0.7 [${clf(T)}] "GET /u3 HTTP/1.1" 200 ", 10.0.0.7"`,
      `10.0.0.6 [${clf(T)}] "GET /u4 HTTP/1.1" 200 "\t198.51.100.6\t, 10.0.0.6"`,
      `10.0.0.5 [${clf(T)}] "GET /u5 HTTP/1.1" 200 "unknownhost, 10.0.0.5"`, // a name, not the token
    ];
    checkFixture('apache', apache, '%{X-Forwarded-For}i|%h', apacheLines, { format: { apache }, user: '%{X-Forwarded-For}i|%h' });
    const index = openIndex();
    index.ingest(apacheLines.join('\n'), { format: { apache }, user: '%{X-Forwarded-For}i|%h' });
    expect(['/u1', '/u2', '/u3', '/u4', '/u5'].map((page) => index.lastUsers(page)[0]?.user)).toEqual(['10.0.0.9', '10.0.0.8', '10.0.0.7', '198.51.100.6', 'unknownhost']);
    // Only the forwarded list: no client named, so no user (filtered, as an anonymous view).
    expect(index.ingest(`10.0.0.9 [${clf(T)}] "GET /u6 HTTP/1.1" 200 "unknown, 10.0.0.9"\n`, { format: { apache }, user: '%{X-Forwarded-For}i' }).reasons).toEqual({ filtered: 1 });
  });

  it('takes the agent of a conditional directive (%400,501{User-agent}i) as unknown when it writes "-"', () => {
    const format = '%h %t "%r" %>s "%400,501{User-agent}i"';
    const lines = [
      `10.0.0.1 [${clf(T)}] "GET /c1 HTTP/1.1" 200 "-"`,
      `10.0.0.2 [${clf(T)}] "GET /c2 HTTP/1.1" 200 "Googlebot/2.1"`,
    ];
    expect(checkFixture('apache', format, '%h', lines, { format: { apache: format } }).reasons).toEqual({ crawler: 1 });
  });
});

describe('format strings are checked when the options are read', () => {
  it.each([
    [{ format: { apache: '%h %Z %t "%r"' } }, /^options\.format: unknown directive %Z at offset 3$/],
    [{ format: { apache: '%h "%r"' } }, /^options\.format: the format has no time/],
    [{ format: { apache: '%h %{%H:%M}t "%r"' } }, /^options\.format: unsupported directive %\{%H:%M\}t/],
    [{ format: { nginx: '$remote_addr [$time_local] "$request" $bogus' }, user: '$status' }, /^options\.user: user \$status is not a directive/],
    [{ format: { apache: '%h %{%d/%b/%Y %T %Z}t "%r"' } }, /^options\.format: unsupported directive %\{%d\/%b\/%Y %T %Z\}t at offset 3: %Z writes a zone name/],
    [{ format: { apache: '%h %{%d/%b/%Y %T}t "%r"' } }, /^options\.format: unsupported directive %\{%d\/%b\/%Y %T\}t at offset 3: a time needs its date, hours, minutes, seconds and UTC offset/],
    [{ format: { apache: '%h %x %t "%r"' } }, /^options\.format: unsupported directive %x at offset 3: it needs a \{name\}/],
    [{ format: { apache: '%h%u %t "%r"' } }, /^options\.format: directives %h and %u at offset 2 touch/],
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
    expect(bad.stderr).toMatch(/^skiptrail replay: --log-format: unknown directive %Z at offset 3$/m);
    const badNginx = await runCli(['replay', file, '--log-format', 'nginx:$remote_addr [$time_local]', '--quiet']);
    expect(badNginx.code).toBe(2);
    expect(badNginx.stderr).toMatch(/^skiptrail replay: --log-format: the format has no request/m);
    const badUser = await runCli(['replay', file, '--log-format', 'apache:%h %t "%r" %>s', '--user', '%u', '--quiet']);
    expect(badUser.stderr).toMatch(/^skiptrail replay: --user: user %u is not a directive/m);
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
    { text: '%{SSL_PROTOCOL}x', value: () => 'TLSv1.3' },
    { text: '%<s', value: () => '302' },
    { text: '%{msec}t', value: ({ ts }) => String(ts) },
  );
  const strftime = (ts: number, layout: 'clf-ms' | 'iso-space') => {
    const d = new Date(ts);
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    const hms = `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
    return layout === 'clf-ms'
      ? `[${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()} ${hms}.${p(d.getUTCMilliseconds(), 3)} +0000]`
      : `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${hms} +0000`;
  };
  // Only as the last field: an unquoted value with spaces runs to the end of the line.
  const lastArb = fc.constantFrom<Part | undefined>(undefined, { text: '%{X-Forwarded-For}i', value: () => '203.0.113.7, 10.0.0.8' });
  const timeArb = fc.constantFrom<Part>(
    { text: '%t', value: ({ ts }) => `[${clf(ts)}]` },
    { text: '%{sec}t', value: ({ ts }) => String(ts / 1000) },
    { text: '%{msec}t', value: ({ ts }) => String(ts) },
    { text: '[%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t]', value: ({ ts }) => strftime(ts, 'clf-ms') },
    { text: '%{%Y-%m-%d %H:%M:%S %z}t', value: ({ ts }) => strftime(ts, 'iso-space') },
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
        lastArb,
        fc.array(separatorArb, { minLength: 8, maxLength: 8 }),
        fc.array(fc.tuple(userArb, pageArb, fc.integer({ min: 0, max: 86_400 })), { minLength: 1, maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        (order, time, request, ignored, last, separators, rows, mutations) => {
          const status: Part = { text: '%>s', value: () => '200' };
          const core = [userPart, time, request, status];
          const parts = [...order.map((i) => core[i]!), ...ignored, ...(last === undefined ? [] : [last])];
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
