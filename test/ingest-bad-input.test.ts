// Broken log input (docs/ingest.md): every bad line is counted under its documented
// reason, ingestion goes on, nothing already indexed changes, and the report's samples
// say where the bad lines are.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ActivityIndex, type IngestOptions, type IngestReport, type RejectReason } from '../src/index.js';
import { FILTER_REASONS, referenceIngest, sampleText, snapshot } from './ingest-reference.js';

const T = Date.UTC(2015, 4, 17, 10, 5, 3); // 17/May/2015:10:05:03 +0000
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `dd/Mon/yyyy:HH:MM:SS +0000` for a UTC time. */
function clf(ts: number): string {
  const d = new Date(ts);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

interface LineParts {
  host?: string;
  ident?: string;
  authuser?: string;
  time?: string;
  request?: string;
  status?: string | number;
  bytes?: string;
  tail?: string;
}

/** A combined line; every part defaults to a sound value. */
function line(parts: LineParts = {}): string {
  const {
    host = '10.0.0.1',
    ident = '-',
    authuser = '-',
    time = clf(T),
    request = 'GET /a HTTP/1.1',
    status = 200,
    bytes = '512',
    tail = ' "-" "Mozilla/5.0"',
  } = parts;
  return `${host} ${ident} ${authuser} [${time}] "${request}" ${status} ${bytes}${tail}`;
}

const BASE_USERS = ['10.0.0.1', '10.0.0.2', '10.0.0.3', 'ann', 'bob'];
const BASE_PAGES = ['/a', '/b', '/c/d', '/é'];

/** An index holding a known baseline, and what it answers about the baseline's keys. */
function baseline(options?: ConstructorParameters<typeof ActivityIndex>[0]) {
  const index = new ActivityIndex({ userWindow: '1h', ...options });
  const lines: string[] = [];
  let n = 0;
  for (const user of BASE_USERS) {
    for (const page of BASE_PAGES) lines.push(line({ host: user, request: `GET ${page} HTTP/1.1`, time: clf(T - 60_000 * (n++ % 7)) }));
  }
  const report = index.ingest(lines.join('\n'));
  expect(report.accepted).toBe(BASE_USERS.length * BASE_PAGES.length);
  const answers = () => {
    const { stats: _stats, online: _online, q3: _q3, ...rest } = snapshot(index, BASE_PAGES, BASE_USERS);
    return rest;
  };
  return { index, before: answers(), answers };
}

/**
 * A sound line for keys the baseline does not hold, at the baseline's watermark, that
 * every option the cases use accepts: a common-format line (no referer), short, with
 * the same user as host and as authuser, and short keys.
 */
const GOOD_AFTER = line({ host: 'z', authuser: 'z', request: 'GET /z', bytes: '1', tail: '' });

function toBuffer(data: string | Buffer): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/**
 * Ingests `bad` as line 1 and GOOD_AFTER as line 2 into a baseline index and checks the
 * documented outcome: one line rejected for `reason` (sampled unless filtered), the
 * good line indexed, the baseline's answers unchanged.
 */
function expectRejected(bad: string | Buffer, reason: RejectReason, options?: IngestOptions): IngestReport {
  const { index, before, answers } = baseline();
  try {
    const badBytes = toBuffer(bad);
    const report = index.ingest(Buffer.concat([badBytes, Buffer.from(`\n${GOOD_AFTER}\n`)]), options);
    expect(report.reasons, JSON.stringify(badBytes.toString('latin1').slice(0, 300))).toEqual({ [reason]: 1 });
    expect(report).toMatchObject({ lines: 2, accepted: 1, rejected: 1, late: 0 });
    const cr = badBytes.length > 0 && badBytes[badBytes.length - 1] === 0x0d ? 1 : 0;
    expect(report.samples).toEqual(
      FILTER_REASONS.has(reason) ? [] : [{ line: 1, reason, text: sampleText(badBytes.subarray(0, badBytes.length - cr)) }],
    );
    expect(index.lastUsers('/z')).toEqual([{ user: 'z', ts: T }]);
    expect(answers()).toEqual(before);
    index.validate();
    return report;
  } finally {
    index.close();
  }
}

interface View {
  user: string;
  page: string;
  ts: number;
}

/**
 * Ingests one line into a fresh index and checks that it gives exactly the view
 * `expected` (user defaults to '10.0.0.1', page to '/a', ts to T): the only page, the
 * only user, found under those keys.
 */
function expectView(data: string | Buffer, expected: Partial<View>, options?: IngestOptions): void {
  const view: View = { user: '10.0.0.1', page: '/a', ts: T, ...expected };
  // Far-future times are accepted here: this is about parsing them.
  const index = new ActivityIndex({ userWindow: '1d', maxFutureSkew: Infinity });
  try {
    const report = index.ingest(data, options);
    expect(report, toBuffer(data).toString('latin1').slice(0, 200)).toEqual({ lines: 1, accepted: 1, rejected: 0, late: 0, reasons: {}, samples: [] });
    expect(index.stats()).toMatchObject({ events: 1, pages: 1, users: 1 });
    expect(index.lastUsers(view.page)).toEqual([{ user: view.user, ts: view.ts }]);
    expect(index.userPages(view.user)).toEqual([{ page: view.page, ts: view.ts }]);
  } finally {
    index.close();
  }
}

/** Ingests one line into a fresh index and returns its reason (the line must be rejected). */
function reasonOf(data: string | Buffer, options?: IngestOptions): RejectReason {
  const index = new ActivityIndex();
  try {
    const report = index.ingest(data, options);
    expect(report).toMatchObject({ lines: 1, accepted: 0, rejected: 1 });
    return Object.keys(report.reasons)[0] as RejectReason;
  } finally {
    index.close();
  }
}

describe('ingest(): lines', () => {
  it('skips empty lines and "\\r"-only lines without counting them, but numbers them', () => {
    const index = new ActivityIndex();
    try {
      const bad = line({ status: 999 });
      const report = index.ingest(`\n\r\n${line()}\n\n${bad}\r\n\n\r\n${bad}`);
      expect(report).toEqual({
        lines: 3,
        accepted: 1,
        rejected: 2,
        late: 0,
        reasons: { 'bad-status': 2 },
        samples: [
          { line: 5, reason: 'bad-status', text: bad },
          { line: 8, reason: 'bad-status', text: bad },
        ],
      });
      expect(index.ingest('')).toEqual({ lines: 0, accepted: 0, rejected: 0, late: 0, reasons: {}, samples: [] });
      expect(index.ingest('\n\n\r\n\n')).toEqual({ lines: 0, accepted: 0, rejected: 0, late: 0, reasons: {}, samples: [] });
    } finally {
      index.close();
    }
  });

  it('accepts "\\r\\n" endings and a last line without "\\n"', () => {
    const index = new ActivityIndex();
    try {
      const report = index.ingest(`${line({ host: 'x' })}\r\n${line({ host: 'y' })}\r\n${line({ host: 'z' })}`);
      expect(report).toMatchObject({ lines: 3, accepted: 3, rejected: 0 });
      expect(index.lastUsers('/a').map((v) => v.user)).toEqual(['x', 'y', 'z']);
      // a last line that is just "\r" is empty
      expect(index.ingest(`${line()}\n\r`)).toMatchObject({ lines: 1, accepted: 1 });
    } finally {
      index.close();
    }
  });

  it('drops only one "\\r" before "\\n": a line ending "200 512\\r\\r\\n" has bytes "512\\r" (malformed)', () => {
    // docs/ingest.md: "A line ends at \n; a \r before it is dropped." A second \r is
    // part of the line, and "512\r" is not digits or "-" (LogParser::Parse alone agrees:
    // native/tests/log-parser-test.cc expects common + "\r\r" to be malformed).
    // KNOWN BUG while this fails: IngestSession::ProcessLine drops one "\r" and then
    // LogParser::Parse drops another, so the line is accepted.
    expectRejected(`${line({ tail: '' })}\r\r`, 'malformed');
    expectRejected(`${line({ tail: '' })}\r\r`, 'malformed', { format: 'common' });
  });

  it('treats a NUL byte as a control byte where it lands in a key, and ignores it elsewhere', () => {
    expectRejected(line({ request: 'GET /a\0b HTTP/1.1' }), 'malformed');
    expectRejected(line({ host: '10.0\0.0.1' }), 'malformed');
    expectRejected(line({ request: 'GET /a?x=\0 HTTP/1.1' }), 'malformed', { keepQuery: true });
    expectRejected(line({ time: `17/May/2015:10:05:03 +00\x000` }), 'bad-time');
    expectRejected('\0', 'malformed');
    expectRejected(Buffer.alloc(1000), 'malformed');
    // the query is not part of the page, and the agent is not read
    expectView(line({ request: 'GET /a?x=\0 HTTP/1.1' }), { user: '10.0.0.1', page: '/a', ts: T });
    expectView(line({ tail: ' "-" "agent\0"' }), { user: '10.0.0.1', page: '/a', ts: T });
  });

  it('rejects other control bytes in keys (tab, DEL, ESC) as malformed', () => {
    expectRejected(line({ request: 'GET /a\tb HTTP/1.1' }), 'malformed');
    expectRejected(line({ request: 'GET /a\x7f HTTP/1.1' }), 'malformed');
    expectRejected(line({ host: '\x1b[31m' }), 'malformed');
    expectRejected(line({ authuser: 'ann\x01' }), 'malformed', { user: 'authuser' });
  });
});

describe('ingest(): invalid UTF-8 (bad-encoding)', () => {
  const withPath = (bytes: number[]) =>
    Buffer.concat([Buffer.from(`10.0.0.1 - - [${clf(T)}] "GET /caf`), Buffer.from(bytes), Buffer.from(' HTTP/1.1" 200 1')]);

  it.each([
    ['a Latin-1 byte', [0xe9]],
    ['an overlong "/"', [0xc0, 0xaf]],
    ['an overlong 3-byte form', [0xe0, 0x80, 0xaf]],
    ['a UTF-8 encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a lone continuation byte', [0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['0xFF', [0xff]],
  ])('in the path: %s', (_name, bytes) => {
    const report = expectRejected(withPath(bytes), 'bad-encoding');
    // the sample decodes invalid bytes as U+FFFD
    expect(report.samples[0]!.text).toContain('\uFFFD');
  });

  it('in the user', () => {
    expectRejected(Buffer.concat([Buffer.from([0x31, 0xe9]), Buffer.from(line().slice('10.0.0.1'.length))]), 'bad-encoding');
  });

  it('loses to a control byte anywhere in either key', () => {
    expectRejected(withPath([0xe9, 0x01]), 'malformed');
    expectRejected(Buffer.concat([Buffer.from([0x31, 0x01]), withPath([0xe9]).subarray('10.0.0.1'.length)]), 'malformed');
  });

  it('is not checked where nothing is read (ident, agent, a dropped query)', () => {
    expectView(Buffer.concat([Buffer.from('h '), Buffer.from([0xff]), Buffer.from(line().slice('10.0.0.1 -'.length))]), {
      user: 'h',
      page: '/a',
      ts: T,
    });
    expectView(Buffer.concat([Buffer.from(line({ tail: ' "-" "' })), Buffer.from([0xff, 0xfe, 0x22])]), { page: '/a' });
    const head = `10.0.0.1 - - [${clf(T)}] "GET /q?`;
    expectView(Buffer.concat([Buffer.from(head), Buffer.from([0xe9]), Buffer.from(' HTTP/1.1" 200 1')]), { page: '/q' });
  });

  it('accepts valid multi-byte UTF-8 keys as they are', () => {
    expectView(line({ host: 'ünï', request: 'GET /caf%C3%A9/café/😀 HTTP/1.1' }), { user: 'ünï', page: '/caf%C3%A9/café/😀', ts: T });
  });
});

describe('ingest(): structure (malformed)', () => {
  it('rejects every truncation of a line before its bytes field as malformed', () => {
    const full = line({ tail: '' });
    const end = full.lastIndexOf(' '); // the line up to (not including) " 512"
    const index = new ActivityIndex();
    try {
      const truncations: string[] = [];
      for (let cut = 1; cut <= end + 1; cut++) truncations.push(full.slice(0, cut));
      const report = index.ingest(truncations.join('\n'));
      expect(report).toMatchObject({ lines: truncations.length, accepted: 0, reasons: { malformed: truncations.length } });
      expect(report.samples.map((s) => s.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(report.samples.map((s) => s.text)).toEqual(truncations.slice(0, 10));
      // the bytes field cut short is still a whole common-format line
      expect(index.ingest(full.slice(0, end + 2))).toMatchObject({ accepted: 1 });
      expect(index.stats().events).toBe(1);
    } finally {
      index.close();
    }
  });

  it.each([
    ['no brackets', '10.0.0.1 - - 17/May/2015:10:05:03 +0000 "GET /a HTTP/1.1" 200 1'],
    ['no closing bracket', '10.0.0.1 - - [17/May/2015:10:05:03 +0000 "GET /a HTTP/1.1" 200 1'],
    ['no opening bracket', '10.0.0.1 - - 17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200 1'],
    ['double brackets', '10.0.0.1 - - [[17/May/2015:10:05:03 +0000]] "GET /a HTTP/1.1" 200 1'],
    ['parentheses', '10.0.0.1 - - (17/May/2015:10:05:03 +0000) "GET /a HTTP/1.1" 200 1'],
    ['brackets around the request', '10.0.0.1 - - [17/May/2015:10:05:03 +0000] ["GET /a HTTP/1.1"] 200 1'],
    ['the request inside the brackets', '10.0.0.1 - - [17/May/2015:10:05:03 +0000 "GET /a HTTP/1.1"] 200 1'],
    ['no space after the time', '10.0.0.1 - - [17/May/2015:10:05:03 +0000]"GET /a HTTP/1.1" 200 1'],
    ['an unclosed request quote', '10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1 200 1'],
    ['an unclosed request quote (combined)', '10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1 200 1 "-" "agent"'],
    ['a doubled closing quote', '10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1"" 200 1'],
    ['an escaped closing quote', '10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1\\" 200 1'],
    ['a quote inside the request', '10.0.0.1 - - [17/May/2015:10:05:03 +0000] "GET /a" HTTP/1.1" 200 1'],
    ['single quotes', "10.0.0.1 - - [17/May/2015:10:05:03 +0000] 'GET /a HTTP/1.1' 200 1"],
    ['an unquoted request', '10.0.0.1 - - [17/May/2015:10:05:03 +0000] GET /a HTTP/1.1 200 1'],
    ['two spaces between fields', '10.0.0.1  - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200 1'],
    ['a missing ident', '10.0.0.1 - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200 1'],
    ['a non-numeric bytes field', line({ bytes: '12k' })],
    ['an empty bytes field', line({ bytes: '', tail: '' })],
    ['a referer without quotes', line({ tail: ' - "agent"' })],
    ['a trailing space', line({ tail: ' ' })],
    ['JSON', '{"user":"a","page":"/a","ts":1}'],
    ['a request of "-" with status 200', line({ request: '-' })],
    ['an asterisk-form target with a method other than OPTIONS', line({ request: 'GET * HTTP/1.1' })],
    ['a protocol that is no HTTP version', line({ request: 'GET /a b' })],
    ['an authority-form target with a method other than CONNECT', line({ request: 'GET example.com:443 HTTP/1.1' })],
    ['a CONNECT target that is no host:port', line({ request: 'CONNECT example.com HTTP/1.1' })],
    ['a relative target', line({ request: 'GET a/b HTTP/1.1' })],
    ['an ftp:// target', line({ request: 'GET ftp://example.com/a HTTP/1.1' })],
    ['an absolute target without a host', line({ request: 'GET http:///a HTTP/1.1' })],
    ['a method that is not a token', line({ request: 'G(T /a HTTP/1.1' })],
    ['no method', line({ request: '/a HTTP/1.1' })],
    ['a space in the target', line({ request: 'GET /a b HTTP/1.1' })],
    ['an empty target', line({ request: 'GET  HTTP/1.1' })],
    ['a target that is only a query', line({ request: 'GET ?a=1 HTTP/1.1' })],
    ['a binary request (TLS sent to a plain-HTTP port) with status 200', line({ request: '\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03' })],
  ])('%s', (_name, text) => {
    expectRejected(text, 'malformed');
  });

  it('counts a proxy tunnel (CONNECT host:port) as a sound line that is no page view', () => {
    // Counted under `method` (not sampled) while CONNECT is not in `methods`, and
    // filtered when it is: a tunnel names no page either way.
    expectRejected(line({ request: 'CONNECT example.com:443 HTTP/1.1' }), 'method');
    expectRejected(line({ request: 'CONNECT [2001:db8::1]:443 HTTP/1.1' }), 'method', { format: { apache: '%h %l %u %t "%r" %>s %b' } });
    expectRejected(line({ request: 'CONNECT example.com:443 HTTP/1.1' }), 'filtered', { methods: 'any' });
  });

  it('reads \\" and \\\\ inside the request as escapes and keeps them in the page as logged', () => {
    expectView(line({ request: 'GET /a\\"b HTTP/1.1' }), { page: '/a\\"b' });
    expectView(line({ request: 'GET /a\\\\ HTTP/1.1' }), { page: '/a\\\\' });
    expectView(line({ request: 'GET /a\\\\' }), { page: '/a\\\\' });
    expectView(line({ request: 'GET /%20\\x22' }), { page: '/%20\\x22' });
  });

  it('reads absolute-form targets as their path, and drops queries and fragments', () => {
    expectView(line({ request: 'GET HTTP://Example.com?x#y HTTP/1.1' }), { page: '/' });
    expectView(line({ request: 'GET https://example.com/a/b?x HTTP/1.1' }), { page: '/a/b' });
    expectView(line({ request: 'GET https://example.com HTTP/1.1' }), { page: '/' });
    expectView(line({ request: 'GET http://example.com?x HTTP/1.1' }), { page: '/' });
    expectView(line({ request: 'GET http://example.com?x HTTP/1.1' }), { page: '/?x' }, { keepQuery: true });
    expectView(line({ request: 'GET /a?b=1#c HTTP/1.1' }), { page: '/a' });
    expectView(line({ request: 'GET /a?b=1#c HTTP/1.1' }), { page: '/a?b=1' }, { keepQuery: true });
    expectView(line({ request: 'GET /a#c?b HTTP/1.1' }), { page: '/a' }, { keepQuery: true });
    expectView(line({ request: 'HEAD /a' }), { page: '/a' }, { methods: ['GET', 'HEAD'] });
  });

  it('reads a common line in combined format, and rejects a combined line in common format', () => {
    expectView(line({ tail: '' }), { page: '/a' }, { format: 'common' });
    expectView(line({ tail: '' }), { page: '/a' }, { format: 'combined' });
    expectRejected(line(), 'malformed', { format: 'common' });
    // combined does not check past the referer's opening quote (fixture line 8899): an
    // agent that lost its closing quote runs to the end of the line
    expectView(line({ tail: ' "-" "Mozilla/5.0 (compatible; Firefox/120.0' }), { page: '/a' });
    expectRejected(line({ tail: ' "-" "Mozilla/5.0 (compatible; Googlebot/2.1' }), 'crawler');
    expectView(line({ tail: ' "' }), { page: '/a' });
    expectView(line({ tail: ' "x" "y" 1234 vhost.example' }), { page: '/a' });
  });
});

describe('ingest(): times (bad-time)', () => {
  it.each([
    ['31/Feb/2015', '31/Feb/2015:10:00:00 +0000'],
    ['29/Feb/2015 (not a leap year)', '29/Feb/2015:10:00:00 +0000'],
    ['29/Feb/1900 (not a leap year)', '29/Feb/1900:10:00:00 +0000'],
    ['31/Apr', '31/Apr/2015:10:00:00 +0000'],
    ['day 00', '00/May/2015:10:00:00 +0000'],
    ['day 32', '32/May/2015:10:00:00 +0000'],
    ['a one-digit day', '7/May/2015:10:00:00 +0000'],
    ['a lower-case month', '10/may/2015:10:00:00 +0000'],
    ['an upper-case month', '10/MAY/2015:10:00:00 +0000'],
    ['a numeric month', '10/05/2015:10:00:00 +0000'],
    ['a two-digit year', '10/May/15:10:00:00 +0000'],
    ['hour 24', '10/May/2015:24:00:00 +0000'],
    ['minute 60', '10/May/2015:10:60:00 +0000'],
    ['second 60 (leap second)', '30/Jun/2015:23:59:60 +0000'],
    ['an offset of +9999', '10/May/2015:10:00:00 +9999'],
    ['an offset of +1401', '10/May/2015:10:00:00 +1401'],
    ['an offset of -1401', '10/May/2015:10:00:00 -1401'],
    ['offset minutes 60', '10/May/2015:10:00:00 +0060'],
    ['an offset without a sign', '10/May/2015:10:00:00 0000'],
    ['an offset with a colon', '10/May/2015:10:00:00 +00:00'],
    ['an offset of Z', '10/May/2015:10:00:00 Z'],
    ['no offset', '10/May/2015:10:00:00'],
    ['fractional seconds', '10/May/2015:10:00:00.123 +0000'],
    ['an ISO-8601 time', '2015-05-10T10:00:00Z'],
    ['a time before 1970 (UTC)', '01/Jan/1970:00:59:59 +0100'],
    ['the year 0000', '01/Jan/0000:00:00:00 +0000'],
    ['the year 0070', '01/Jan/0070:00:00:00 +0000'],
    ['empty', ''],
    ['garbage', 'yesterday'],
  ])('%s', (_name, time) => {
    expectRejected(line({ time }), 'bad-time');
  });

  it('converts with the offset, including the widest ones, and accepts the epoch', () => {
    expectView(line({ time: '10/Oct/2000:13:55:36 -0700' }), { ts: Date.parse('2000-10-10T13:55:36-07:00') });
    expectView(line({ time: '10/Oct/2000:13:55:36 +1400' }), { ts: Date.parse('2000-10-10T13:55:36+14:00') });
    expectView(line({ time: '10/Oct/2000:13:55:36 -1400' }), { ts: Date.parse('2000-10-10T13:55:36-14:00') });
    expectView(line({ time: '10/Oct/2000:13:55:36 +0530' }), { ts: Date.parse('2000-10-10T13:55:36+05:30') });
    expectView(line({ time: '01/Jan/1970:01:00:00 +0100' }), { ts: 0 });
    expectView(line({ time: '29/Feb/2000:23:59:59 +0000' }), { ts: Date.parse('2000-02-29T23:59:59Z') });
    expectView(line({ time: '31/Dec/9999:23:59:59 +0000' }), { ts: Date.parse('9999-12-31T23:59:59Z') });
  });
});

describe('ingest(): statuses', () => {
  it.each(['999', '099', '600', '000', '20', '2000', 'abc', '-', '2O0', '+20'])('status %s is bad-status', (status) => {
    expectRejected(line({ status }), 'bad-status');
  });

  it.each(['404', '500', '100', '199', '400', '599'])('status %s is filtered by default, and not sampled', (status) => {
    expectRejected(line({ status }), 'filtered');
  });

  it('filters before it reads the time or the request (a 408 with request "-", a 400 with a binary request)', () => {
    expectRejected(line({ status: 408, request: '-' }), 'filtered');
    expectRejected(line({ status: 400, request: '\\x16\\x03\\x01' }), 'filtered');
    expectRejected(line({ status: 404, time: '31/Feb/2015:10:00:00 +0000' }), 'filtered');
    expectRejected(line({ status: 404, request: 'GET /caf\xE9 HTTP/1.1' }), 'filtered');
    // but structure comes first, and bad-status before the filter
    expectRejected(line({ status: 404, bytes: 'x' }), 'malformed');
    expectRejected(line({ status: 999, request: '-' }), 'bad-status');
  });

  it('accepts 200..399 by default and what options.statuses says otherwise', () => {
    for (const status of [200, 204, 301, 304, 399]) expectView(line({ status }), { page: '/a' });
    expectView(line({ status: 404 }), { page: '/a' }, { statuses: [404] });
    expect(reasonOf(line({ status: 200 }), { statuses: [404] })).toBe('filtered');
    expectView(line({ status: 100 }), { page: '/a' }, { statuses: { min: 100, max: 599 } });
    expectView(line({ status: 599 }), { page: '/a' }, { statuses: { min: 100, max: 599 } });
    expectView(line({ status: 250 }), { page: '/a' }, { statuses: { min: 250, max: 250 } });
    expect(reasonOf(line({ status: 251 }), { statuses: { min: 250, max: 250 } })).toBe('filtered');
    expect(reasonOf(line({ status: 999 }), { statuses: { min: 100, max: 599 } })).toBe('bad-status');
  });
});

describe('ingest(): users', () => {
  it("reads the authuser with user: 'authuser', and filters '-' and '\"\"' there", () => {
    expectView(line({ authuser: 'ann' }), { user: 'ann' }, { user: 'authuser' });
    expectRejected(line({ authuser: '-' }), 'filtered', { user: 'authuser' });
    expectRejected(line({ authuser: '""' }), 'filtered', { user: 'authuser' });
    // the authuser filter comes before the time
    expectRejected(line({ authuser: '-', time: 'bad' }), 'filtered', { user: 'authuser' });
    // a host with a control byte does not matter when the user is the authuser
    expectView(line({ host: 'h\x01', authuser: 'ann' }), { user: 'ann' }, { user: 'authuser' });
  });

  it("falls back to the host with user: 'authuser|host'", () => {
    expectView(line({ authuser: 'ann' }), { user: 'ann' }, { user: 'authuser|host' });
    expectView(line({ authuser: '-' }), { user: '10.0.0.1' }, { user: 'authuser|host' });
    expectView(line({ authuser: '""' }), { user: '10.0.0.1' }, { user: 'authuser|host' });
  });
});

describe('ingest(): key and line lengths', () => {
  it('rejects a key longer than maxKeyBytes as key-too-long (a 2,000-byte path)', () => {
    expectRejected(line({ request: `GET /${'p'.repeat(1999)} HTTP/1.1` }), 'key-too-long');
    expectView(line({ request: `GET /${'p'.repeat(1023)} HTTP/1.1` }), { page: `/${'p'.repeat(1023)}` });
    expectRejected(line({ host: 'h'.repeat(1025) }), 'key-too-long');
    expectRejected(line({ request: 'GET /abcdefghi HTTP/1.1' }), 'key-too-long', { maxKeyBytes: 9 });
    expectRejected(line({ request: 'GET /é HTTP/1.1' }), 'key-too-long', { maxKeyBytes: 2 }); // 3 bytes
    expectView(line({ host: 'h', request: 'GET /é HTTP/1.1' }), { user: 'h', page: '/é' }, { maxKeyBytes: 3 });
  });

  it('ranks encoding and control bytes above length', () => {
    expectRejected(line({ request: `GET /${'p'.repeat(1999)}\x01 HTTP/1.1` }), 'malformed');
    expectRejected(Buffer.concat([Buffer.from(line({ request: `GET /${'p'.repeat(1999)}` }).split('" 200')[0]!), Buffer.from([0xe9]), Buffer.from('" 200 1')]), 'bad-encoding');
  });

  it('rejects a line longer than maxLineBytes, not counting "\\n" or "\\r\\n"', () => {
    const text = line();
    const n = Buffer.byteLength(text);
    expectView(text, { page: '/a' }, { maxLineBytes: n });
    expectView(`${text}\r\n`, { page: '/a' }, { maxLineBytes: n });
    expectRejected(text, 'line-too-long', { maxLineBytes: n - 1 });
    expectRejected(`${text}\r`, 'line-too-long', { maxLineBytes: n - 1 });
    // the length check comes before parsing: even a 10-byte line of garbage
    expect(reasonOf('0123456789', { maxLineBytes: 9 })).toBe('line-too-long');
    expect(reasonOf('012345678', { maxLineBytes: 9 })).toBe('malformed');
  });
});

describe('a 10 MB line', () => {
  const TEN_MB = 10 * 1024 * 1024;
  const huge = line({ request: `GET /${'x'.repeat(TEN_MB)} HTTP/1.1` });
  const expectedSample = { line: 2, reason: 'line-too-long', text: huge.slice(0, 200) };

  it('is rejected by ingest() as line-too-long; indexing goes on and memory stays the same', () => {
    const { index, before, answers } = baseline();
    try {
      const memory = index.stats().memoryBytes;
      const report = index.ingest(`${line({ host: '10.0.0.1', request: 'GET /a HTTP/1.1' })}\n${huge}\n${GOOD_AFTER}\n`);
      expect(report).toEqual({ lines: 3, accepted: 2, rejected: 1, late: 0, reasons: { 'line-too-long': 1 }, samples: [expectedSample] });
      expect(index.lastUsers('/z')).toEqual([{ user: 'z', ts: T }]);
      expect(answers()).toEqual(before);
      // one new user and page: a little memory, nothing of the size of the line
      expect(index.stats().memoryBytes - memory).toBeLessThan(64 * 1024);
      index.validate();
    } finally {
      index.close();
    }
  });

  it('is rejected by a stream fed in 64 KiB chunks; indexing goes on and memory stays the same', async () => {
    for (const last of [true, false]) {
      const { index, before, answers } = baseline();
      try {
        const memory = index.stats().memoryBytes;
        const data = Buffer.from(`${line()}\n${huge}${last ? '' : `\n${GOOD_AFTER}\n`}`);
        const stream = index.createIngestStream();
        for (let at = 0; at < data.length; at += 64 * 1024) stream.write(data.subarray(at, at + 64 * 1024));
        await new Promise<void>((resolve, reject) => stream.end(resolve).on('error', reject));
        if (last) {
          // the huge line is the last one, without "\n"
          expect(stream.report).toEqual({ lines: 2, accepted: 1, rejected: 1, late: 0, reasons: { 'line-too-long': 1 }, samples: [expectedSample] });
        } else {
          expect(stream.report).toEqual({ lines: 3, accepted: 2, rejected: 1, late: 0, reasons: { 'line-too-long': 1 }, samples: [expectedSample] });
          expect(index.lastUsers('/z')).toEqual([{ user: 'z', ts: T }]);
        }
        expect(answers()).toEqual(before);
        expect(index.stats().memoryBytes - memory).toBeLessThan(64 * 1024);
        // the stream goes on after the huge line: the next view is indexed
        index.ingest(line({ host: 'later', request: 'GET /later HTTP/1.1' }));
        expect(index.lastUsers('/later')).toEqual([{ user: 'later', ts: T }]);
        index.validate();
      } finally {
        index.close();
      }
    }
  });

  it('is parsed when maxLineBytes allows it (then its 10 MB page is key-too-long)', () => {
    const index = new ActivityIndex();
    try {
      const report = index.ingest(huge, { maxLineBytes: 16 * 1024 * 1024 });
      expect(report).toMatchObject({ lines: 1, reasons: { 'key-too-long': 1 }, samples: [{ line: 1, reason: 'key-too-long', text: huge.slice(0, 200) }] });
    } finally {
      index.close();
    }
  });
});

describe('random binary input', () => {
  /** xorshift32: the same bytes on every run. */
  function randomBytes(seed: number, n: number, newline: boolean): Buffer {
    const out = Buffer.alloc(n);
    let x = seed >>> 0 || 1;
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      out[i] = x & 0xff;
      if (!newline && out[i] === 0x0a) out[i] = 0x0b;
    }
    return out;
  }

  it('as one line is rejected, and the next line is indexed', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const bytes = randomBytes(seed, 50 + seed * 97, false);
      const { index, before, answers } = baseline();
      try {
        const report = index.ingest(Buffer.concat([bytes, Buffer.from(`\n${GOOD_AFTER}`)]));
        expect(report).toMatchObject({ lines: 2, accepted: 1, rejected: 1 });
        expect(report.samples).toHaveLength(1);
        expect(report.samples[0]!.line).toBe(1);
        expect(index.lastUsers('/z')).toEqual([{ user: 'z', ts: T }]);
        expect(answers()).toEqual(before);
        index.validate();
      } finally {
        index.close();
      }
    }
  });

  it('with newlines: every counted line rejected, the report adds up, the reference agrees', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const bytes = randomBytes(seed * 7919, 20_000, true);
      const { index, before, answers } = baseline();
      try {
        const report = index.ingest(bytes);
        expect(report.accepted).toBe(0);
        expect(report.lines).toBe(report.rejected);
        expect(Object.values(report.reasons).reduce((a, b) => a + b, 0)).toBe(report.rejected);
        expect(report).toEqual(referenceIngest(bytes, {}, { userWindow: 3_600_000 }).report);
        expect(answers()).toEqual(before);
        index.validate();
      } finally {
        index.close();
      }
    }
  });
});

