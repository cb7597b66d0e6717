/**
 * The JSON-over-HTTP face of an index (docs/http.md): Q1, Q2, Q3, recording views
 * (POST /views) and the index's health, stats and Prometheus metrics, on node:http
 * with no framework.
 *
 * The routes call a QueryBackend: an ActivityIndex (`skiptrail serve`, synchronous
 * answers) or a cluster client (`skiptrail gateway`, answers as promises). A
 * synchronous answer is written in the same turn; only a promise costs an await.
 *
 * Keys travel percent-encoded in one path segment (page "/a/b" is
 * /pages/%2Fa%2Fb/users). Bad parameters give 400 with { error }, naming the parameter
 * in the facade's own words; an unknown key gives 200 and an empty list; an unknown
 * route 404; a method the route does not take 405.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ActivityStats, PageView, UserPagesOptions, UserView, ViewEvent } from '../activity-index.js';
import { rangeErrorWith, typeError } from '../errors.js';
import { partitionOf, type PartitionSpec } from '../partition.js';
import { checkKey, checkTime } from '../validate.js';
import type { SourceMetrics } from './metrics.js';
import { MetricsWriter, RequestMetrics, renderSources } from './metrics.js';
import { RowJson } from './row-json.js';
import { isArgumentError } from '../errors.js';
import { sumReports } from '../sources/ingest-target.js';

/** An answer now, or later. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * What the routes ask. ActivityIndex is one (every answer synchronous); the gateway's
 * cluster client is another. Arguments are passed as the library takes them, so the
 * backend's own validation errors (TypeError, RangeError) become 400 answers.
 */
export interface QueryBackend {
  lastUsers(page: string, k?: number): MaybePromise<UserView[]>;
  userPages(user: string, options?: UserPagesOptions): MaybePromise<PageView[]>;
  onlineUsers(page: string, k?: number): MaybePromise<UserView[]>;
  onlineCount(page?: string): MaybePromise<number>;
  stats(): MaybePromise<ActivityStats>;
  /** Records a batch already checked event by event (POST /views). */
  recordMany(events: ViewEvent[]): MaybePromise<number>;
  /** maxKeyBytes: the longest key POST /views accepts. */
  readonly options: { readonly maxKeyBytes: number };
}

export interface QueryServerOptions {
  /** The live sources feeding the index, for /stats and /metrics. Called per request. */
  sources?: () => readonly SourceStatus[];
  /** Largest POST /views body in bytes; a longer one gets 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** A shard's partition: POST /views refuses the views of other partitions' users. */
  partition?: PartitionSpec;
  /** More members for the /stats body (the gateway's partitions). Called per request. */
  statsDetails?: () => MaybePromise<Record<string, unknown>>;
  /**
   * What is not ready yet (serve: the sources still reading what existed at start; the
   * gateway: the partitions that do not answer); /readyz answers 503 naming them until
   * this is empty. Called per request. Default: none.
   */
  notReady?: () => MaybePromise<readonly string[]>;
  /**
   * The bearer token every route but /healthz requires (`Authorization: Bearer T`), or
   * null for none. Called per request, so that it can be reloaded. Default: none.
   */
  authToken?: () => string | null;
  /** More families for /metrics (serve's snapshots). Called per request. */
  metricsDetails?: (out: MetricsWriter) => void;
}

/** The default largest POST /views body. */
export const DEFAULT_MAX_BODY_BYTES = 1 << 20;
/** Bytes of a too-large body read and dropped before its 413 is sent. */
const MAX_DISCARDED_BYTES = 4 << 20;
/** Invalid events listed one by one in a 400 answer to POST /views; the rest are counted. */
const MAX_LISTED_ERRORS = 100;

/** What /stats and /metrics show of one source. */
export interface SourceStatus extends SourceMetrics {
  /** Source-specific details for /stats (file position, server, address, …). */
  details?: Record<string, unknown>;
}

