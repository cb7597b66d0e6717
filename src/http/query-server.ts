/**
 * The JSON-over-HTTP face of an index (docs/http.md): Q1, Q2, Q3 and the index's
 * health, stats and Prometheus metrics, on node:http with no framework.
 *
 * Keys travel percent-encoded in one path segment (page "/a/b" is
 * /pages/%2Fa%2Fb/users). Bad parameters give 400 with { error }, naming the parameter
 * in the facade's own words; an unknown key gives 200 and an empty list; an unknown
 * route 404; another method than GET or HEAD 405.
 */

import * as http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ActivityIndex } from '../activity-index.js';
import type { SourceMetrics } from './metrics.js';
import { MetricsWriter, RequestMetrics, renderSources } from './metrics.js';
import { RowJson } from './row-json.js';
import { isArgumentError } from '../errors.js';
import { sumReports } from '../sources/ingest-target.js';

export interface QueryServerOptions {
  /** The live sources feeding the index, for /stats and /metrics. Called per request. */
  sources?: () => readonly SourceStatus[];
}

/** What /stats and /metrics show of one source. */
export interface SourceStatus extends SourceMetrics {
  /** Source-specific details for /stats (file position, server, address, …). */
  details?: Record<string, unknown>;
}

export interface QueryServer {
  readonly server: http.Server;
  readonly metrics: RequestMetrics;
  /** Makes /healthz answer 503 (while the process shuts down). */
  setDraining(): void;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
const METRICS_HEADERS = { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' };

/** A client mistake: answered with its status and { error: message }. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Query = Map<string, string>;
/** A query route's answer: its JSON text. */
type Handler = (key: string, query: Query) => string;

/** Creates (but does not start) the server. */
export function createQueryServer(index: ActivityIndex, options: QueryServerOptions = {}): QueryServer {
  const metrics = new RequestMetrics();
  const sources = options.sources ?? (() => []);
  const startedAt = Date.now();
  const json = new RowJson();
  let draining = false;

  const lastUsers: Handler = (page, query) => {
    accept(query, ['k']);
    const k = integerParam(query, 'k');
    const users = k === undefined ? index.lastUsers(page) : index.lastUsers(page, k);
    return json.answer('page', page, 'users', 'user', users);
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
    return json.answer('user', user, 'pages', 'page', pages);
  };
  const onlineUsers: Handler = (page, query) => {
    accept(query, ['k']);
    const k = integerParam(query, 'k');
    const users = k === undefined ? index.onlineUsers(page) : index.onlineUsers(page, k);
    return json.answer('page', page, 'users', 'user', users, index.onlineCount(page));
  };

  /** Routes by the path's segments: [resource, key, what] or [name]. */
  function route(path: string): { name: string; key?: string; handler?: Handler; fixed?: () => unknown } | null {
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
        return { name: '/online', fixed: () => ({ count: index.onlineCount() }) };
      case 'stats':
        return { name: '/stats', fixed: () => statsBody() };
      case 'healthz':
        return { name: '/healthz', fixed: () => (draining ? new HttpError(503, 'shutting down') : { status: 'ok' }) };
      case 'metrics':
        return { name: '/metrics', fixed: () => new MetricsText(metricsText()) };
      default:
        return null;
    }
  }

  function statsBody(): unknown {
    const status = sources();
    const stats = index.stats();
    return {
      index: { ...stats, watermark: Number.isFinite(stats.watermark) ? stats.watermark : null },
      ingest: sumReports(status.map((source) => source.report)),
      sources: status.map((source) => ({
        name: source.name,
        ...(source.bytes === undefined ? {} : { bytes: source.bytes }),
        ...source.counters,
        ...source.details,
        report: source.report,
      })),
      requests: metrics.counts(),
      uptimeSeconds: (Date.now() - startedAt) / 1000,
    };
  }

  function metricsText(): string {
    const out = new MetricsWriter();
    const stats = index.stats();
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
    metrics.render(out);
    const memory = process.memoryUsage();
    out.single('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', memory.rss);
    out.single('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use, in bytes.', memory.heapUsed);
    const cpu = process.cpuUsage();
    out.single('process_cpu_seconds_total', 'counter', 'User and system CPU time spent, in seconds.', (cpu.user + cpu.system) / 1e6);
    out.single('process_start_time_seconds', 'gauge', 'Start time of the process, in seconds since the epoch.', Math.round(startedAt / 1000));
    return out.toString();
  }

  function respond(request: http.IncomingMessage, response: http.ServerResponse): void {
    const started = performance.now();
    const url = request.url ?? '/';
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    let routeName = 'unknown';
    let status = 200;
    let body: string;
    let headers: http.OutgoingHttpHeaders = JSON_HEADERS;
    try {
      const found = route(path);
      if (found === null) throw new HttpError(404, `no route for ${path}; see docs/http.md`);
      routeName = found.name;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.setHeader('allow', 'GET, HEAD');
        throw new HttpError(405, `${request.method} is not allowed on ${found.name}; use GET`);
      }
      const query = parseQuery(mark < 0 ? '' : url.slice(mark + 1));
      if (found.handler !== undefined) {
        body = found.handler(found.key!, query);
      } else {
        accept(query, []);
        const result = found.fixed!();
        if (result instanceof HttpError) throw result;
        if (result instanceof MetricsText) {
          headers = METRICS_HEADERS;
          body = result.text;
        } else {
          body = JSON.stringify(result);
        }
      }
    } catch (error) {
      ({ status, body } = errorResponse(error));
      headers = JSON_HEADERS;
    }
    // With Content-Length the answer goes out in one write (without it, writeHead()
    // commits to chunked encoding: more bytes and a writev per response).
    response.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
    response.end(body);
    metrics.observe(routeName, status, (performance.now() - started) / 1000);
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

function errorResponse(error: unknown): { status: number; body: string } {
  if (error instanceof HttpError) return { status: error.status, body: JSON.stringify({ error: error.message }) };
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

/** A time: milliseconds since the epoch, or an ISO-8601 date. */
function timeParam(query: Query, name: string): number | undefined {
  const value = query.get(name);
  if (value === undefined) return undefined;
  if (/^\d{1,16}$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new HttpError(400, `${name} must be milliseconds since the epoch or an ISO-8601 time, received ${JSON.stringify(value)}`);
  return ms;
}
