// The JSON line formats with member paths: ndjson's `fields` as dotted paths, and the
// caddy and traefik presets (docs/ingest.md, "JSON lines"). Each fixture line has its
// right value written out here, and the whole file is compared with the plain
// TypeScript reference (test/ingest-reference.ts), which builds the JSON tree and
// follows the paths the slow, obvious way.
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActivityIndex, type IngestOptions } from '../src/index.js';
import { frozenClock, FROZEN_WALL } from './helpers.js';
import { keysOf, referenceIngest, snapshot, type RefEvent, type RefOptions } from './ingest-reference.js';
import { runCli, tempDir } from './live-helpers.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const CADDY = fs.readFileSync(path.join(FIXTURES, 'caddy.log'));
const TRAEFIK = fs.readFileSync(path.join(FIXTURES, 'traefik.log'));
const WINDOW = 365 * 86_400_000;

type Outcome = RefEvent | string;

/** Each line's right value: the view it gives, or its reason. */
const CADDY_LINES: Outcome[] = [
  { user: '203.0.113.9', page: '/posts/skiplists', ts: 1700000000123 }, // client_ip, query dropped, float s
  'crawler', // Caddy < 2.7 (remote_ip only), but curl/8.4.0
  'filtered', // 404
  { user: '2001:db8::7', page: '/café/日本語', ts: 1700000003000 }, // escapes decoded before the query is cut
  { user: '192.0.2.44', page: '/posts/zset', ts: 1700000004999 }, // client_ip "" falls back; decoys in arrays
  'bad-time', // ts 1e300
  'crawler', // absolute-form uri, but "headers":{} holds no User-Agent: the client sent none
  'filtered', // OPTIONS *
  'malformed', // no uri
  { user: '192.0.2.49', page: '/posts/iso-time', ts: Date.parse('2023-11-14T22:13:28.123Z') }, // time_format iso8601
  { user: '192.0.2.50', page: '/after-bom', ts: 1700000009000 }, // a BOM is not data
  'malformed', // cut mid-write
  'filtered', // 101
  'filtered', // 502
  { user: '192.0.2.55', page: '/second', ts: 1700000013000 }, // a duplicated request: the last one, whole
  'malformed', // another logger's line
  'bad-encoding', // "\ud800"
  'malformed', // "\u0001"
  'method', // POST (client_ip null, status "201")
  'method', // HEAD
  'static', // /assets/site.css?v=3
  'crawler', // Googlebot
  'crawler', // "User-Agent":[]
  { user: '192.0.2.63', page: '/posts/zset', ts: 1700000022000 }, // [42, "Googlebot"]: the first element is no agent
  'crawler', // an escaped agent: "\u0042ingbot"
  'crawler', // /robots.txt with a browser's agent
  { user: '192.0.2.66', page: '/posts/no-headers', ts: 1700000025000 }, // no request.headers: agent unknown
  'crawler', // request.headers without User-Agent
  { user: '192.0.2.68', page: '/posts/ua-string', ts: 1700000027000 }, // a string, not an array
  'method', // PUT
  'method', // "get": methods are case-sensitive
  'crawler', // "-"
  { user: '192.0.2.72', page: '/posts/zset', ts: 1700000031000 }, // two values: the first is read
  { user: '192.0.2.73', page: '/posts/zset', ts: 1700000032000 }, // "headers":null: agent unknown
];

