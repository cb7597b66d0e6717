// Generators for the ingest property tests: access-log and NDJSON lines that are
// mostly sound, with every part sometimes broken in a way docs/ingest.md names, and
// mixes of such lines with fragments, empty lines and random bytes.
import fc from 'fast-check';
import type { RefOptions } from './ingest-reference.js';

/** 17/May/2015:10:05:03 UTC; generated times fall in the 6 hours after it. */
export const T0 = Date.UTC(2015, 4, 17, 10, 5, 3);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

type Bytes = Buffer;
const b = (text: string): Bytes => Buffer.from(text, 'utf8');
const raw = (...bytes: number[]): Bytes => Buffer.from(bytes);
const cat = (...parts: Bytes[]): Bytes => Buffer.concat(parts);

/** A time in the test range, whole seconds. */
export const tsArb = fc.integer({ min: 0, max: 6 * 3600 }).map((s) => T0 + s * 1000);

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `dd/Mon/yyyy:HH:MM:SS ±hhmm` of `ts` written in the zone `offsetMinutes` east of UTC. */
export function accessTime(ts: number, offsetMinutes: number): string {
  const d = new Date(ts + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${pad(d.getUTCFullYear(), 4)}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

const offsetArb = fc.constantFrom(0, 0, 0, -420, 330, 840, -840, 60, -30);

/** Sound times, and times broken in each documented way. */
const accessTimeArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 40, arbitrary: fc.tuple(tsArb, offsetArb).map(([ts, offset]) => accessTime(ts, offset)) },
  {
    weight: 2,
    arbitrary: fc
      .record({
        day: fc.integer({ min: 0, max: 32 }),
        month: fc.constantFrom(...MONTHS, 'may', 'MAY', 'Foo'),
        year: fc.constantFrom(1969, 1970, 1900, 2000, 2015, 2016, 70, 9999),
        h: fc.integer({ min: 0, max: 24 }),
        m: fc.integer({ min: 0, max: 60 }),
        s: fc.integer({ min: 0, max: 60 }),
        sign: fc.constantFrom('+', '-', '+', '-', ' ', 'Z'),
        oh: fc.integer({ min: 0, max: 15 }),
        om: fc.constantFrom(0, 30, 59, 60, 99),
      })
      .map(({ day, month, year, h, m, s, sign, oh, om }) => `${pad(day)}/${month}/${pad(year, 4)}:${pad(h)}:${pad(m)}:${pad(s)} ${sign}${pad(oh)}${pad(om)}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('', '-', '10/Oct/2000:13:55:36', '2015-05-17T10:05:03Z', '7/May/2015:10:00:00 +0000', '10/May/2015:10:00:00 +00:00') },
);

const hostArb: fc.Arbitrary<Bytes> = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom('10.0.0.1', '10.0.0.2', '10.0.0.3', 'h', 'ünï', '😀', 'a"b', '[x]').map(b) },
  { weight: 1, arbitrary: fc.constantFrom(raw(0xe9), b('a\tb'), b('a\x7f'), b('x'.repeat(40)), raw(0xc0, 0xaf), raw(0xed, 0xa0, 0x80), b('')) },
);

const authuserArb: fc.Arbitrary<Bytes> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('-', '-', '""', 'ann', 'bob', 'é', 'John Smith', 'a b  c').map(b) },
  { weight: 1, arbitrary: fc.constantFrom(raw(0xff), b('x\x01'), b('y'.repeat(40)), b(''), b('x [y'), b(' '), b('z ')) },
);

const pathArb: fc.Arbitrary<Bytes> = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom('/', '/a', '/b', '/a/b', '/A', '/é', '/😀', '/a%20b', '/a\\"b', '/a\\\\', '/\\x22').map(b) },
  // Static files and near misses (view rules): extensions in any case, dot files, a dot in a directory.
  { weight: 6, arbitrary: fc.constantFrom('/favicon.ico', '/s/site.CSS', '/a.js', '/i.PnG', '/a.html', '/.css', '/a.css/b', '/a.', '/x.woff2', '/d.pdf').map(b) },
  { weight: 1, arbitrary: fc.constantFrom(cat(b('/caf'), raw(0xe9)), b('/x\x00y'), b('/t\tt'), b(`/${'p'.repeat(40)}`), cat(b('/'), raw(0xf4, 0x90, 0x80, 0x80))) },
);

const targetArb: fc.Arbitrary<Bytes> = fc.oneof(
  {
    weight: 30,
    arbitrary: fc
      .tuple(
        pathArb,
        fc.constantFrom('', '', '?q=1', '?', '?a#b', '?x=\x00', '?é'),
        fc.constantFrom('', '', '#f', '#', '#?z'),
      )
      .map(([path, query, fragment]) => cat(path, b(query), b(fragment))),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('http://h', 'HTTPS://example.com', 'http://', 'hTTp://x:80', 'ftp://h', 'http:/h'), fc.constantFrom('', '/a', '/b?q', '?q', '#f'))
      .map(([prefix, rest]) => b(prefix + rest)),
  },
  { weight: 1, arbitrary: fc.constantFrom('*', 'example.com:443', '-', 'a/b', '?x', '#x', '').map(b) },
);

const requestArb: fc.Arbitrary<Bytes> = fc.oneof(
  {
    weight: 30,
    arbitrary: fc
      .tuple(
        fc.oneof({ weight: 30, arbitrary: fc.constantFrom('GET', 'GET', 'HEAD', 'POST', 'M-SEARCH', 'OPTIONS') }, { weight: 1, arbitrary: fc.constantFrom('G(T', '') }),
        targetArb,
        fc.oneof({ weight: 30, arbitrary: fc.constantFrom(' HTTP/1.1', ' HTTP/1.0', '', ' x', ' HTTP/2', ' HTTP/2.0', ' HTTP/', ' http/1.1', ' HTTP/1.') }, { weight: 1, arbitrary: fc.constantFrom(' HTTP/1.1 extra', ' ') }),
      )
      .map(([method, target, protocol]) => cat(b(method), b(' '), target, b(protocol))),
  },
  { weight: 1, arbitrary: fc.constantFrom('-', '', '\\x16\\x03\\x01', 'GET', 'GET /a\\"').map(b) },
);

const statusArb = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom('200', '200', '200', '304', '206', '301') },
  { weight: 4, arbitrary: fc.constantFrom('404', '500', '100', '599', '408', '400') },
  { weight: 1, arbitrary: fc.constantFrom('999', '099', '600', '20', '2000', 'abc', '-', '') },
);

const tailArb: fc.Arbitrary<Bytes> = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom(' "-" "Mozilla/5.0"', ' "http://r/" "agent \\"quoted\\""', '').map(b) },
  // Crawlers and near misses (view rules): tokens in any case, an empty or '-' agent, a bot inside a quoted escape.
  {
    weight: 6,
    arbitrary: fc
      .constantFrom(' "-" "Googlebot/2.1"', ' "-" "curl/8.4"', ' "-" "-"', ' "-" ""', ' "-" "Mozilla/5.0 (compatible; BINGBOT)"', ' "-" "x \\"bot\\""', ' "-" "Bo"', ' "r" "Safari"')
      .map(b),
  },
  { weight: 1, arbitrary: fc.constantFrom(' "-" "unterminated', ' "', ' x', ' ', ' "a" "b" 1234 vhost').map(b) },
  { weight: 1, arbitrary: fc.constant(cat(b(' "-" "'), raw(0xff, 0x00, 0x01), b('"'))) },
);

export interface AccessLineParts {
  host: Bytes;
  ident: string;
  authuser: Bytes;
  time: string;
  request: Bytes;
  status: string;
  bytes: string;
  tail: Bytes;
  /** A structural break now and then: a field separator or bracket changed. */
  damage: 'none' | 'double-space' | 'no-bracket' | 'no-quote' | 'cut';
  cutAt: number;
}

/** A combined-format line; for 'common', mostly without the referer and agent. */
export const accessLineArb = (common = false): fc.Arbitrary<Bytes> => fc
  .record({
    host: hostArb,
    ident: fc.oneof({ weight: 30, arbitrary: fc.constantFrom('-', '-', 'id') }, { weight: 1, arbitrary: fc.constant('') }),
    authuser: authuserArb,
    time: accessTimeArb,
    request: requestArb,
    status: statusArb,
    bytes: fc.oneof({ weight: 30, arbitrary: fc.constantFrom('512', '-', '0') }, { weight: 1, arbitrary: fc.constantFrom('1x', '') }),
    tail: common ? fc.oneof({ weight: 20, arbitrary: fc.constant(b('')) }, { weight: 1, arbitrary: tailArb }) : tailArb,
    damage: fc.oneof(
      { weight: 40, arbitrary: fc.constant('none' as const) },
      { weight: 1, arbitrary: fc.constantFrom('double-space' as const, 'no-bracket' as const, 'no-quote' as const, 'cut' as const) },
    ),
    cutAt: fc.nat(),
  })
  .map((p: AccessLineParts) => {
    const sp = p.damage === 'double-space' ? '  ' : ' ';
    const open = p.damage === 'no-bracket' ? '' : '[';
    const quote = p.damage === 'no-quote' ? '' : '"';
    const line = cat(p.host, b(` ${p.ident} `), p.authuser, b(` ${open}${p.time}]${sp}"`), p.request, b(`${quote} ${p.status} ${p.bytes}`), p.tail);
    return p.damage === 'cut' ? line.subarray(0, p.cutAt % (line.length + 1)) : line;
  });