export interface QueryServer {
  readonly server: http.Server;
  readonly metrics: RequestMetrics;
  /** Makes /healthz and /readyz answer 503 (while the process shuts down). */
  setDraining(): void;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
const METRICS_HEADERS = { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' };

/**
 * A client mistake or an unavailable backend: answered with its status and
 * { error: message, ...extra } (the gateway adds code and partitions to a 503).
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    /** For a 405: the methods the route takes (the Allow header). */
    readonly allow?: string,
  ) {
    super(message);
  }
}

type Query = Map<string, string>;
/** A query route's answer: its JSON text. */
type Handler = (key: string, query: Query) => MaybePromise<string>;
interface Route {
  name: string;
  key?: string;
  handler?: Handler;
  fixed?: () => unknown;
  /** POST routes read the request body first. */
  post?: (body: Buffer, request: http.IncomingMessage) => MaybePromise<unknown>;
}

/** Calls `then` on a value now, or once its promise settles. */
function after<T, R>(value: MaybePromise<T>, then: (value: T) => R): MaybePromise<R> {
  return value instanceof Promise ? value.then(then) : then(value);
}

/** Creates (but does not start) the server. */
export function createQueryServer(index: QueryBackend, options: QueryServerOptions = {}): QueryServer {
  const metrics = new RequestMetrics();
  const sources = options.sources ?? (() => []);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const startedAt = Date.now();
  const json = new RowJson();
  let draining = false;

  const lastUsers: Handler = (page, query) => {
    accept(query, ['k']);
    const k = integerParam(query, 'k');
    const users = k === undefined ? index.lastUsers(page) : index.lastUsers(page, k);
    const answer = (rows: UserView[]) => (rows.length === 0 ? withSlashHint(page, { page, users: [] }) : json.answer('page', page, 'users', 'user', rows));
    return users instanceof Promise ? users.then(answer) : answer(users);
  };
  /**
   * The answer for an unknown page, with a hint when the page lacks its leading "/"
   * and "/" + page is known ({ hint }: GET /pages/pricing/users for /pricing).
   */
  const withSlashHint = (page: string, body: Record<string, unknown>): MaybePromise<string> => {
    if (page.startsWith('/')) return JSON.stringify(body);
    const known = index.lastUsers(`/${page}`, 1);
    const answer = (rows: UserView[]) => {
      if (rows.length === 0) return JSON.stringify(body);
      const hint = `no page ${JSON.stringify(page)}, but ${JSON.stringify(`/${page}`)} is known: its key is /pages/${encodeURIComponent(`/${page}`)}/… (the leading "/" is part of the page, percent-encoded as %2F)`;
      return JSON.stringify({ ...body, hint });
    };
    return known instanceof Promise ? known.then(answer) : answer(known);
  };
  const userPages: Handler = (user, query) => {
    accept(query, ['window', 'limit', 'now']);
    const window = durationParam(query, 'window');
    const limit = integerParam(query, 'limit');
    const now = timeParam(query, 'now');
    const pages = index.userPages(user, {
      ...(window === undefined ? {} : { window }),
      ...(limit === undefined ? {} : { limit }),
      ...(now === undefined ? {} : { now }),
    });
    return after(pages, (rows) => json.answer('user', user, 'pages', 'page', rows));
  };
  const onlineUsers: Handler = (page, query) => {
    accept(query, ['k']);
    const k = integerParam(query, 'k');
    const users = k === undefined ? index.onlineUsers(page) : index.onlineUsers(page, k);
    const answer = (rows: UserView[], count: number) =>
      count === 0 && rows.length === 0 ? withSlashHint(page, { page, count: 0, users: [] }) : json.answer('page', page, 'users', 'user', rows, count);
    if (!(users instanceof Promise)) {
      const count = index.onlineCount(page);
      if (!(count instanceof Promise)) return answer(users, count);
    }
    return Promise.all([users, index.onlineCount(page)]).then(([rows, count]) => answer(rows, count));
  };
  const recordViews = (body: Buffer, request: http.IncomingMessage) => {
    const events = parseViews(body, request.headers['content-type'], index.options.maxKeyBytes, options.partition);
    return after(index.recordMany(events), (recorded) => ({ recorded }));
  };

  /** Routes by the path's segments: [resource, key, what] or [name]. */
  function route(path: string): Route | null {
    const parts = path.split('/');
    if (parts[0] !== '') return null;
    if (parts.length === 4) {
      const [, resource, encoded, what] = parts as [string, string, string, string];
      if (resource === 'pages' && what === 'users') return { name: '/pages/:page/users', key: decodeKey(encoded, 'page'), handler: lastUsers };
      if (resource === 'pages' && what === 'online') return { name: '/pages/:page/online', key: decodeKey(encoded, 'page'), handler: onlineUsers };
      if (resource === 'users' && what === 'pages') return { name: '/users/:user/pages', key: decodeKey(encoded, 'user'), handler: userPages };
      return null;
    }
    if (parts.length !== 2) return null;
    switch (parts[1]) {
      case 'online':
        return { name: '/online', fixed: () => after(index.onlineCount(), (count) => ({ count })) };
      case 'views':
        return { name: '/views', post: recordViews };
      case 'stats':
        return { name: '/stats', fixed: () => statsBody() };
      case 'readyz':
        return { name: '/readyz', fixed: () => readyBody() };
      case 'healthz':
        return { name: '/healthz', fixed: () => (draining ? new HttpError(503, 'shutting down') : { status: 'ok' }) };
      case 'metrics':
        return { name: '/metrics', fixed: metricsText };
      default:
        return null;
    }
  }

  function statsBody(): MaybePromise<unknown> {
    const status = sources();
    const details = options.statsDetails?.() ?? {};
    const body = (stats: ActivityStats, more: Record<string, unknown>) => ({
      index: { ...stats, watermark: Number.isFinite(stats.watermark) ? stats.watermark : null },
      ingest: sumReports(status.map((source) => source.report)),
      sources: status.map((source) => ({
        name: source.name,
        ...(source.bytes === undefined ? {} : { bytes: source.bytes }),
        ...source.counters,
        ...source.details,
        report: source.report,
      })),
      ...more,
      requests: metrics.counts(),
      uptimeSeconds: (Date.now() - startedAt) / 1000,
    });
    const stats = index.stats();
    if (!(stats instanceof Promise) && !(details instanceof Promise)) return body(stats, details);
    return Promise.all([stats, details]).then(([s, d]) => body(s, d));
  }

  function metricsText(): MaybePromise<MetricsText> {
    return after(index.stats(), (stats) => new MetricsText(renderMetrics(stats)));
  }

  function renderMetrics(stats: ActivityStats): string {
    const out = new MetricsWriter();
    out.single('skiptrail_events_total', 'counter', 'View events indexed since start (late ones included).', stats.events);
    out.single('skiptrail_late_events_total', 'counter', 'Events older than the user window on arrival (page index only).', stats.late);
    out.single('skiptrail_evicted_total', 'counter', 'Pages and users evicted by maxPages / maxUsers.', stats.evicted);
    out.single('skiptrail_pages', 'gauge', 'Pages with at least one page-index entry.', stats.pages);
    out.single('skiptrail_users', 'gauge', 'Users with at least one user-index entry.', stats.users);
    out.single('skiptrail_entries', 'gauge', 'Page-index entries plus user-index entries.', stats.entries);
    out.single('skiptrail_memory_bytes', 'gauge', 'Bytes the native engine holds (measured from its allocations).', stats.memoryBytes);
    out.single('skiptrail_online_users', 'gauge', 'Users online anywhere (Q3).', stats.online);
    if (Number.isFinite(stats.watermark)) {
      out.single('skiptrail_watermark_seconds', 'gauge', 'The largest accepted event time, in seconds since the epoch.', stats.watermark / 1000);
    }
    renderSources(out, sources());
    options.metricsDetails?.(out);
    metrics.render(out);
    const memory = process.memoryUsage();
    out.single('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', memory.rss);
    out.single('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use, in bytes.', memory.heapUsed);
    const cpu = process.cpuUsage();
    out.single('process_cpu_seconds_total', 'counter', 'User and system CPU time spent, in seconds.', (cpu.user + cpu.system) / 1e6);
    out.single('process_start_time_seconds', 'gauge', 'Start time of the process, in seconds since the epoch.', Math.round(startedAt / 1000));
    return out.toString();
  }

  /** What a request gets: its status, body and headers, and the route for metrics. */
  interface Reply {
    status: number;
    body: string;
    headers: http.OutgoingHttpHeaders;
  }

  function reply(result: unknown): Reply {
    if (result instanceof HttpError) throw result;
    if (result instanceof MetricsText) return { status: 200, body: result.text, headers: METRICS_HEADERS };
    return { status: 200, body: typeof result === 'string' ? result : JSON.stringify(result), headers: JSON_HEADERS };
  }

  function handle(found: Route, request: http.IncomingMessage, url: string, mark: number): MaybePromise<Reply> {
    if (found.post !== undefined) {
      if (request.method !== 'POST') throw new HttpError(405, `${request.method} is not allowed on ${found.name}; use POST`, {}, 'POST');
      return readBody(request, maxBodyBytes).then((body) => after(found.post!(body, request), reply));
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new HttpError(405, `${request.method} is not allowed on ${found.name}; use GET`, {}, 'GET, HEAD');
    }
    const query = parseQuery(mark < 0 ? '' : url.slice(mark + 1));
    if (found.handler !== undefined) return after(found.handler(found.key!, query), reply);
    accept(query, []);
    return after(found.fixed!(), reply);
  }

  /** 503 { error, waiting } while shutting down or a source is still reading what it had at start. */
  function readyBody(): MaybePromise<unknown> {
    if (draining) return new HttpError(503, 'shutting down');
    return after(options.notReady?.() ?? [], (waiting) =>
      waiting.length > 0 ? new HttpError(503, `catching up: ${waiting.join(', ')}`, { waiting }) : { status: 'ready' },
    );
  }

  function respond(request: http.IncomingMessage, response: http.ServerResponse): void {
    const started = performance.now();
    const url = request.url ?? '/';
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    let routeName = 'unknown';
    const send = (answer: Reply) => {
      // With Content-Length the answer goes out in one write (without it, writeHead()
      // commits to chunked encoding: more bytes and a writev per response).
      response.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
      response.end(answer.body);
      metrics.observe(routeName, answer.status, (performance.now() - started) / 1000);
    };
    const fail = (error: unknown) => {
      if (error instanceof HttpError && error.allow !== undefined) response.setHeader('allow', error.allow);
      if (error instanceof HttpError && error.status === 401) response.setHeader('www-authenticate', 'Bearer realm="skiptrail"');
      // A body left unread (too large) would be taken for the next request: close.
      if (!request.complete) response.setHeader('connection', 'close');
      send({ ...errorResponse(error), headers: JSON_HEADERS });
    };
    let answer: MaybePromise<Reply>;
    try {
      if (path !== '/healthz' && options.authToken !== undefined) checkBearer(request, options.authToken());
      const found = route(path);
      if (found === null) throw new HttpError(404, `no route for ${path}; see docs/http.md`);
      routeName = found.name;
      answer = handle(found, request, url, mark);
    } catch (error) {
      fail(error);
      return;
    }
    if (answer instanceof Promise) answer.then(send, fail);
    else send(answer);
  }

  const server = http.createServer(respond);
  return {
    server,
    metrics,
    setDraining: () => {
      draining = true;
    },
  };
}