const TRAEFIK_LINES: Outcome[] = [
  { user: '203.0.113.9', page: '/guide/intro', ts: Date.parse('2024-03-09T21:10:01.524Z') },
  { user: '198.51.100.20', page: '/guide/install', ts: Date.parse('2024-03-09T21:10:02.000Z') },
  'filtered', // 404
  { user: '2001:db8::1', page: '/guide/über-uns', ts: Date.parse('2024-03-09T21:10:04.999Z') },
  'bad-status', // 0
  { user: '192.0.2.12', page: '/guide/no-start-utc', ts: Date.parse('2024-03-09T21:10:06.500Z') }, // StartLocal
  'malformed', // no ClientHost
  'bad-time', // 30 February
  'malformed', // CONNECT host:443
  { user: '192.0.2.16', page: '/', ts: Date.parse('2024-03-09T21:10:10Z') },
  'filtered', // 499
  { user: '192.0.2.19', page: '/guide/intro', ts: Date.parse('2024-03-09T21:10:12Z') }, // the last ClientHost
  'malformed', // text after the object
  { user: '192.0.2.21', page: '/guide/😀', ts: Date.parse('2024-03-09T21:10:14Z') },
  'method', // POST
  'crawler', // bingbot
  'static', // /static/app.js
  'crawler', // "request_User-Agent":""
  'crawler', // /robots.txt (headers dropped)
  'method', // HEAD (headers dropped)
  { user: '192.0.2.36', page: '/guide/dropped-headers', ts: Date.parse('2024-03-09T21:10:21Z') }, // headers dropped: agent unknown
  'crawler', // python-requests
];

function openIndex(): ActivityIndex {
  return new ActivityIndex({ userWindow: WINDOW, now: frozenClock, maxFutureSkew: Infinity });
}

/** Ingests `data` and checks the report, the events and the index against the reference and `lines`. */
function checkFixture(data: Buffer, options: RefOptions, lines: readonly Outcome[]): void {
  const expected = referenceIngest(data, options, { userWindow: WINDOW });
  const views = lines.filter((line): line is RefEvent => typeof line !== 'string');
  expect(expected.events).toEqual(views);
  const reasons: Record<string, number> = {};
  for (const line of lines) if (typeof line === 'string') reasons[line] = (reasons[line] ?? 0) + 1;
  expect(expected.report.reasons).toEqual(reasons);
  const index = openIndex();
  const recorded = openIndex();
  try {
    const report = index.ingest(data, options as IngestOptions);
    expect(report).toEqual(expected.report);
    expect(report.lines).toBe(lines.length);
    for (const { user, page, ts } of views) recorded.record(user, page, ts);
    const { pages, users } = keysOf(views);
    expect(snapshot(index, pages, users)).toEqual(snapshot(recorded, pages, users));
  } finally {
    index.close();
    recorded.close();
  }
}

describe("ingest() format 'caddy'", () => {
  it('reads Caddy v2 access-log lines, awkward ones included, as written out and as the reference', () => {
    checkFixture(CADDY, { format: 'caddy' }, CADDY_LINES);
  });

  it('keeps the query with keepQuery, counts other statuses with statuses, and reads ts in another unit', () => {
    const index = openIndex();
    try {
      // ignoreStatic: false: the 404 looked for is the favicon's, a static file by default.
      index.ingest(CADDY, { format: 'caddy', keepQuery: true, statuses: [404], ignoreStatic: false });
      expect(index.lastUsers('/favicon.ico')).toEqual([{ user: '203.0.113.9', ts: 1700000002250 }]);
      expect(index.lastUsers('/posts/skiplists')).toEqual([]);
      const line = '{"ts":1700000000123,"request":{"remote_ip":"10.0.0.1","uri":"/a?b=1"},"status":200}\n';
      expect(index.ingest(line, { format: 'caddy', tsUnit: 'ms', keepQuery: true }).accepted).toBe(1);
      expect(index.lastUsers('/a?b=1')).toEqual([{ user: '10.0.0.1', ts: 1700000000123 }]);
    } finally {
      index.close();
    }
    checkFixture(CADDY, { format: 'caddy', keepQuery: true, statuses: { min: 100, max: 599 } }, referenceOutcomes(CADDY, { format: 'caddy', keepQuery: true, statuses: { min: 100, max: 599 } }));
  });

  it('takes a replaced path; a header array of numbers is not a string', () => {
    const index = openIndex();
    try {
      // Every method and agent counts here, so the HEAD and the agent-less request of /posts/skiplists are views.
      const options = { format: 'caddy', fields: { user: 'request.host|request.remote_ip' }, methods: 'any', ignoreCrawlers: false } as const;
      const report = index.ingest(CADDY, options);
      expect(report).toEqual(referenceIngest(CADDY, options, { userWindow: WINDOW }).report);
      expect(report.accepted).toBe(CADDY_LINES.filter((line) => typeof line !== 'string').length + 12); // 4 method, 8 crawler
      expect(index.lastUsers('/posts/skiplists')).toEqual([
        { user: '203.0.113.9', ts: 1700000018000 }, // no host: the fallback
        { user: 'proxy.example.com', ts: 1700000005100 },
        { user: 'blog.example.com', ts: 1700000000123 },
      ]);
      // A header array of non-strings is not a string.
      expect(index.ingest('{"ts":1,"request":{"uri":"/h","headers":{"X":[1]}},"status":200}\n', {
        format: 'caddy',
        fields: { user: 'request.headers.X' },
      }).reasons).toEqual({ malformed: 1 });
    } finally {
      index.close();
    }
  });

  it('refuses a line later than the wall clock plus maxFutureSkew, as future', () => {
    const index = new ActivityIndex({ now: () => 1700000000000, maxFutureSkew: 60_000 });
    try {
      const line = (ts: number) => `{"ts":${ts},"request":{"remote_ip":"10.0.0.1","uri":"/a"},"status":200}\n`;
      const report = index.ingest(line(1700000030) + line(1700003600), { format: 'caddy' });
      expect(report.accepted).toBe(1);
      expect(report.reasons).toEqual({ future: 1 });
    } finally {
      index.close();
    }
  });
});

