/**
 * A reference implementation of docs/ingest.md in plain TypeScript, for the ingest tests.
 * It is written from the documentation, not from native/parse/, and aims to be
 * obviously correct rather than fast: regular expressions over a latin1 view of the
 * bytes (one char per byte) for the access-log formats, a small recursive JSON reader
 * that builds the whole tree over the raw bytes for the JSON formats, and a line splitter that works on the whole input.
 *
 * referenceIngest(data, options) gives the report ingest() must return and the events,
 * in input order, that record() would have to be given to build the same index.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_CRAWLERS, DEFAULT_METHODS, DEFAULT_STATIC_EXTENSIONS } from '../src/index.js';
import type { ActivityIndex, IngestReport, RejectReason } from '../src/index.js';

export interface RefOptions {
  format?: 'combined' | 'common' | 'ndjson' | 'caddy' | 'traefik';
  tsUnit?: 'ms' | 's' | 'us' | 'ns';
  syslog?: boolean;
  user?: 'host' | 'authuser' | 'authuser|host';
  keepQuery?: boolean;
  statuses?: { min: number; max: number } | readonly number[];
  fields?: { user?: string; page?: string; ts?: string; status?: string; method?: string; agent?: string };
  methods?: readonly string[] | 'any';
  ignoreStatic?: boolean;
  staticExtensions?: readonly string[];
  ignoreCrawlers?: boolean;
  crawlers?: readonly string[];
  maxKeyBytes?: number;
  maxLineBytes?: number;
}

export interface RefEvent {
  user: string;
  page: string;
  ts: number;
}

export type RefLine = { ok: true; user: Buffer; page: Buffer; ts: number } | { ok: false; reason: RejectReason };

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// host ident authuser [time] "request" status bytes rest. authuser may hold spaces and
// ends at the first " [". The request body ends at the first '"' that a backslash does
// not escape (\" and \\ are escapes).
const ACCESS_LINE = /^([^ ]+) ([^ ]+) ((?:[^ ]| (?!\[))+) \[([^\]]*)\] "((?:[^"\\]|\\[^])*)" ([^ ]+) ([^ ]+)([^]*)$/;
const ACCESS_TIME = /^(\d\d)\/([A-Za-z]{3})\/(\d{4}):(\d\d):(\d\d):(\d\d) ([^])(\d\d)(\d\d)$/;
const REQUEST = /^([^ ]+) ([^ ]+)(?: (HTTP\/[0-9]+(?:\.[0-9]+)?))?$/;
const ISO_TIME = /^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):?(\d\d))$/;
/** The latest accepted time: the end of Date's range. */
export const MAX_TIME = 8.64e15;

const latin1 = (bytes: Buffer): string => bytes.toString('latin1');
const bytesOf = (text: string): Buffer => Buffer.from(text, 'latin1');

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

/** UTC ms of a civil date-time, for any year 0..9999 (Date.UTC maps 0..99 to 19xx). */
function utcMs(year: number, month: number, day: number, h: number, m: number, s: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(h, m, s, 0);
  return date.getTime();
}

/** Offset in ms east of UTC, or undefined when out of range (minutes < 60, at most 14:00). */
function offsetMs(sign: string, hh: number, mm: number): number | undefined {
  if (sign !== '+' && sign !== '-') return undefined;
  if (mm >= 60 || hh * 60 + mm > 14 * 60) return undefined;
  return (sign === '-' ? -1 : 1) * (hh * 60 + mm) * 60_000;
}