// ---------------------------------------------------------------------------------
// NDJSON

const jsonStr = (s: string) => JSON.stringify(s);

/** JSON text of a user or page value, sometimes not a string or not a usable key. */
const keyValueArb = (keys: readonly string[]) =>
  fc.oneof(
    { weight: 30, arbitrary: fc.constantFrom(...keys).map(jsonStr) },
    {
      weight: 2,
      arbitrary: fc.constantFrom('"\\ud83d\\ude00"', '"\\u00e9"', '"\\/x"', '"a\\\\b"', '"\\ud800"', '"\\udc00x"', '"\\u0000"', '"a\\tb"', '""', `"${'k'.repeat(40)}"`),
    },
    { weight: 1, arbitrary: fc.constantFrom('42', 'null', 'true', '{"a":1}', '["x"]') },
  );

/** JSON text of a ts value: ms in many spellings, ISO strings, and bad ones. */
const tsValueArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: tsArb.map(String) },
  { weight: 1, arbitrary: tsArb.map((ts) => String(ts / 1000)) },
  { weight: 1, arbitrary: fc.tuple(tsArb, fc.integer({ min: 0, max: 999_999 })).map(([ts, sub]) => `${ts / 1000}${String(sub).padStart(6, '0')}`) },
  { weight: 1, arbitrary: tsArb.map((ts) => `${ts}000123`) },
  { weight: 1, arbitrary: tsArb.map((ts) => `${ts}.0`) },
  { weight: 1, arbitrary: tsArb.map((ts) => `${ts / 1000}e3`) },
  { weight: 1, arbitrary: tsArb.map((ts) => `${ts * 10}E-1`) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(tsArb, fc.integer({ min: 0, max: 999 }), fc.constantFrom('Z', 'z', '+00:00', '+0530', '-07:00', '+14:00'), fc.constantFrom('T', 't', ' '), fc.constantFrom(0, 1, 3, 6))
      .map(([ts, ms, zone, sep, digits]) => {
        const offset = zone === 'Z' || zone === 'z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
        const local = new Date(ts + ms + offset * 60_000).toISOString().slice(0, 19).replace('T', sep);
        const fraction = digits === 0 ? '' : `.${String(ms).padStart(3, '0')}${'7'.repeat(Math.max(0, digits - 3))}`.slice(0, digits + 1);
        return jsonStr(`${local}${fraction}${zone}`);
      }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '1.5',
      '-1',
      '-0',
      '0',
      '9007199254740992',
      '8640000000000000',
      '8640000000000001',
      '8640000000000.5',
      '1e400',
      'null',
      'true',
      '{}',
      '"2015-05-17"',
      '"2015-05-17T10:05:03"',
      '"2015-05-17T24:00:00Z"',
      '"2015-02-29T10:00:00Z"',
      '"2015-05-17T10:05:03+14:01"',
      '"1969-12-31T23:59:59Z"',
      '"\\u0032015-05-17T10:05:03Z"',
    ),
  },
);