/** The /metrics body, told apart from a JSON result. */
class MetricsText {
  constructor(readonly text: string) {}
}

/**
 * Throws a 401 unless the request carries `Authorization: Bearer <token>`. The token
 * and the one given are compared as SHA-256 digests with timingSafeEqual: equal
 * lengths whatever was sent, and no early exit at the first differing byte.
 */
function checkBearer(request: http.IncomingMessage, token: string | null): void {
  if (token === null) return;
  const header = request.headers.authorization;
  const given = typeof header === 'string' && /^bearer /i.test(header) ? header.slice(7).trim() : '';
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  if (!timingSafeEqual(digest(given), digest(token)) || given.length === 0) {
    throw new HttpError(401, 'this server requires a bearer token: Authorization: Bearer <token>');
  }
}

function errorResponse(error: unknown): { status: number; body: string } {
  if (error instanceof HttpError) return { status: error.status, body: JSON.stringify({ error: error.message, ...error.extra }) };
  // The facade validates every argument: its errors name the argument, which is the
  // client's query parameter ('options.window' is ?window=, 'k' is ?k=).
  if (isArgumentError(error)) {
    const parameter = error.argument.startsWith('options.') ? error.argument.slice('options.'.length) : error.argument;
    const message = error.message.startsWith(error.argument) ? parameter + error.message.slice(error.argument.length) : error.message;
    return { status: 400, body: JSON.stringify({ error: message, parameter }) };
  }
  return { status: 500, body: JSON.stringify({ error: `internal error: ${(error as Error)?.message ?? String(error)}` }) };
}