describe('every ingest rule applies to the presets', () => {
  it('partition, maxLineBytes, maxKeyBytes and syslog work on caddy and traefik lines as on any format', () => {
    for (const [format, data, lines] of [['caddy', CADDY, CADDY_LINES], ['traefik', TRAEFIK, TRAEFIK_LINES]] as const) {
      const views = lines.filter((line): line is RefEvent => typeof line !== 'string').length;
      const index = openIndex();
      try {
        const halves = [0, 1].map((i) => index.ingest(data, { format, partition: { index: i, count: 2 } }));
        expect(halves[0]!.accepted + halves[1]!.accepted).toBe(views);
        expect(halves[0]!.reasons['other-partition']).toBe(halves[1]!.accepted);
        const short = index.ingest(data, { format, maxLineBytes: 300 });
        expect(short.reasons['line-too-long']).toBe(data.toString('utf8').split('\n').filter((l) => Buffer.byteLength(l) > 300).length);
        expect(index.ingest(data, { format, maxKeyBytes: 8 }).accepted).toBe(0);
        const framed = data
          .toString('utf8')
          .split('\n')
          .slice(0, -1)
          .map((line) => `<134>Mar  9 21:30:01 web proxy: ${line}\n`)
          .join('');
        expect(index.ingest(framed, { format, syslog: true }).accepted).toBe(views); // a BOM after the frame is skipped too
      } finally {
        index.close();
      }
    }
  });
});