const otherValueArb: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('null', 'true', 'false', '0', '-1.5e3', '"x"', '"\\"}"', '"\\u00e9"', '[]', '{}'),
    fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
    fc.array(fc.tuple(fc.constantFrom('a', 'b', 'user', 'ts'), tie('value')), { maxLength: 3 }).map((members) => `{${members.map(([k, v]) => `${jsonStr(k)}:${v}`).join(',')}}`),
  ),
})).value;

export interface NdjsonShape {
  fields: { user: string; page: string; ts: string };
}

/** One NDJSON line, given the field names in force. */
export const ndjsonLineArb = (names: { user: string; page: string; ts: string }): fc.Arbitrary<Bytes> =>
  fc
    .record({
      user: fc.option(keyValueArb(['alice', 'bob', 'é', '😀', 'u1', 'u2']), { freq: 12, nil: undefined }),
      page: fc.option(keyValueArb(['/a', '/b', '/é', '/p/q', '/s.css', '/i.PNG?x=a.html', '/a#b.js']), { freq: 12, nil: undefined }),
      ts: fc.option(tsValueArb, { freq: 12, nil: undefined }),
      extras: fc.array(fc.tuple(fc.constantFrom('x', 'referrer', 'user', 'page', 'ts', 'u\\u0073er', 'other'), otherValueArb), { maxLength: 2 }),
      order: fc.array(fc.nat(), { minLength: 5, maxLength: 5 }),
      ws: fc.constantFrom('', '', ' ', '\t', ' \r '),
      damage: fc.oneof(
        { weight: 30, arbitrary: fc.constant('none') },
        { weight: 1, arbitrary: fc.constantFrom('trailing', 'unclosed', 'comma', 'cut', 'bad-byte') },
      ),
      cutAt: fc.nat(),
    })
    .map(({ user, page, ts, extras, order, ws, damage, cutAt }) => {
      const members: string[] = [];
      if (user !== undefined) members.push(`${jsonStr(names.user)}:${user}`);
      if (page !== undefined) members.push(`${jsonStr(names.page)}:${page}`);
      if (ts !== undefined) members.push(`${jsonStr(names.ts)}:${ts}`);
      // extras may duplicate a field name (the last one wins) or not
      for (const [name, value] of extras) members.push(`"${name}":${value}`);
      const shuffled = members.map((m, i) => ({ m, k: order[i % order.length]! + i })).sort((a, c) => a.k - c.k).map((x) => x.m);
      let text = `${ws}{${ws}${shuffled.join(`${ws},${ws}`)}${ws}}${ws}`;
      if (damage === 'trailing') text += ' x';
      if (damage === 'unclosed') text = text.replace(/}\s*$/, '');
      if (damage === 'comma') text = text.replace(/}\s*$/, ',}');
      let line = b(text);
      if (damage === 'cut') line = line.subarray(0, cutAt % (line.length + 1));
      if (damage === 'bad-byte') {
        const at = cutAt % (line.length + 1);
        line = cat(line.subarray(0, at), raw(cutAt % 2 === 0 ? 0xe9 : 0x01), line.subarray(at));
      }
      return line;
    });