function decodeKey(encoded: string, name: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new HttpError(400, `${name} must be percent-encoded UTF-8, received ${JSON.stringify(encoded)}`);
  }
}

function parseQuery(text: string): Query {
  const query: Query = new Map();
  if (text.length === 0) return query;
  for (const [name, value] of new URLSearchParams(text)) {
    if (query.has(name)) throw new HttpError(400, `query parameter ${name} is given twice`);
    query.set(name, value);
  }
  return query;
}

function accept(query: Query, names: readonly string[]): void {
  for (const name of query.keys()) {
    if (!names.includes(name)) {
      const expected = names.length === 0 ? 'this route takes no query parameters' : `expected ${names.join(', ')}`;
      throw new HttpError(400, `unknown query parameter ${JSON.stringify(name)} (${expected})`);
    }
  }
}

/** A whole decimal number; its range is the facade's to check. */
function integerParam(query: Query, name: string): number | undefined {
  const value = query.get(name);
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new HttpError(400, `${name} must be a positive integer, received ${JSON.stringify(value)}`);
  return Number(value);
}

/** A duration: '30m', '90s', … or a number of milliseconds. */
function durationParam(query: Query, name: string): number | string | undefined {
  const value = query.get(name);
  if (value === undefined) return undefined;
  return /^\d{1,15}$/.test(value) ? Number(value) : value;
}