describe('JSON users from forwarded headers and header arrays', () => {
  const traefik = (path: string, forwarded: string, host = '10.0.0.1') =>
    JSON.stringify({ ClientHost: host, DownstreamStatus: 200, RequestMethod: 'GET', RequestPath: path, StartUTC: '2024-03-09T21:10:01Z', 'request_User-Agent': 'Mozilla/5.0', 'request_X-Forwarded-For': forwarded });
  const caddy = (uri: string, headers: Record<string, unknown>) =>
    JSON.stringify({ ts: 1700000000.5, request: { client_ip: '10.0.0.2', remote_ip: '10.0.0.2', method: 'GET', uri, headers: { 'User-Agent': ['Mozilla/5.0'], ...headers } }, status: 200 });
  const usersOf = (index: ActivityIndex, pages: string[]) => pages.map((page) => index.lastUsers(page).map((v) => v.user));

  it("takes the first address of a Traefik X-Forwarded-For list, and the next path when it names no client", () => {
    const lines = [
      traefik('/f1', '198.51.100.1, 10.0.0.1'),
      traefik('/f2', ' 198.51.100.2 ,10.0.0.9'),
      traefik('/f3', 'unknown, 10.0.0.9', '10.0.0.3'), // Squid hides the client: ClientHost
      traefik('/f4', '', '10.0.0.4'),
      traefik('/f5', 'UNKNOWN', '10.0.0.5'),
      traefik('/f6', '198.51.100.6'),
    ];
    // An escaped comma is a comma.
    lines.push(traefik('/f7', 'x').replace('"x"', '"198.51.100.7\\u002c 10.0.0.1"'));
    const data = `${lines.join('\n')}\n`;
    const options = { format: 'traefik', fields: { user: 'request_X-Forwarded-For|ClientHost' } } as const;
    const index = openIndex();
    try {
      const report = index.ingest(data, options);
      expect(report).toEqual(referenceIngest(Buffer.from(data), options, { userWindow: WINDOW }).report);
      expect(report.accepted).toBe(7);
      expect(usersOf(index, ['/f1', '/f2', '/f3', '/f4', '/f5', '/f6', '/f7'])).toEqual([
        ['198.51.100.1'], ['198.51.100.2'], ['10.0.0.3'], ['10.0.0.4'], ['10.0.0.5'], ['198.51.100.6'], ['198.51.100.7'],
      ]);
      // No next path: a "" user, malformed as in every JSON line.
      expect(index.ingest(`${traefik('/f0', 'unknown, 10.0.0.9')}\n`, { format: 'traefik', fields: { user: 'request_X-Forwarded-For' } }).reasons).toEqual({ malformed: 1 });
      // ndjson from an nginx JSON log_format: the name ends in x_forwarded_for, any case.
      index.ingest('{"http_x_forwarded_for":"203.0.113.8, 10.0.0.1","page":"/f8","ts":1700000000000}\n', { format: 'ndjson', fields: { user: 'http_x_forwarded_for' } });
      expect(usersOf(index, ['/f8'])).toEqual([['203.0.113.8']]);
      // Another member keeps its commas.
      index.ingest('{"user":"Smith, John","page":"/f9","ts":1700000000000}\n', { format: 'ndjson' });
      expect(usersOf(index, ['/f9'])).toEqual([['Smith, John']]);
    } finally {
      index.close();
    }
  });

  it("reads a Caddy header array's first element, and the next path when the header is absent or empty", () => {
    const lines = [
      caddy('/c1', { 'Cf-Connecting-Ip': ['198.51.100.11'] }),
      caddy('/c2', {}), // absent: client_ip
      caddy('/c3', { 'Cf-Connecting-Ip': [] }), // empty: client_ip
      caddy('/c4', { 'Cf-Connecting-Ip': [''] }),
      caddy('/c5', { 'Cf-Connecting-Ip': ['198.51.100.15', '198.51.100.99'] }),
    ];
    const data = `${lines.join('\n')}\n`;
    const options = { format: 'caddy', fields: { user: 'request.headers.Cf-Connecting-Ip|request.client_ip' } } as const;
    const index = openIndex();
    try {
      const report = index.ingest(data, options);
      expect(report).toEqual(referenceIngest(Buffer.from(data), options, { userWindow: WINDOW }).report);
      expect(report.accepted).toBe(5);
      expect(usersOf(index, ['/c1', '/c2', '/c3', '/c4', '/c5'])).toEqual([['198.51.100.11'], ['10.0.0.2'], ['10.0.0.2'], ['10.0.0.2'], ['198.51.100.15']]);
      // A forwarded list in an array: its first element, then its first address.
      const xff = `${caddy('/c6', { 'X-Forwarded-For': ['198.51.100.16, 172.16.0.1'] })}\n${caddy('/c7', { 'X-Forwarded-For': ['unknown, 172.16.0.1'] })}\n`;
      const xffOptions = { format: 'caddy', fields: { user: 'request.headers.X-Forwarded-For|request.client_ip' } } as const;
      expect(index.ingest(xff, xffOptions)).toEqual(referenceIngest(Buffer.from(xff), xffOptions, { userWindow: WINDOW }).report);
      expect(usersOf(index, ['/c6', '/c7'])).toEqual([['198.51.100.16'], ['10.0.0.2']]);
      // A page path may end at an array too.
      index.ingest('{"user":"u","page":["/c8","/other"],"ts":1700000000000}\n', { format: 'ndjson' });
      expect(usersOf(index, ['/c8'])).toEqual([['u']]);
    } finally {
      index.close();
    }
  });
});