describe('the report', () => {
  it('samples the first 10 non-filtered rejected lines, numbered from 1 with empty lines counted, text cut to 200 bytes', () => {
    const index = new ActivityIndex();
    try {
      const input: string[] = [];
      const expected: { line: number; reason: RejectReason; text: string }[] = [];
      const long = `${'ab'.repeat(60)}x${'é'.repeat(100)}`; // byte 200 falls inside an "é"
      for (let i = 0; i < 15; i++) {
        input.push(line({ status: 404 })); // filtered: not sampled
        input.push('');
        const bad = i % 3 === 0 ? `${long}${i}` : i % 3 === 1 ? line({ status: 999 }) : line({ time: '31/Feb/2015:10:00:00 +0000' });
        input.push(bad);
        input.push(line({ host: `ok${i}` }));
        if (expected.length < 10) {
          expected.push({ line: input.length - 1, reason: i % 3 === 0 ? 'malformed' : i % 3 === 1 ? 'bad-status' : 'bad-time', text: bad });
        }
      }
      const report = index.ingest(input.join('\r\n'));
      expect(report).toMatchObject({ lines: 45, accepted: 15, rejected: 30, reasons: { filtered: 15, malformed: 5, 'bad-status': 5, 'bad-time': 5 } });
      const cut = Buffer.from(long).subarray(0, 199).toString(); // 121 + 78 bytes: the 40th "é" would end at byte 201
      expect(Buffer.byteLength(cut)).toBe(200 - 1);
      expect(report.samples).toEqual(expected.map((s) => ({ ...s, text: s.reason === 'malformed' ? cut : s.text })));
    } finally {
      index.close();
    }
  });

  it('counts late lines: accepted, in the page index, not in the user index', () => {
    const index = new ActivityIndex({ userWindow: '30m' });
    try {
      const report = index.ingest(
        [line({ host: 'now', time: clf(T) }), line({ host: 'old', time: clf(T - 2 * 3_600_000) }), line({ host: 'recent', time: clf(T - 60_000) })].join('\n'),
      );
      expect(report).toEqual({ lines: 3, accepted: 3, rejected: 0, late: 1, reasons: {}, samples: [] });
      expect(index.lastUsers('/a').map((v) => v.user)).toEqual(['now', 'recent', 'old']);
      expect(index.userPages('old', { now: T - 2 * 3_600_000 })).toEqual([]);
      expect(index.stats().late).toBe(1);
    } finally {
      index.close();
    }
  });

  it('reports only the non-zero reasons, and a sample per call (line numbers restart)', () => {
    const index = new ActivityIndex();
    try {
      expect(index.ingest(line()).reasons).toEqual({});
      expect(index.ingest(`${line()}\n${line({ status: 999 })}`).samples).toEqual([{ line: 2, reason: 'bad-status', text: line({ status: 999 }) }]);
      expect(index.ingest(line({ status: 999 })).samples).toEqual([{ line: 1, reason: 'bad-status', text: line({ status: 999 }) }]);
    } finally {
      index.close();
    }
  });
});