// ---------------------------------------------------------------------------------
// Options and whole inputs

export const ingestOptionsArb: fc.Arbitrary<RefOptions> = fc
  .record({
    format: fc.constantFrom('combined', 'combined', 'combined', 'common', 'ndjson', 'ndjson'),
    user: fc.option(fc.constantFrom('host', 'authuser', 'authuser|host'), { nil: undefined }),
    keepQuery: fc.option(fc.boolean(), { nil: undefined }),
    statuses: fc.option(
      fc.oneof(
        fc.constantFrom<RefOptions['statuses']>([200], [200, 304], [404, 200], { min: 100, max: 599 }, { min: 200, max: 299 }, { min: 404, max: 404 }),
      ),
      { nil: undefined, freq: 3 },
    ),
    fields: fc.option(fc.constantFrom({ user: 'u' }, { page: 'url', ts: '@t' }, { user: 'who', page: 'what', ts: 'when' }, { user: 'ts', ts: 'user' }), { nil: undefined, freq: 4 }),
    tsUnit: fc.option(fc.constantFrom('ms', 's', 'us', 'ns'), { nil: undefined, freq: 3 }),
    syslog: fc.option(fc.boolean(), { nil: undefined, freq: 4 }),
    maxKeyBytes: fc.option(fc.constantFrom(1, 8, 32, 1024), { nil: undefined, freq: 3 }),
    maxLineBytes: fc.option(fc.constantFrom(1, 40, 90, 200, 65536), { nil: undefined, freq: 3 }),
    methods: fc.option(fc.constantFrom<RefOptions['methods']>(['GET'], ['GET', 'HEAD'], 'any', ['POST', 'M-SEARCH']), { nil: undefined, freq: 3 }),
    ignoreStatic: fc.option(fc.boolean(), { nil: undefined, freq: 3 }),
    staticExtensions: fc.option(fc.constantFrom(['css'], ['.PNG', 'html', 'Js']), { nil: undefined, freq: 3 }),
    ignoreCrawlers: fc.option(fc.boolean(), { nil: undefined, freq: 3 }),
    crawlers: fc.option(fc.constantFrom(['Googlebot'], ['bot', 'CURL/', 'x']), { nil: undefined, freq: 3 }),
  })
  .map((options) => {
    const out: RefOptions = { ...options } as RefOptions;
    for (const key of Object.keys(out) as (keyof RefOptions)[]) if (out[key] === undefined) delete out[key];
    // An option of another format is an error (docs/ingest.md), so only the format's own are drawn.
    if (out.format !== 'ndjson') {
      delete out.fields;
      delete out.tsUnit;
    } else {
      delete out.user;
      delete out.keepQuery;
      delete out.statuses;
      delete out.methods;
    }
    if (out.format !== 'combined') {
      delete out.ignoreCrawlers;
      delete out.crawlers;
    }
    if (out.ignoreStatic === false) delete out.staticExtensions;
    if (out.ignoreCrawlers === false) delete out.crawlers;
    return out;
  });