describe("ingest() format 'traefik'", () => {
  it('reads Traefik JSON access-log lines as written out and as the reference', () => {
    checkFixture(TRAEFIK, { format: 'traefik' }, TRAEFIK_LINES);
  });

  it('refuses a line later than the wall clock plus maxFutureSkew, as future', () => {
    const index = new ActivityIndex({ now: () => Date.parse('2024-03-09T21:10:00Z'), maxFutureSkew: 60_000 });
    try {
      expect(index.ingest(TRAEFIK, { format: 'traefik' }).reasons.future).toBeUndefined();
      const late = '{"ClientHost":"h","RequestPath":"/a","DownstreamStatus":200,"StartUTC":"2024-03-09T23:00:00Z"}\n';
      expect(index.ingest(late, { format: 'traefik' }).reasons).toEqual({ future: 1 });
    } finally {
      index.close();
    }
  });
});

describe("ingest() format 'ndjson' with member paths", () => {
  it('follows dotted paths, escaped dots and alternatives, and filters on a status path', () => {
    const lines = [
      '{"ctx":{"user.id":"a","ip":"10.0.0.1"},"req":{"path":"/x"},"at":{"ms":5},"http":{"code":200}}',
      '{"ctx":{"ip":"10.0.0.2"},"req":{"path":"/x"},"at":{"ms":6},"http":{"code":"404"}}',
      '{"ctx":{"user.id":null,"ip":"10.0.0.3"},"req":{"path":"/y"},"at":{"ms":7},"http":{"code":304}}',
      '{"ctx":{"ip":"10.0.0.4"},"req":{"path":"/y"},"at":{"ms":8},"http":{"code":200.5}}',
      '{"ctx":"10.0.0.5","req":{"path":"/y"},"at":{"ms":9},"http":{"code":200}}',
    ];
    const options = { format: 'ndjson', fields: { user: 'ctx.user\\.id|ctx.ip', page: 'req.path', ts: 'at.ms', status: 'http.code' } } as const;
    const outcomes: Outcome[] = [
      { user: 'a', page: '/x', ts: 5 },
      'filtered',
      { user: '10.0.0.3', page: '/y', ts: 7 },
      'bad-status',
      'malformed',
    ];
    checkFixture(Buffer.from(lines.join('\n') + '\n'), options, outcomes);
  });

  it('rejects a bad path, and options that do not apply, with a RangeError naming the option', () => {
    const index = openIndex();
    try {
      for (const [fields, message] of [
        [{ user: 'a..b' }, /^options\.fields\.user: 'a\.\.b': an empty member name/],
        [{ page: 'a.' }, /^options\.fields\.page: .*empty member name/],
        [{ ts: 'a\\x' }, /^options\.fields\.ts: .*unknown escape '\\x'/],
        [{ status: 'a|' }, /^options\.fields\.status: .*empty member name/],
        [{ user: Array.from({ length: 17 }, () => 'a').join('.') }, /more than 16 names/],
        [{ user: Array.from({ length: 9 }, () => 'a').join('|') }, /more than 8/],
      ] as const) {
        expect(() => index.ingest('', { format: 'ndjson', fields })).toThrow(RangeError);
        expect(() => index.ingest('', { format: 'caddy', fields })).toThrow(message);
        expect(() => index.createIngestStream({ format: 'traefik', fields })).toThrow(message);
      }
      expect(() => index.ingest('', { format: 'ndjson', fields: { user: '' } })).toThrow(/options\.fields\.user/);
      expect(() => index.ingest('', { format: 'ndjson', fields: { referer: 'a' } } as unknown as IngestOptions)).toThrow(/options\.fields/);
      expect(() => index.ingest('', { format: 'ndjson', fields: { agent: 'a..b' } })).toThrow(/options\.fields\.agent: 'a\.\.b'/);
      expect(() => index.ingest('', { format: 'ndjson', fields: { method: '' } })).toThrow(/options\.fields\.method/);
      expect(() => index.ingest('', { format: 'ndjson', methods: ['GET'] })).toThrow(/without a method path \(options\.fields\.method\)/);
      expect(() => index.ingest('', { format: 'ndjson', ignoreCrawlers: true })).toThrow(/without an agent path \(options\.fields\.agent\)/);
      expect(() => index.ingest('', { format: 'ndjson', fields: { agent: 'ua' }, methods: ['GET'] })).toThrow(/without a method path/);
      expect(() => index.ingest('', { format: 'ndjson', statuses: [200] })).toThrow(/without a status path/);
      expect(() => index.ingest('', { format: 'ndjson', keepQuery: true })).toThrow(/options\.keepQuery does not apply/);
      expect(() => index.ingest('', { format: 'combined', fields: { user: 'u' } })).toThrow(/options\.fields does not apply/);
      expect(() => index.ingest('', { format: 'caddy', user: 'host' })).toThrow(/options\.user does not apply/);
    } finally {
      index.close();
    }
  });
});