/**
 * An ISO-8601 date-time that names one instant: `YYYY-MM-DDTHH:MM[:SS[.fraction]]`
 * with `Z` or an offset `±HH:MM` / `±HHMM` (at most ±14:00). No offset is an error, not
 * the server's local time: the same request must give the same answer on every server.
 * A space before the offset is a '+': a query string's '+' decodes to a space, and a
 * space there can mean nothing else (`now=2026-11-30T10:00:30+02:00` typed unescaped).
 */
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:([Zz])|([+\- ])(\d{2}):?(\d{2}))$/;

/** ms since the epoch for an ISO_INSTANT match that exists (no 31 Feb, no hour 24), else NaN. */
export function parseIsoInstant(text: string): number {
  const m = ISO_INSTANT.exec(text);
  if (m === null) return NaN;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  const offset = m[8] !== undefined ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return NaN;
  if (m[8] === undefined && (Number(m[11]) > 59 || Math.abs(offset) > 14 * 60)) return NaN;
  const date = new Date(Date.UTC(2000, 0, 1, hour, minute, second, millis));
  date.setUTCFullYear(year, month - 1, day); // Date.UTC would read years 0..99 as 19xx
  if (date.getUTCDate() !== day) return NaN; // 31 Feb rolled over
  return date.getTime() - offset * 60_000;
}

/**
 * A time: milliseconds since the epoch, or an ISO-8601 instant with `Z` or an offset.
 * Its range (a safe integer >= 0) is the facade's to check.
 */