/** `dd/Mon/yyyy:HH:MM:SS ±hhmm` → ms, or undefined (bad-time). */
export function accessLogTime(text: string): number | undefined {
  const m = ACCESS_TIME.exec(text);
  if (m === null) return undefined;
  const [, dd, mon, yyyy, hh, mi, ss, sign, oh, om] = m;
  const month = MONTHS.indexOf(mon!) + 1;
  const day = Number(dd), year = Number(yyyy), h = Number(hh), min = Number(mi), s = Number(ss);
  if (month === 0 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (h > 23 || min > 59 || s > 59) return undefined;
  const offset = offsetMs(sign!, Number(oh), Number(om));
  if (offset === undefined) return undefined;
  const ts = utcMs(year, month, day, h, min, s) - offset;
  return ts < 0 ? undefined : ts;
}

/** RFC 3339-ish string → ms, or undefined (bad-time). */
export function isoTime(text: string): number | undefined {
  const m = ISO_TIME.exec(text);
  if (m === null) return undefined;
  const [, yyyy, mo, dd, hh, mi, ss, fraction, zulu, sign, oh, om] = m;
  const year = Number(yyyy), month = Number(mo), day = Number(dd), h = Number(hh), min = Number(mi), s = Number(ss);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (h > 23 || min > 59 || s > 59) return undefined;
  let offset = 0;
  if (zulu === undefined) {
    const o = offsetMs(sign!, Number(oh), Number(om));
    if (o === undefined) return undefined;
    offset = o;
  }
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  const ts = utcMs(year, month, day, h, min, s) + millis - offset;
  return ts < 0 ? undefined : ts;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function hasControlByte(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b < 0x20 || b === 0x7f) return true;
  return false;
}

/** The key rules: empty or control byte → malformed, then bad UTF-8, then length. */
export function checkKeys(
  user: Buffer,
  page: Buffer,
  maxKeyBytes: number,
  loneSurrogate: { user: boolean; page: boolean } = { user: false, page: false },
): RejectReason | undefined {
  if (user.length === 0 || page.length === 0 || hasControlByte(user) || hasControlByte(page)) return 'malformed';
  if (loneSurrogate.user || loneSurrogate.page || !isValidUtf8(user) || !isValidUtf8(page)) return 'bad-encoding';
  if (user.length > maxKeyBytes || page.length > maxKeyBytes) return 'key-too-long';
  return undefined;
}

function statusAccepted(code: number, statuses: RefOptions['statuses']): boolean {
  if (statuses === undefined) return code >= 200 && code <= 399;
  if (Array.isArray(statuses)) return statuses.includes(code);
  const range = statuses as { min: number; max: number };
  return code >= range.min && code <= range.max;
}

/** The page of a request target (latin1 text), or undefined when the target is unusable. */
export function pageOfTarget(target: string, keepQuery: boolean): string | undefined {
  const cut = (text: string): string => {
    let end = text.indexOf('#');
    if (end < 0) end = text.length;
    if (!keepQuery) {
      const q = text.indexOf('?');
      if (q >= 0 && q < end) end = q;
    }
    return text.slice(0, end);
  };
  if (target.startsWith('/')) return cut(target);
  const scheme = /^https?:\/\//i.exec(target);
  if (scheme === null) return undefined;
  const rest = target.slice(scheme[0].length);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  if (authority.length === 0) return undefined;
  const path = cut(authorityEnd < 0 ? '' : rest.slice(authorityEnd));
  return path.startsWith('/') ? path : `/${path}`;
}

/** The reasons of sound lines that are not page views: counted, never sampled. */
export const FILTER_REASONS: ReadonlySet<RejectReason> = new Set(['filtered', 'other-partition', 'method', 'static', 'crawler']);

/** The index of the '"' closing a quoted body that starts at `from`: the first one an even run of backslashes precedes; -1 if none. */
export function closingQuote(line: string, from: number): number {
  for (let i = line.indexOf('"', from); i >= 0; i = line.indexOf('"', i + 1)) {
    let backslashes = 0;
    for (let j = i - 1; j >= from && line[j] === '\\'; j--) backslashes++;
    if (backslashes % 2 === 0) return i;
  }
  return -1;
}

/**
 * What counts as a page view (docs/semantics.md): the method, static and crawler rules
 * applied in that order to a sound line. method is undefined when the format does not
 * log one, and the rule passes; the crawler rule applies to formats that log an agent
 * (agentFormat), and agent is undefined for a line that holds none. Text is latin1.
 */
export function viewRuleReason(
  parts: { method?: string; page: string; agentFormat?: boolean; agent?: string },
  options: RefOptions,
): RejectReason | undefined {
  const methods = options.methods ?? DEFAULT_METHODS;
  if (methods !== 'any' && parts.method !== undefined && !methods.includes(parts.method)) return 'method';
  if (options.ignoreStatic ?? true) {
    const extensions = (options.staticExtensions ?? DEFAULT_STATIC_EXTENSIONS).map((e) => e.replace(/^\./, '').toLowerCase());
    const path = parts.page.split(/[?#]/)[0]!;
    const segment = path.slice(path.lastIndexOf('/') + 1);
    const dot = segment.lastIndexOf('.');
    if (dot > 0 && extensions.includes(segment.slice(dot + 1).toLowerCase())) return 'static';
  }
  if ((options.ignoreCrawlers ?? true) && parts.agentFormat === true) {
    if (parts.page.split(/[?#]/)[0] === '/robots.txt') return 'crawler';
    if (parts.agent === undefined) return undefined;
    const agent = parts.agent.toLowerCase();
    const tokens = options.crawlers ?? DEFAULT_CRAWLERS;
    if (agent === '' || agent === '-' || tokens.some((token) => agent.includes(token.toLowerCase()))) return 'crawler';
  }
  return undefined;
}

/** combined: the agent in what follows bytes (' "referer" "agent" ...'); undefined when there is none. */
function combinedAgent(rest: string): string | undefined {
  if (!rest.startsWith(' "')) return undefined;
  const refererEnd = closingQuote(rest, 2);
  if (refererEnd < 0 || !rest.startsWith(' "', refererEnd + 1)) return undefined;
  const start = refererEnd + 3;
  const end = closingQuote(rest, start);
  return rest.slice(start, end < 0 ? rest.length : end);
}

/** One combined/common line (without "\n" and "\r"). */
export function parseAccessLine(line: Buffer, options: RefOptions, maxKeyBytes: number): RefLine {
  const fail = (reason: RejectReason): RefLine => ({ ok: false, reason });
  const m = ACCESS_LINE.exec(latin1(line));
  if (m === null) return fail('malformed');
  const [, host, , authuser, time, request, status, bytes, rest] = m as unknown as string[];
  if (!/^(-|[0-9]+)$/.test(bytes!)) return fail('malformed');
  if (rest !== '') {
    if ((options.format ?? 'combined') === 'common') return fail('malformed');
    if (!rest!.startsWith(' "')) return fail('malformed');
  }
  if (!/^[1-5][0-9][0-9]$/.test(status!)) return fail('bad-status');
  if (!statusAccepted(Number(status), options.statuses)) return fail('filtered');
  const anonymous = authuser === '-' || authuser === '""';
  const mode = options.user ?? 'host';
  if (mode === 'authuser' && anonymous) return fail('filtered');
  const user = mode === 'host' || (mode === 'authuser|host' && anonymous) ? host! : authuser!;
  const ts = accessLogTime(time!);
  if (ts === undefined) return fail('bad-time');
  const req = REQUEST.exec(request!);
  if (req === null || !TOKEN.test(req[1]!)) return fail('malformed');
  if (req[1] === 'OPTIONS' && req[2] === '*') return fail('filtered'); // Apache's dummy connection
  const page = pageOfTarget(req[2]!, options.keepQuery ?? false);
  if (page === undefined) return fail('malformed');
  const userBytes = bytesOf(user);
  const pageBytes = bytesOf(page);
  const reason =
    checkKeys(userBytes, pageBytes, maxKeyBytes) ??
    viewRuleReason(
      { method: req[1]!, page, agentFormat: (options.format ?? 'combined') === 'combined', agent: combinedAgent(rest!) },
      options,
    );
  return reason === undefined ? { ok: true, user: userBytes, page: pageBytes, ts } : fail(reason);
}

// ---------------------------------------------------------------------------------
// ndjson: a strict RFC 8259 reader over bytes.

type JsonValue =
  | { kind: 'string'; bytes: Buffer; lone: boolean }
  | { kind: 'number'; text: string }
  | { kind: 'object'; members: Map<string, JsonValue> }
  | { kind: 'array'; items: JsonValue[] }
  | { kind: 'null' }
  | { kind: 'other' };

class JsonError extends Error {}

class JsonReader {
  pos = 0;
  readonly text: string;
  constructor(readonly b: Buffer) {
    this.text = latin1(b);
  }

  ws(): void {
    while (this.pos < this.b.length) {
      const c = this.b[this.pos]!;
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      this.pos++;
    }
  }

  expect(c: number): void {
    if (this.b[this.pos] !== c) throw new JsonError();
    this.pos++;
  }

  hex4(): number {
    const text = latin1(this.b.subarray(this.pos, this.pos + 4));
    if (!/^[0-9a-fA-F]{4}$/.test(text)) throw new JsonError();
    this.pos += 4;
    return parseInt(text, 16);
  }

  /** A string starting at '"': its decoded bytes, and whether a lone surrogate was escaped. */
  string(): { bytes: Buffer; lone: boolean } {
    this.expect(0x22);
    const out: number[] = [];
    let lone = false;
    const units: number[] = []; // pending \u code units, combined into pairs when possible
    const flush = () => {
      for (let i = 0; i < units.length; i++) {
        const u = units[i]!;
        const next = units[i + 1];
        let cp = u;
        if (u >= 0xd800 && u <= 0xdbff && next !== undefined && next >= 0xdc00 && next <= 0xdfff) {
          cp = 0x10000 + ((u - 0xd800) << 10) + (next - 0xdc00);
          i++;
        } else if (u >= 0xd800 && u <= 0xdfff) {
          lone = true;
          cp = 0xfffd;
        }
        out.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
      }
      units.length = 0;
    };
    for (;;) {
      if (this.pos >= this.b.length) throw new JsonError();
      const c = this.b[this.pos]!;
      if (c === 0x22) {
        flush();
        this.pos++;
        return { bytes: Buffer.from(out), lone };
      }
      if (c < 0x20) throw new JsonError();
      if (c === 0x5c) {
        const e = this.b[this.pos + 1];
        this.pos += 2;
        if (e === 0x75) {
          units.push(this.hex4());
          continue;
        }
        flush();
        const simple: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 8, 0x66: 12, 0x6e: 10, 0x72: 13, 0x74: 9 };
        if (e === undefined || simple[e] === undefined) throw new JsonError();
        out.push(simple[e]!);
        continue;
      }
      flush();
      out.push(c);
      this.pos++;
    }
  }

  value(depth = 0): JsonValue {
    if (depth > 2000) throw new JsonError(); // the tests never nest this deep
    this.ws();
    const c = this.b[this.pos];
    if (c === 0x22) return { kind: 'string', ...this.string() };
    if (c === 0x7b) {
      this.pos++;
      this.ws();
      // Members by their decoded name (latin1 of the UTF-8 bytes); the last duplicate
      // wins, as with JSON.parse. A name with a lone surrogate can match no path.
      const members = new Map<string, JsonValue>();
      if (this.b[this.pos] === 0x7d) {
        this.pos++;
        return { kind: 'object', members };
      }
      for (;;) {
        this.ws();
        const name = this.string();
        this.ws();
        this.expect(0x3a);
        const value = this.value(depth + 1);
        if (!name.lone) members.set(latin1(name.bytes), value);
        this.ws();
        if (this.b[this.pos] === 0x2c) {
          this.pos++;
          continue;
        }
        this.expect(0x7d);
        return { kind: 'object', members };
      }
    }
    if (c === 0x5b) {
      this.pos++;
      this.ws();
      const items: JsonValue[] = [];
      if (this.b[this.pos] === 0x5d) {
        this.pos++;
        return { kind: 'array', items };
      }
      for (;;) {
        items.push(this.value(depth + 1));
        this.ws();
        if (this.b[this.pos] === 0x2c) {
          this.pos++;
          continue;
        }
        this.expect(0x5d);
        return { kind: 'array', items };
      }
    }
    for (const word of ['true', 'false', 'null']) {
      if (latin1(this.b.subarray(this.pos, this.pos + word.length)) === word) {
        this.pos += word.length;
        return word === 'null' ? { kind: 'null' } : { kind: 'other' };
      }
    }
    const pattern = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    pattern.lastIndex = this.pos;
    const number = pattern.exec(this.text);
    if (number === null) throw new JsonError();
    this.pos += number[0].length;
    return { kind: 'number', text: number[0] };
  }
}

const UNIT_SHIFT = { s: 3n, ms: 0n, us: -3n, ns: -6n } as const;

/**
 * A JSON number token as ms: an integer in its unit (a fraction allowed in seconds, and
 * in ms when `fractionOk`: the unit was given), truncated to ms, in 0..MAX_TIME; else undefined.
 */
export function jsonNumberMs(text: string, unit: 'ms' | 's' | 'us' | 'ns' = 'ms', fractionOk = unit === 's'): number | undefined {
  const m = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(text)!;
  const digits = (m[2]! + (m[3] ?? '')).replace(/^0+/, '');
  if (digits === '') return 0; // zero, however spelled (-0, 0.0e5)
  if (m[1] === '-') return undefined;
  // value in its unit = digits × 10^exponent
  const exponent = BigInt(m[4] ?? '0') - BigInt((m[3] ?? '').length);
  const trailingZeros = BigInt(/0*$/.exec(digits)![0].length);
  if (!fractionOk && exponent < 0n && -exponent > trailingZeros) return undefined; // a fraction
  const msExponent = exponent + UNIT_SHIFT[unit];
  if (msExponent > 20n) return undefined; // far beyond MAX_TIME (digits is not zero)
  if (msExponent < -400n) return 0; // far below 1 ms
  const value = msExponent >= 0n ? BigInt(digits) * 10n ** msExponent : BigInt(digits) / 10n ** -msExponent;
  return value <= BigInt(MAX_TIME) ? Number(value) : undefined;
}

/** A field spec ('a.b|c\.d') as paths of member names (latin1 of their UTF-8 bytes). */
export function fieldPaths(spec: string): string[][] {
  const paths: string[][] = [];
  let path: string[] = [];
  let name = '';
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i]!;
    if (c === '\\') name += spec[++i];
    else if (c === '.') (path.push(name), (name = ''));
    else if (c === '|') (path.push(name), paths.push(path), (path = []), (name = ''));
    else name += c;
  }
  path.push(name);
  paths.push(path);
  return paths.map((p) => p.map((n) => latin1(Buffer.from(n, 'utf8'))));
}

/**
 * Each JSON format's fields (docs/ingest.md). headers: the object holding every header
 * the client sent (Caddy's), in which a missing agent means none was sent.
 */
export const JSON_PRESETS: Record<
  'ndjson' | 'caddy' | 'traefik',
  { user: string; page: string; ts: string; status?: string; method?: string; agent?: string; headers?: string; tsUnit: 'ms' | 's'; target: boolean }
> = {
  ndjson: { user: 'user', page: 'page', ts: 'ts', tsUnit: 'ms', target: false },
  caddy: {
    user: 'request.client_ip|request.remote_ip',
    page: 'request.uri',
    ts: 'ts',
    status: 'status',
    method: 'request.method',
    agent: 'request.headers.User-Agent',
    headers: 'request.headers',
    tsUnit: 's',
    target: true,
  },
  traefik: {
    user: 'ClientHost',
    page: 'RequestPath',
    ts: 'StartUTC|StartLocal',
    status: 'DownstreamStatus',
    method: 'RequestMethod',
    agent: 'request_User-Agent',
    tsUnit: 'ms',
    target: true,
  },
};

/**
 * The agent a JSON line logs (docs/semantics.md): a string; an array's first element if
 * a string ('' for []); '' for null; '' when missing from a present headers object;
 * undefined (unknown) otherwise.
 */
function jsonAgent(root: JsonValue, agentSpec: string, headersSpec: string | undefined): string | undefined {
  const value = pick(root, agentSpec);
  if (value === undefined) return headersSpec !== undefined && pick(root, headersSpec)?.kind === 'object' ? '' : undefined;
  if (value.kind === 'null') return '';
  const text = value.kind === 'array' ? (value.items.length === 0 ? { kind: 'string', bytes: Buffer.alloc(0) } : value.items[0]!) : value;
  return text.kind === 'string' ? latin1(text.bytes) : undefined;
}

function valueAt(root: JsonValue, path: string[]): JsonValue | undefined {
  let value: JsonValue | undefined = root;
  for (const name of path) value = value?.kind === 'object' ? value.members.get(name) : undefined;
  return value;
}

const isEmpty = (v: JsonValue) => v.kind === 'null' || (v.kind === 'string' && v.bytes.length === 0);

/** A spec's value: the first path whose value is not null or "", else the first present. */
function pick(root: JsonValue, spec: string): JsonValue | undefined {
  const found = fieldPaths(spec).map((path) => valueAt(root, path)).filter((v) => v !== undefined);
  return found.find((v) => !isEmpty(v)) ?? found[0];
}

/** The first address of a forwarded-for list; '' when it names no client (empty, '-', 'unknown'). */
export function firstForwardedAddress(list: string): string {
  const first = list.split(',')[0]!.replace(/^[ \t]+|[ \t]+$/g, '');
  return first === '-' || first.toLowerCase() === 'unknown' ? '' : first;
}

/** Whether a member, header or field name holds a forwarded-for list (its end, any case, '_' as '-'). */
export const isForwardedForName = (name: string) => /x-forwarded-for$/i.test(name.replaceAll('_', '-'));

/**
 * A user's or page's value (docs/ingest.md, "Member paths"): each path's value read as a
 * string where it can be (an array's first element, '' for []; a forwarded-for list's
 * first address for a user), then the first that is not null or "", else the first present.
 */
function pickText(root: JsonValue, spec: string, forwarded: boolean): JsonValue | undefined {
  const found: JsonValue[] = [];
  for (const path of fieldPaths(spec)) {
    let value = valueAt(root, path);
    if (value === undefined) continue;
    if (value.kind === 'array' && value.items.length === 0) value = { kind: 'string', bytes: Buffer.alloc(0), lone: false };
    else if (value.kind === 'array' && value.items[0]!.kind === 'string') value = value.items[0]!;
    if (forwarded && value.kind === 'string' && !value.lone && isForwardedForName(path.at(-1)!)) {
      value = { kind: 'string', bytes: Buffer.from(firstForwardedAddress(value.bytes.toString('latin1')), 'latin1'), lone: false };
    }
    found.push(value);
  }
  return found.find((v) => !isEmpty(v)) ?? found[0];
}

/** One line of a JSON format: ndjson, caddy or traefik. */
export function parseJsonLine(line: Buffer, options: RefOptions, maxKeyBytes: number): RefLine {
  const fail = (reason: RejectReason): RefLine => ({ ok: false, reason });
  const preset = JSON_PRESETS[(options.format ?? 'ndjson') as keyof typeof JSON_PRESETS];
  const specs = { ...preset, ...options.fields };
  // The preset's headers object goes with the preset's agent path only.
  const headers = options.fields?.agent === undefined ? preset.headers : undefined;
  const reader = new JsonReader(line);
  let root: JsonValue;
  try {
    reader.ws();
    if (line[reader.pos] !== 0x7b) throw new JsonError();
    root = reader.value();
    reader.ws();
    if (reader.pos !== line.length) throw new JsonError();
  } catch (error) {
    if (error instanceof JsonError) return fail('malformed');
    throw error;
  }
  const user = pickText(root, specs.user, true);
  const page = pickText(root, specs.page, false);
  const tsValue = pick(root, specs.ts);
  const status = specs.status === undefined ? undefined : pick(root, specs.status);
  if (user?.kind !== 'string' || page?.kind !== 'string' || tsValue === undefined) return fail('malformed');
  if (specs.status !== undefined) {
    if (status === undefined) return fail('malformed');
    const text = status.kind === 'number' ? status.text : status.kind === 'string' ? latin1(status.bytes) : '';
    if (!/^[1-5][0-9][0-9]$/.test(text)) return fail('bad-status');
    if (!statusAccepted(Number(text), options.statuses)) return fail('filtered');
  }
  let ts: number | undefined;
  if (tsValue.kind === 'number') {
    const unit = options.tsUnit ?? preset.tsUnit;
    ts = jsonNumberMs(tsValue.text, unit, unit === 's' || options.tsUnit === 'ms');
  }
  else if (tsValue.kind === 'string' && !tsValue.lone) ts = isoTime(latin1(tsValue.bytes));
  if (ts === undefined) return fail('bad-time');
  let pageBytes = page.bytes;
  if (preset.target) {
    const target = latin1(page.bytes);
    if (target === '*') return fail('filtered');
    const path = pageOfTarget(target, options.keepQuery ?? false);
    if (path === undefined) return fail('malformed');
    pageBytes = bytesOf(path);
  }
  const method = specs.method === undefined ? undefined : pick(root, specs.method);
  const reason =
    checkKeys(user.bytes, pageBytes, maxKeyBytes, { user: user.lone, page: page.lone }) ??
    viewRuleReason(
      {
        method: method?.kind === 'string' ? latin1(method.bytes) : undefined,
        page: latin1(pageBytes),
        agentFormat: specs.agent !== undefined,
        agent: specs.agent === undefined ? undefined : jsonAgent(root, specs.agent, headers),
      },
      options,
    );
  return reason === undefined ? { ok: true, user: user.bytes, page: pageBytes, ts } : fail(reason);
}

/** One line's content (no "\n", no "\r"): the syslog frame and a BOM dropped, then the format. */
export function parseLine(content: Buffer, options: RefOptions, maxKeyBytes: number): RefLine {
  if (options.syslog) {
    const message = syslogMessage(latin1(content));
    if (message === undefined) return { ok: false, reason: 'malformed' };
    content = bytesOf(message);
  }
  if (content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf) content = content.subarray(3);
  if (options.format === 'ndjson' || options.format === 'caddy' || options.format === 'traefik') {
    return parseJsonLine(content, options, maxKeyBytes);
  }
  return parseAccessLine(content, options, maxKeyBytes);
}

const SYSLOG_5424 = /^<[0-9]{1,3}>[0-9][^ ]* [^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ (?:-|(?:\[(?:[^\]\\]|\\[^])*\])+)(?: |$)/;
const SYSLOG_3164 = /^<[0-9]{1,3}>(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) .. ..:..:.. [^ ]+ ([^ :]{0,47}):(?: |$)/;

/** The message inside an RFC 5424 or RFC 3164 frame (latin1 text), or undefined. */
export function syslogMessage(text: string): string | undefined {
  const m = SYSLOG_5424.exec(text) ?? SYSLOG_3164.exec(text);
  return m === null ? undefined : text.slice(m[0].length);
}

// ---------------------------------------------------------------------------------
// Lines and the report.

/** The sample text of a line's content: its first 200 bytes, cut back to a whole character. */
export function sampleText(content: Buffer): string {
  let cut = Math.min(content.length, 200);
  const isContinuation = (b: number | undefined) => b !== undefined && (b & 0xc0) === 0x80;
  if (content.length > 200 && isContinuation(content[200])) {
    let lead = 200;
    while (lead > 0 && 200 - lead < 3 && isContinuation(content[lead - 1])) lead--;
    if (lead > 0 && content[lead - 1]! >= 0xc0) cut = lead - 1;
  }
  return content.subarray(0, cut).toString('utf8');
}

export interface RefResult {
  report: IngestReport;
  events: RefEvent[];
}

/**
 * The report and the accepted events of one ingest() call. `late` needs the index's
 * userWindow and the watermark the index had before the call (-Infinity when empty).
 */
export function referenceIngest(
  data: Buffer | string,
  options: RefOptions = {},
  index: { userWindow: number; maxKeyBytes?: number; watermark?: number } = { userWindow: 30 * 60_000 },
): RefResult {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const maxKeyBytes = options.maxKeyBytes ?? index.maxKeyBytes ?? 1024;
  const maxLineBytes = options.maxLineBytes ?? 65536;
  const report: IngestReport = { lines: 0, accepted: 0, rejected: 0, late: 0, reasons: {}, samples: [] };
  const events: RefEvent[] = [];
  let watermark = index.watermark ?? -Infinity;
  let lineNumber = 0;
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start);
    const next = end < 0 ? bytes.length : end + 1;
    if (end < 0) end = bytes.length;
    let content = bytes.subarray(start, end);
    start = next;
    lineNumber++;
    if (content.length > 0 && content[content.length - 1] === 0x0d) content = content.subarray(0, content.length - 1);
    if (content.length === 0) continue;
    report.lines++;
    let result: RefLine;
    if (content.length > maxLineBytes) result = { ok: false, reason: 'line-too-long' };
    else result = parseLine(content, options, maxKeyBytes);
    if (result.ok) {
      report.accepted++;
      if (result.ts < watermark - index.userWindow) report.late++;
      watermark = Math.max(watermark, result.ts);
      events.push({ user: result.user.toString('utf8'), page: result.page.toString('utf8'), ts: result.ts });
    } else {
      report.rejected++;
      report.reasons[result.reason] = (report.reasons[result.reason] ?? 0) + 1;
      if (!FILTER_REASONS.has(result.reason) && report.samples.length < 10) {
        report.samples.push({ line: lineNumber, reason: result.reason, text: sampleText(content) });
      }
    }
  }
  return { report, events };
}

// ---------------------------------------------------------------------------------
// Comparing indexes.

/** Every answer an index gives about the given keys, plus its stats (memory excluded). */
export function snapshot(index: ActivityIndex, pages: Iterable<string>, users: Iterable<string>, k = index.options.usersPerPage) {
  const q1: [string, unknown][] = [];
  const q3: [string, unknown, number][] = [];
  for (const page of pages) {
    q1.push([page, index.lastUsers(page, k)]);
    q3.push([page, index.onlineUsers(page, 1000), index.onlineCount(page)]);
  }
  const q2: [string, unknown][] = [];
  for (const user of users) q2.push([user, index.userPages(user)]);
  const { memoryBytes: _memory, ...stats } = index.stats();
  return { watermark: index.watermark, q1, q2, q3, online: index.onlineCount(), stats };
}

export function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/** Sorted, distinct pages and users of some events. */
export function keysOf(events: readonly RefEvent[]): { pages: string[]; users: string[] } {
  const pages = [...new Set(events.map((e) => e.page))].sort();
  const users = [...new Set(events.map((e) => e.user))].sort();
  return { pages, users };
}