/** The reference's outcome of every line, for option sets not written out by hand. */
function referenceOutcomes(data: Buffer, options: RefOptions): Outcome[] {
  const outcomes: Outcome[] = [];
  for (const line of data.toString('latin1').split('\n').slice(0, -1)) {
    const { report, events } = referenceIngest(Buffer.from(line + '\n', 'latin1'), options, { userWindow: WINDOW });
    outcomes.push(events[0] ?? Object.keys(report.reasons)[0]!);
  }
  return outcomes;
}

// ---------------------------------------------------------------------------------
// Properties.

const NAME_CHARS = ['a', 'b', 'request', 'uri', '.', '|', '\\', 'é', '"', ' ', 'ts'];
const memberName = fc.array(fc.constantFrom(...NAME_CHARS), { minLength: 1, maxLength: 3 }).map((parts) => parts.join(''));
/** A path spec naming `path` exactly. */
const specOf = (path: readonly string[]) => path.map((name) => name.replace(/[\\.|]/g, (c) => `\\${c}`)).join('.');
const filler: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 4 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(memberName, tie('value'), { maxKeys: 3 }),
  ),
})).value;
const keyText = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s));

/** Sets `value` at `path` in `doc`, making objects on the way (replacing what is there). */
function setPath(doc: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = doc;
  for (const name of path.slice(0, -1)) {
    const next = node[name];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[name] = {};
    node = node[name] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

/** Four distinct paths, none a prefix of another, so that setting one cannot erase another. */
const fieldPaths = fc
  .array(fc.array(memberName, { minLength: 1, maxLength: 4 }), { minLength: 4, maxLength: 4 })
  .filter((paths) => paths.every((a, i) => paths.every((b, j) => i === j || !b.slice(0, a.length).every((n, k) => n === a[k]))));

describe('JSON member paths (properties)', () => {
  it('a random nested document with the fields at random depths parses back to exactly those values', () => {
    fc.assert(
      fc.property(
        fc.dictionary(memberName, filler, { maxKeys: 4 }),
        fieldPaths,
        keyText,
        keyText,
        fc.integer({ min: 0, max: 8.64e15 }),
        fc.constantFrom(200, 204, 301, 304, 399),
        fc.boolean(),
        (doc, [userPath, pagePath, tsPath, statusPath], user, page, ts, status, quoted) => {
          const line = structuredClone(doc) as Record<string, unknown>;
          setPath(line, userPath!, user);
          setPath(line, pagePath!, page);
          setPath(line, tsPath!, ts);
          setPath(line, statusPath!, quoted ? String(status) : status);
          const fields = { user: specOf(userPath!), page: specOf(pagePath!), ts: specOf(tsPath!), status: specOf(statusPath!) };
          const index = openIndex();
          try {
            const report = index.ingest(JSON.stringify(line) + '\n', { format: 'ndjson', fields });
            expect(report.accepted).toBe(1);
            expect(index.lastUsers(page)).toEqual([{ user, ts }]);
          } finally {
            index.close();
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('mutated caddy, traefik and nested ndjson lines: lines = accepted + rejected, and the reference agrees', () => {
    const sources: [RefOptions, Buffer][] = [
      [{ format: 'caddy' }, CADDY],
      [{ format: 'traefik' }, TRAEFIK],
      [{ format: 'ndjson', fields: { user: 'request.client_ip|request.remote_ip', page: 'request.uri', ts: 'ts', status: 'status' } }, CADDY],
    ];
    const mutation = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('delete', 'insert', 'replace'),
      byte: fc.constantFrom(...Buffer.from('{}[]":,.\\ u0a-eE\n\r\u00c3')),
    });
    fc.assert(
      fc.property(fc.constantFrom(...sources), fc.array(mutation, { minLength: 1, maxLength: 6 }), ([options, source], mutations) => {
        const bytes = [...source];
        for (const { at, kind, byte } of mutations) {
          const i = at % (bytes.length + 1);
          if (kind === 'delete') bytes.splice(i, 1);
          else if (kind === 'insert') bytes.splice(i, 0, byte);
          else bytes[Math.min(i, bytes.length - 1)] = byte;
        }
        const data = Buffer.from(bytes);
        const index = openIndex();
        try {
          const report = index.ingest(data, options as IngestOptions);
          expect(report.lines).toBe(report.accepted + report.rejected);
          expect(Object.values(report.reasons).reduce((a, b) => a + b, 0)).toBe(report.rejected);
          expect(report).toEqual(referenceIngest(data, options, { userWindow: WINDOW }).report);
        } finally {
          index.close();
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('skiptrail replay --format caddy / traefik / --fields paths', () => {
  it('reads each preset and dotted --fields', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'nested.ndjson'), '{"u":{"id":"a"},"r":{"url":"/x","code":200},"t":1}\n{"u":{"id":"b"},"r":{"url":"/x","code":500},"t":2}\n');
    const nested = await runCli(
      ['replay', 'nested.ndjson', '--format', 'ndjson', '--fields', 'user=u.id,page=r.url,ts=t,status=r.code', '--last-users', '/x', '--json'],
      { cwd: dir },
    );
    expect(nested.code).toBe(0);
    expect(JSON.parse(nested.stdout).lastUsers['/x']).toEqual([{ user: 'a', ts: 1 }]);
    const caddy = await runCli(['replay', path.join(FIXTURES, 'caddy.log'), '--format', 'caddy', '--max-future-skew', 'Infinity', '--last-users', '/posts/skiplists', '--json']);
    expect(caddy.code).toBe(0);
    expect(JSON.parse(caddy.stdout).lastUsers['/posts/skiplists']).toEqual([{ user: '203.0.113.9', ts: 1700000000123 }]); // HEAD is not a view
    const withHead = await runCli(
      ['replay', path.join(FIXTURES, 'caddy.log'), '--format', 'caddy', '--methods', 'GET,HEAD', '--max-future-skew', 'Infinity', '--last-users', '/posts/skiplists', '--json'],
    );
    expect(JSON.parse(withHead.stdout).lastUsers['/posts/skiplists'][0]).toEqual({ user: '203.0.113.9', ts: 1700000018000 });
    fs.writeFileSync(
      path.join(dir, 'agents.ndjson'),
      '{"u":"a","p":"/x","t":1,"m":"GET","ua":"Mozilla/5.0"}\n{"u":"b","p":"/x","t":2,"m":"POST","ua":"Mozilla/5.0"}\n{"u":"c","p":"/x","t":3,"m":"GET","ua":"curl/8"}\n',
    );
    const agents = await runCli(
      ['replay', 'agents.ndjson', '--format', 'ndjson', '--fields', 'user=u,page=p,ts=t,method=m,agent=ua', '--last-users', '/x', '--json'],
      { cwd: dir },
    );
    expect(agents.code).toBe(0);
    expect(JSON.parse(agents.stdout).lastUsers['/x']).toEqual([{ user: 'a', ts: 1 }]);
    const traefik = await runCli(['replay', path.join(FIXTURES, 'traefik.log'), '--format', 'traefik', '--max-future-skew', 'Infinity', '--last-users', '/guide/intro', '--json']);
    expect(traefik.code).toBe(0);
    expect(JSON.parse(traefik.stdout).lastUsers['/guide/intro'].map((v: { user: string }) => v.user)).toEqual(['192.0.2.19', '203.0.113.9']);
    const bad = await runCli(['replay', 'nested.ndjson', '--format', 'ndjson', '--fields', 'user=u..id'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--fields: 'u..id': an empty member name");
  });
});