export const fieldNames = (options: RefOptions) => ({ user: 'user', page: 'page', ts: 'ts', ...options.fields });

const BOM = raw(0xef, 0xbb, 0xbf);

/** Syslog frames, sound (RFC 3164 and 5424) and broken. */
const syslogFrameArb: fc.Arbitrary<Bytes> = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.constantFrom(
      '<190>May 17 10:05:03 web1 nginx: ',
      '<13>May  7 10:05:03 h app[42]: ',
      '<165>1 2015-05-17T10:05:03Z web1 nginx 42 - - ',
      '<165>1 - - - - - [a b="\\]"][c] ',
    ).map(b),
  },
  { weight: 1, arbitrary: fc.constantFrom('', '<190>', '<190>May 17 10:05:03 web1 ', '<1>1 a b c d e  ', '<1>1 a b c d e [x', '<190>May 17 10:05:03 web1 nginx:x').map(b) },
);

/** A sound-ish line in the options' format, sometimes after a BOM, in a syslog frame if options.syslog. */
export const lineFor = (options: RefOptions): fc.Arbitrary<Bytes> => {
  const line = options.format === 'ndjson' ? ndjsonLineArb(fieldNames(options)) : accessLineArb(options.format === 'common');
  const withBom = fc.tuple(fc.integer({ min: 0, max: 15 }), line).map(([n, text]) => (n === 0 ? cat(BOM, text) : text));
  if (!options.syslog) return withBom;
  return fc.tuple(syslogFrameArb, withBom).map(([frame, text]) => cat(frame, text));
};

/**
 * Whole inputs: lines in the format, empty lines, and (`noise` > 0) fragments of lines and random bytes,
 * each ended by "\n" or "\r\n"; the last sometimes without an ending. A piece's own
 * trailing "\r" is dropped first, so no line ends "\r\r\n" (that case, where ingest
 * drops both "\r", is tested on its own in ingest-bad-input.test.ts).
 */
export const inputFor = (options: RefOptions, maxLines = 25, noise = 1): fc.Arbitrary<Bytes> =>
  fc
    .tuple(
      fc.array(
        fc.tuple(
          fc.oneof(
            { weight: 12, arbitrary: lineFor(options) },
            { weight: 1, arbitrary: fc.constant(b('')) },
            { weight: noise, arbitrary: fc.tuple(lineFor(options), fc.nat()).map(([line, n]) => line.subarray(0, n % (line.length + 1))) },
            { weight: noise, arbitrary: fc.uint8Array({ maxLength: 60 }).map((bytes) => Buffer.from(bytes)) },
          ),
          fc.constantFrom('\n', '\n', '\r\n'),
        ),
        { maxLength: maxLines },
      ),
      fc.boolean(),
    )
    .map(([pieces, endLast]) => {
      const parts: Bytes[] = [];
      pieces.forEach(([piece, ending], i) => {
        let p = piece;
        while (p.length > 0 && p[p.length - 1] === 0x0d) p = p.subarray(0, p.length - 1);
        parts.push(p);
        if (i < pieces.length - 1 || endLast) parts.push(b(ending));
      });
      return cat(...parts);
    });

/** Index options: small caps so that top-k dropping and expiry happen. */
export const indexConfigArb = fc.record({
  usersPerPage: fc.integer({ min: 1, max: 30 }),
  pagesPerUser: fc.integer({ min: 1, max: 10 }),
  userWindow: fc.constantFrom(600_000, 3_600_000, 86_400_000),
});