describe('ndjson', () => {

  /** As expectRejected, with an ndjson good line after the bad one. */
  function expectNdRejected(bad: string | Buffer, reason: RejectReason, options: IngestOptions = {}) {
    const index = new ActivityIndex({ userWindow: '1h' });
    try {
      index.ingest(BASE_USERS.flatMap((user) => BASE_PAGES.map((page) => JSON.stringify({ user, page, ts: T - 1000 }))).join('\n'), { format: 'ndjson' });
      const before = snapshot(index, BASE_PAGES, BASE_USERS).q1;
      // a sound line after the bad one, under the field names in force
      const fields = { user: 'user', page: 'page', ts: 'ts', ...options.fields };
      const good = JSON.stringify({ [fields.user]: 'z', [fields.page]: '/z', [fields.ts]: T });
      const report = index.ingest(Buffer.concat([toBuffer(bad), Buffer.from(`\n${good}`)]), { format: 'ndjson', ...options });
      expect(report.reasons, toBuffer(bad).toString('latin1').slice(0, 200)).toEqual({ [reason]: 1 });
      expect(report).toMatchObject({ lines: 2, accepted: 1, rejected: 1 });
      expect(report.samples).toEqual([{ line: 1, reason, text: sampleText(toBuffer(bad)) }]);
      expect(index.lastUsers('/z')).toEqual([{ user: 'z', ts: T }]);
      expect(snapshot(index, BASE_PAGES, BASE_USERS).q1).toEqual(before);
      index.validate();
    } finally {
      index.close();
    }
  }

  it('reads ms and ISO-8601 times', () => {
    expectView('{"user":"alice","page":"/pricing","ts":1431857103000}', { user: 'alice', page: '/pricing', ts: 1431857103000 }, { format: 'ndjson' });
    expectView('{"user":"bob","page":"/docs","ts":"2015-05-17T10:05:03.250+02:00","referrer":null}', {
      user: 'bob',
      page: '/docs',
      ts: Date.parse('2015-05-17T10:05:03.250+02:00'),
    }, { format: 'ndjson' });
    const iso: [string, number][] = [
      ['2015-05-17T10:05:03Z', Date.parse('2015-05-17T10:05:03Z')],
      ['2015-05-17t10:05:03z', Date.parse('2015-05-17T10:05:03Z')],
      ['2015-05-17 10:05:03+0200', Date.parse('2015-05-17T10:05:03+02:00')],
      ['2015-05-17T10:05:03-14:00', Date.parse('2015-05-17T10:05:03-14:00')],
      ['2015-05-17T10:05:03.1Z', Date.parse('2015-05-17T10:05:03.100Z')],
      ['2015-05-17T10:05:03.123456789Z', Date.parse('2015-05-17T10:05:03.123Z')],
      ['2015-05-17T10:05:03.999999+05:30', Date.parse('2015-05-17T10:05:03.999+05:30')],
      ['1970-01-01T00:00:00Z', 0],
      ['1970-01-01T01:00:00.000+01:00', 0],
      ['2016-02-29T00:00:00Z', Date.parse('2016-02-29T00:00:00Z')],
    ];
    for (const [text, ts] of iso) expectView(JSON.stringify({ user: 'u', page: '/p', ts: text }), { user: 'u', page: '/p', ts }, { format: 'ndjson' });
    const numbers: [string, number][] = [
      ['0', 0],
      ['-0', 0],
      ['1431857103000', 1431857103000],
      ['1431857103000.0', 1431857103000],
      ['1.431857103e12', 1431857103000],
      ['1.431857103E+12', 1431857103000],
      ['14318571030000e-1', 1431857103000],
      ['8640000000000000', 8.64e15],
    ];
    for (const [text, ts] of numbers) expectView(`{"user":"u","page":"/p","ts":${text}}`, { user: 'u', page: '/p', ts }, { format: 'ndjson' });
  });

  it.each([
    ['a fraction', '1.5'],
    ['a small fraction', '1431857103000.001'],
    ['a negative number', '-1'],
    ['2^53', '9007199254740992'],
    ['one ms after Date\'s range', '8640000000000001'],
    ['a huge exponent', '1e400'],
    ['a tiny exponent', '1e-400'],
    ['null', 'null'],
    ['true', 'true'],
    ['an object', '{}'],
    ['an array', '[1431857103000]'],
    ['an ISO time without an offset', '"2015-05-17T10:05:03"'],
    ['a date only', '"2015-05-17"'],
    ['hour 24', '"2015-05-17T24:00:00Z"'],
    ['second 60', '"2015-06-30T23:59:60Z"'],
    ['31 February', '"2015-02-31T10:00:00Z"'],
    ['an offset beyond 14:00', '"2015-05-17T10:05:03+14:01"'],
    ['offset minutes 60', '"2015-05-17T10:05:03+01:60"'],
    ['before 1970', '"1969-12-31T23:59:59.999Z"'],
    ['no seconds', '"2015-05-17T10:05Z"'],
    ['an empty fraction', '"2015-05-17T10:05:03.Z"'],
    ['a numeric string', '"1431857103000"'],
    ['an empty string', '""'],
    ['a lone surrogate escape', '"\\ud800"'],
  ])('ts as %s is bad-time', (_name, ts) => {
    expectNdRejected(`{"user":"u","page":"/p","ts":${ts}}`, 'bad-time');
  });

  it.each([
    ['user not a string', '{"user":42,"page":"/a","ts":1}'],
    ['user null', '{"user":null,"page":"/a","ts":1}'],
    ['page an object', '{"user":"u","page":{"path":"/a"},"ts":1}'],
    ['no user', '{"page":"/a","ts":1}'],
    ['no page', '{"user":"u","ts":1}'],
    ['no ts', '{"user":"u","page":"/a"}'],
    ['an empty user', '{"user":"","page":"/a","ts":1}'],
    ['a control byte escaped in the user', '{"user":"a\\u0000","page":"/a","ts":1}'],
    ['a tab escaped in the page', '{"user":"a","page":"/a\\tb","ts":1}'],
    ['a raw control byte in a string', '{"user":"a\x01","page":"/a","ts":1}'],
    ['trailing text', '{"user":"a","page":"/a","ts":1} x'],
    ['a second object', '{"user":"a","page":"/a","ts":1}{}'],
    ['an array', '[{"user":"a","page":"/a","ts":1}]'],
    ['a trailing comma', '{"user":"a","page":"/a","ts":1,}'],
    ['single quotes', "{'user':'a','page':'/a','ts':1}"],
    ['an unclosed object', '{"user":"a","page":"/a","ts":1'],
    ['a bad escape', '{"user":"\\x41","page":"/a","ts":1}'],
    ['a short \\u escape', '{"user":"\\u41","page":"/a","ts":1}'],
    ['a bad number', '{"user":"a","page":"/a","ts":01}'],
    ['invalid JSON in another member', '{"user":"a","page":"/a","ts":1,"x":[1,}'],
    ['a bare word', 'hello'],
    ['a combined log line', line()],
    ['user, last duplicate not a string', '{"user":"a","user":5,"page":"/a","ts":1}'],
  ])('%s is malformed', (_name, text) => {
    expectNdRejected(text, 'malformed');
  });

  it('rejects bad UTF-8 and lone surrogate escapes in keys as bad-encoding, but not in other members', () => {
    expectNdRejected('{"user":"\\ud800","page":"/a","ts":1}', 'bad-encoding');
    expectNdRejected('{"user":"a","page":"/\\udc00x","ts":1}', 'bad-encoding');
    expectNdRejected('{"user":"a","page":"/\\ude00\\ud83d","ts":1}', 'bad-encoding');
    expectNdRejected(Buffer.concat([Buffer.from('{"user":"caf'), Buffer.from([0xe9]), Buffer.from('","page":"/a","ts":1}')]), 'bad-encoding');
    expectView('{"user":"\\ud83d\\ude00","page":"/a","ts":1}', { user: '😀', page: '/a', ts: 1 }, { format: 'ndjson' });
    expectView('{"user":"\\u00e9\\u0041","page":"\\/a\\\\b\\"","ts":1}', { user: 'éA', page: '/a\\b"', ts: 1 }, { format: 'ndjson' });
    const otherMember = Buffer.concat([Buffer.from('{"x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('\\ud800","user":"u","page":"/a","ts":1}')]);
    expectView(otherMember, { user: 'u', page: '/a', ts: 1 }, { format: 'ndjson' });
  });

  it('takes the last duplicate, ignores other members of any depth, and allows whitespace', () => {
    expectView('{"user":"a","user":"b","page":"/a","ts":1,"ts":2}', { user: 'b', page: '/a', ts: 2 }, { format: 'ndjson' });
    expectView('{"user":5,"user":"b","page":"/a","ts":null,"ts":"1970-01-01T00:00:00.007Z"}', { user: 'b', page: '/a', ts: 7 }, { format: 'ndjson' });
    expectView(' \t{ "x" : {"y":[1,2,{"z":[[[]]]}],"w":"\\"}"} , "user" : "u" , "page" : "/p" , "ts" : 3 } \t', { user: 'u', page: '/p', ts: 3 }, { format: 'ndjson' });
    expectView('{"\\u0075ser":"escaped-name","page":"/p","ts":3}', { user: 'escaped-name', page: '/p', ts: 3 }, { format: 'ndjson' });
  });

  it('reads renamed fields, any one alone', () => {
    expectView('{"u":"x","p":"/y","t":5}', { user: 'x', page: '/y', ts: 5 }, { format: 'ndjson', fields: { user: 'u', page: 'p', ts: 't' } });
    expectView('{"who":"x","page":"/y","ts":5}', { user: 'x', page: '/y', ts: 5 }, { format: 'ndjson', fields: { user: 'who' } });
    expectView('{"user":"x","url":"/y","ts":5}', { user: 'x', page: '/y', ts: 5 }, { format: 'ndjson', fields: { page: 'url' } });
    expectView('{"user":"x","page":"/y","@timestamp":"2015-05-17T10:05:03Z"}', { user: 'x', page: '/y', ts: T }, { format: 'ndjson', fields: { ts: '@timestamp' } });
    expectView('{"用户":"x","page":"/y","ts":5}', { user: 'x', page: '/y', ts: 5 }, { format: 'ndjson', fields: { user: '用户' } });
    // the default names no longer count once renamed
    expectNdRejected('{"user":"x","page":"/y","ts":5}', 'malformed', { fields: { user: 'u' } });
    expectNdRejected('{"u":"x","page":"/y","ts":5,"user":"z"}', 'bad-time', { fields: { user: 'u', ts: 'user' } });
  });

  it('applies maxKeyBytes and maxLineBytes', () => {
    expectNdRejected(JSON.stringify({ user: 'u', page: `/${'p'.repeat(1024)}`, ts: 1 }), 'key-too-long');
    expectNdRejected(JSON.stringify({ user: 'abcd', page: '/p', ts: 1 }), 'key-too-long', { maxKeyBytes: 3 });
    expect(reasonOf(JSON.stringify({ user: 'u', page: '/p', ts: 1 }), { format: 'ndjson', maxLineBytes: 20 })).toBe('line-too-long');
  });

  it('survives JSON nested 100,000 deep (malformed if unclosed, ignored if valid)', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expectNdRejected(`{"x":${'['.repeat(100_000)},"user":"u","page":"/p","ts":1}`, 'malformed', { maxLineBytes: 1 << 20 });
    expectView(`{"x":${deep},"user":"u","page":"/p","ts":1}`, { user: 'u', page: '/p', ts: 1 }, { format: 'ndjson', maxLineBytes: 1 << 20 });
    expectNdRejected('{"a":'.repeat(50_000), 'malformed', { maxLineBytes: 1 << 20 });
  });
});

describe('options', () => {
  const bad: [string, unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ['options not an object', 'combined', TypeError, /options/],
    ['options an array', [], TypeError, /options/],
    ['an unknown option', { formt: 'common' }, RangeError, /options\.formt is not an option of ingest \(did you mean format\?\)/],
    ['format of the wrong type', { format: 1 }, TypeError, /options\.format/],
    ['an unknown format', { format: 'xml' }, RangeError, /options\.format/],
    ['an unknown user', { user: 'ident' }, RangeError, /options\.user/],
    ['user of the wrong type', { user: true }, TypeError, /options\.user/],
    ['keepQuery not a boolean', { keepQuery: 'yes' }, TypeError, /options\.keepQuery/],
    ['statuses of the wrong type', { statuses: '200-399' }, TypeError, /options\.statuses/],
    ['an empty statuses array', { statuses: [] }, RangeError, /options\.statuses/],
    ['a status below 100', { statuses: [200, 99] }, RangeError, /options\.statuses\[1\]/],
    ['a status above 599', { statuses: [600] }, RangeError, /options\.statuses\[0\]/],
    ['a status that is not an integer', { statuses: [200.5] }, RangeError, /options\.statuses\[0\]/],
    ['a status that is a string', { statuses: ['200'] }, TypeError, /options\.statuses\[0\]/],
    ['a range without min', { statuses: { max: 399 } }, TypeError, /options\.statuses\.min/],
    ['a range with max < min', { statuses: { min: 300, max: 200 } }, RangeError, /options\.statuses\.max/],
    ['a range beyond 599', { statuses: { min: 200, max: 999 } }, RangeError, /options\.statuses\.max/],
    ['fields not an object', { format: 'ndjson', fields: 'user' }, TypeError, /options\.fields/],
    ['an unknown field', { format: 'ndjson', fields: { referer: 'ref' } }, RangeError, /options\.fields\.referer/],
    ['an empty field name', { format: 'ndjson', fields: { user: '' } }, RangeError, /options\.fields\.user/],
    ['a field name of the wrong type', { format: 'ndjson', fields: { ts: 5 } }, TypeError, /options\.fields\.ts/],
    ['fields with combined', { fields: { user: 'u' } }, RangeError, /options\.fields does not apply to format 'combined'/],
    ['statuses with ndjson', { format: 'ndjson', statuses: [200] }, RangeError, /options\.statuses does not apply to format 'ndjson'/],
    ['keepQuery with ndjson', { format: 'ndjson', keepQuery: false }, RangeError, /options\.keepQuery does not apply to format 'ndjson'/],
    ['user with ndjson', { format: 'ndjson', user: 'host' }, RangeError, /options\.user does not apply to format 'ndjson'/],
    ['maxKeyBytes above the index\'s', { maxKeyBytes: 1025 }, RangeError, /options\.maxKeyBytes/],
    ['maxKeyBytes 0', { maxKeyBytes: 0 }, RangeError, /options\.maxKeyBytes/],
    ['maxKeyBytes not an integer', { maxKeyBytes: 1.5 }, RangeError, /options\.maxKeyBytes/],
    ['maxKeyBytes a string', { maxKeyBytes: '10' }, TypeError, /options\.maxKeyBytes/],
    ['maxLineBytes 0', { maxLineBytes: 0 }, RangeError, /options\.maxLineBytes/],
    ['maxLineBytes Infinity', { maxLineBytes: Infinity }, RangeError, /options\.maxLineBytes/],
    ['maxLineBytes NaN', { maxLineBytes: NaN }, RangeError, /options\.maxLineBytes/],
  ];

  it.each(bad)('%s: ingest() and createIngestStream() throw, naming the option, and index nothing', (_name, options, error, message) => {
    const index = new ActivityIndex();
    try {
      expect(() => index.ingest(line(), options as IngestOptions)).toThrow(error);
      expect(() => index.ingest(line(), options as IngestOptions)).toThrow(message);
      expect(() => index.createIngestStream(options as IngestOptions)).toThrow(error);
      expect(() => index.createIngestStream(options as IngestOptions)).toThrow(message);
      expect(index.stats().events).toBe(0);
    } finally {
      index.close();
    }
  });

  it('rejects data that is not a Buffer, Uint8Array or string with a TypeError naming data', () => {
    const index = new ActivityIndex();
    try {
      for (const data of [5, null, undefined, {}, [1, 2], new Uint16Array(4), new ArrayBuffer(4), new DataView(new ArrayBuffer(4))]) {
        expect(() => index.ingest(data as never)).toThrow(TypeError);
        expect(() => index.ingest(data as never)).toThrow(/data/);
      }
    } finally {
      index.close();
    }
  });

  it('accepts maxKeyBytes up to the index\'s own', () => {
    const index = new ActivityIndex({ maxKeyBytes: 4000 });
    try {
      expect(index.ingest(line({ request: `GET /${'p'.repeat(2999)} HTTP/1.1` }), { maxKeyBytes: 4000 })).toMatchObject({ accepted: 1 });
      expect(index.ingest(line({ request: `GET /${'p'.repeat(2999)} HTTP/1.1` }))).toMatchObject({ accepted: 1 });
      expect(() => index.ingest(line(), { maxKeyBytes: 4001 })).toThrow(RangeError);
    } finally {
      index.close();
    }
  });
});

describe('a closed index', () => {
  it('makes ingest() and createIngestStream() throw an Error that says closed', () => {
    const index = new ActivityIndex();
    index.ingest(line());
    index.close();
    expect(() => index.ingest(line())).toThrow(/closed/);
    expect(() => index.ingest(line())).toThrow(Error);
    expect(() => index.createIngestStream()).toThrow(/closed/);
  });

  it('makes a stream created before close() emit an error when written', async () => {
    const index = new ActivityIndex();
    const stream = index.createIngestStream();
    stream.write(`${line()}\n${line().slice(0, 20)}`);
    expect(index.stats().events).toBe(1);
    index.close();
    const error = await new Promise<Error>((resolve) => {
      stream.on('error', resolve);
      stream.write(`${line().slice(20)}\n`);
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toMatch(/closed/);
  });

  it('makes a stream created before close() emit an error when ended', async () => {
    const index = new ActivityIndex();
    const stream = index.createIngestStream();
    stream.write(line().slice(0, 30));
    index.close();
    const error = await new Promise<Error>((resolve) => {
      stream.on('error', resolve);
      stream.end();
    });
    expect(error.message).toMatch(/closed/);
  });

  it('is a Writable', () => {
    const index = new ActivityIndex();
    try {
      expect(index.createIngestStream()).toBeInstanceOf(Writable);
    } finally {
      index.close();
    }
  });
});