function timeParam(query: Query, name: string): number | undefined {
  const value = query.get(name);
  if (value === undefined) return undefined;
  if (/^\d{1,16}$/.test(value)) return Number(value);
  const ms = parseIsoInstant(value);
  if (Number.isNaN(ms)) {
    throw new HttpError(
      400,
      `${name} must be milliseconds since the epoch or an ISO-8601 time with Z or an offset (2026-11-30T10:00:30Z), received ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

/**
 * Reads a request body of at most `limit` bytes. A longer one is a 413, answered once
 * the client has sent it all (read and dropped), so that a client that writes its
 * whole body before reading gets the answer rather than a reset; past
 * MAX_DISCARDED_BYTES more the answer goes at once and the connection closes.
 */
function readBody(request: http.IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, `the body is larger than ${limit} bytes; send fewer events per request`, { limit });
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit + MAX_DISCARDED_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > limit + MAX_DISCARDED_BYTES) reject(tooLarge());
    });
    request.once('end', () => (size <= limit ? resolve(Buffer.concat(chunks, size)) : reject(tooLarge())));
    request.once('error', reject);
  });
}

/**
 * The events of a POST /views body: one JSON object, or (content type
 * application/json) a JSON array of them, or NDJSON lines, one object per line (blank
 * lines skipped). Each event is checked with the library's rules (checkKey,
 * checkTime); a missing `ts` is the time of arrival. One bad event fails the whole
 * request with 400 listing every bad one, and nothing is recorded: the same all or
 * nothing as recordMany.
 */
export function parseViews(body: Buffer, contentType: string | undefined, maxKeyBytes: number, partition?: PartitionSpec): ViewEvent[] {
  const text = body.toString('utf8');
  const events: ViewEvent[] = [];
  const errors: { line: number; error: string; argument?: string }[] = [];
  let invalid = 0;
  const now = Date.now();
  const take = (value: unknown, line: number) => {
    try {
      const event = checkView(value, maxKeyBytes, now);
      if (partition !== undefined) {
        const owner = partitionOf(event.user, partition.count);
        if (owner !== partition.index) {
          throw rangeErrorWith(
            'user',
            `user ${JSON.stringify(event.user)} belongs to partition ${owner} of ${partition.count}, not to this shard (${partition.index}); record through the gateway or the publisher`,
          );
        }
      }
      events.push(event);
    } catch (error) {
      if (!isArgumentError(error)) throw error;
      invalid++;
      if (errors.length < MAX_LISTED_ERRORS) errors.push({ line, error: error.message, argument: error.argument });
    }
  };
  const jsonBody = /^application\/json\b/i.test(contentType ?? '');
  if (jsonBody) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new HttpError(400, `the body is not JSON: ${(error as Error).message}`);
    }
    if (Array.isArray(value)) value.forEach((item, i) => take(item, i + 1));
    else take(value, 1);
  } else {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line.length === 0) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        invalid++;
        if (errors.length < MAX_LISTED_ERRORS) errors.push({ line: i + 1, error: `not JSON: ${(error as Error).message}` });
        continue;
      }
      take(value, i + 1);
    }
  }
  if (invalid > 0) {
    const total = events.length + invalid;
    throw new HttpError(400, `${invalid} of ${total} events ${invalid === 1 ? 'is' : 'are'} invalid; none was recorded`, {
      invalid,
      errors,
    });
  }
  if (events.length === 0) throw new HttpError(400, 'the body holds no event; send { "user", "page", "ts" } objects');
  return events;
}

/** One event of POST /views, checked as record() checks its arguments. */
function checkView(value: unknown, maxKeyBytes: number, now: number): ViewEvent {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw typeError('event', 'an object { user, page, ts }', value);
  const event = value as Record<string, unknown>;
  return {
    user: checkKey(event.user, 'user', maxKeyBytes),
    page: checkKey(event.page, 'page', maxKeyBytes),
    ts: event.ts === undefined ? now : checkTime(event.ts, 'ts'),
  };
}
