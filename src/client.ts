/**
 * createClient({ url }): the ActivityIndex methods, asynchronous, against a running
 * `skiptrail serve` or `skiptrail gateway` over its HTTP API (docs/http.md). Several
 * processes (cluster workers, PM2, containers) then share one index.
 *
 * Arguments are checked here with the library's own rules before any request, so a
 * mistake is the same TypeError or RangeError as from ActivityIndex (as a rejected
 * promise). What only the server knows (usersPerPage, userWindow, maxKeyBytes) comes
 * back as a 400, rejected as a RangeError with the server's message. Anything else
 * that goes wrong is a ClientError naming the server.
 *
 * Requests go over keep-alive connections of an undici Pool (measured against
 * node:http's keep-alive Agent on this project's /pages/:page/users route: 1.1-2.2x
 * the requests per second; see docs/api.md). undici is loaded on the first request,
 * so importing skiptrail does not load it.
 */

import type { Pool } from 'undici';
import type { ActivityStats, PageView, UserPagesOptions, UserView, ViewEvent } from './activity-index.js';
import { parseDuration } from './duration.js';
import { rangeError, rangeErrorWith, typeError } from './errors.js';
import { checkInteger, checkKey, checkOptions, checkQueryKey, checkTime, MAX_SAFE_TIME } from './validate.js';

export interface ClientOptions {
  /** The server: 'http://127.0.0.1:8080' (a path prefix is kept: 'http://host/skiptrail'). */
  url: string | URL;
  /** Milliseconds to wait for each answer (connecting included). Default 5000. */
  timeout?: number;
  /** Keep-alive connections kept open to the server at most. Default 8. */
  connections?: number;
  /** Headers sent with every request (an authorization token, for example). */
  headers?: Record<string, string>;
}

/** The ActivityIndex methods a client offers, each answering a promise. */
export interface ActivityClient {
  /** The server's base URL, as requests use it. */
  readonly url: string;
  record(user: string, page: string, ts?: number | Date): Promise<void>;
  /** Records a batch in one request; all or nothing, as ActivityIndex#recordMany. */
  recordMany(events: Iterable<ViewEvent>): Promise<number>;
  lastUsers(page: string, k?: number): Promise<UserView[]>;
  userPages(user: string, options?: UserPagesOptions): Promise<PageView[]>;
  onlineUsers(page: string, k?: number): Promise<UserView[]>;
  onlineCount(page?: string): Promise<number>;
  stats(): Promise<ActivityStats>;
  /** Closes the connections once the requests in flight are answered. */
  close(): Promise<void>;
}

export type ClientErrorCode =
  /** No answer within `timeout`. */
  | 'ETIMEDOUT'
  /** The connection failed (refused, reset, closed). */
  | 'ECONNECTION'
  /** The server answered an error status (its message is quoted). */
  | 'EHTTP'
  /** The gateway could not reach a partition (503 with code EPARTITION). */
  | 'EPARTITION'
  /** The client was closed. */
  | 'ECLOSED';

/** A request that failed for another reason than the caller's arguments. */
export class ClientError extends Error {
  override name = 'ClientError';
  constructor(
    message: string,
    readonly code: ClientErrorCode,
    /** The server's base URL. */
    readonly server: string,
    /** The HTTP status, when the server answered. */
    readonly status?: number,
    /** For EPARTITION: the partitions the gateway could not reach. */
    readonly partitions?: number[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_CONNECTIONS = 8;
const USER_PAGES_PARAMETERS: ReadonlySet<string> = new Set(['window', 'limit', 'now']);
const CLIENT_OPTIONS: ReadonlySet<string> = new Set(['url', 'timeout', 'connections', 'headers']);
/** Keys may be longer on the server than this only if it says so; it checks again. */
const LARGEST_KEY_BYTES = 65_535;

/** Creates a client; no connection is made before the first request. */
export function createClient(options: ClientOptions): ActivityClient {
  if (options === null || typeof options !== 'object') throw typeError('options', 'an object', options);
  checkOptions(options, 'options', 'createClient()', CLIENT_OPTIONS);
  let base: URL;
  try {
    base = new URL(String(options.url));
  } catch {
    throw new TypeError(`options.url must be an http:// URL such as 'http://127.0.0.1:8080', received ${JSON.stringify(String(options.url))}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new RangeError(`options.url must be an http:// or https:// URL, received ${JSON.stringify(base.href)}`);
  }
  const timeout = options.timeout === undefined ? DEFAULT_TIMEOUT_MS : checkInteger(options.timeout, 'options.timeout', 1, 3_600_000);
  const connections =
    options.connections === undefined ? DEFAULT_CONNECTIONS : checkInteger(options.connections, 'options.connections', 1, 1024);
  const prefix = base.pathname.replace(/\/+$/, '');
  const server = `${base.origin}${prefix}`;
  const headers = { ...options.headers };

  let pool: Promise<Pool> | null = null;
  let closed = false;
  const open = (): Promise<Pool> => {
    pool ??= import('undici').then(
      ({ Pool }) => new Pool(base.origin, { connections, headersTimeout: timeout, bodyTimeout: timeout, connectTimeout: timeout }),
    );
    return pool;
  };

  /** One request; resolves with the parsed JSON of a 2xx answer. */
  async function call(method: 'GET' | 'POST', path: string, body?: string, badEvents?: (line: number) => string): Promise<any> {
    if (closed) throw new ClientError(`skiptrail client for ${server} is closed`, 'ECLOSED', server);
    const connection = await open();
    const what = `${method} ${server}${path}`;
    let status: number;
    let text: string;
    try {
      const response = await connection.request({
        method,
        path: prefix + path,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body }),
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      throw transportError(error, what, server, timeout);
    }
    let answer: any;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new ClientError(`${what}: answered ${status} with a body that is not JSON: ${text.slice(0, 120)}`, 'EHTTP', server, status);
    }
    if (status >= 200 && status < 300) return answer;
    const message = typeof answer?.error === 'string' ? answer.error : text.slice(0, 200);
    // The server's check of an argument only it can check (k, window, key length).
    if (status === 400) {
      const first = Array.isArray(answer?.errors) ? answer.errors[0] : undefined;
      if (badEvents !== undefined && typeof first?.line === 'number' && typeof first.error === 'string') {
        const prefix = badEvents(first.line);
        throw rangeErrorWith(`${prefix}${first.argument ?? 'event'}`, `${prefix}${first.error}`);
      }
      // The server names query parameters (?window=); the library names options.window.
      const parameter = typeof answer?.parameter === 'string' ? answer.parameter : undefined;
      if (parameter !== undefined && USER_PAGES_PARAMETERS.has(parameter) && message.startsWith(parameter)) {
        throw rangeErrorWith(`options.${parameter}`, `options.${message}`);
      }
      throw rangeErrorWith(parameter ?? 'argument', message);
    }
    if (answer?.code === 'EPARTITION') {
      throw new ClientError(`${what}: ${message}`, 'EPARTITION', server, status, Array.isArray(answer.partitions) ? answer.partitions : undefined);
    }
    throw new ClientError(`${what}: ${status} ${message}`, 'EHTTP', server, status);
  }

  const pagePath = (page: string, what: string) => `/pages/${encodeURIComponent(page)}/${what}`;

  return {
    url: server,
    async record(user, page, ts) {
      checkKey(user, 'user', LARGEST_KEY_BYTES);
      checkKey(page, 'page', LARGEST_KEY_BYTES);
      const time = ts === undefined ? Date.now() : checkTime(ts, 'ts');
      await call('POST', '/views', JSON.stringify({ user, page, ts: time }), () => '');
    },
    async recordMany(events) {
      if (events === null || typeof events !== 'object' || typeof (events as any)[Symbol.iterator] !== 'function') {
        throw typeError('events', 'an iterable of { user, page, ts }', events);
      }
      const list = Array.from(events, (event, i) => {
        if (event === null || typeof event !== 'object') throw typeError(`events[${i}]`, 'an object', event);
        return {
          user: checkKey(event.user, `events[${i}].user`, LARGEST_KEY_BYTES),
          page: checkKey(event.page, `events[${i}].page`, LARGEST_KEY_BYTES),
          ts: checkTime(event.ts, `events[${i}].ts`),
        };
      });
      if (list.length === 0) return 0;
      return (await call('POST', '/views', JSON.stringify(list), (line) => `events[${line - 1}].`)).recorded;
    },
    async lastUsers(page, k) {
      const mayExist = checkQueryKey(page, 'page');
      // The upper bound is the server's usersPerPage: it checks k (0 included) itself.
      if (k !== undefined && !(Number.isSafeInteger(k) && k >= 0)) {
        if (typeof k !== 'number') throw typeError('k', 'a number', k);
        throw rangeError('k', "an integer in 1 .. usersPerPage (the server's option)", k);
      }
      if (!mayExist) return [];
      return (await call('GET', pagePath(page, 'users') + (k === undefined ? '' : `?k=${k}`))).users;
    },
    async userPages(user, options = {}) {
      const mayExist = checkQueryKey(user, 'user');
      checkOptions(options, 'options', 'userPages()', USER_PAGES_PARAMETERS);
      const query: string[] = [];
      if (options.window !== undefined) {
        parseDuration(options.window, 'options.window');
        // As given, so that the server's "at most userWindow" message quotes it as the library would.
        query.push(`window=${encodeURIComponent(String(options.window))}`);
      }
      if (options.limit !== undefined) query.push(`limit=${checkInteger(options.limit, 'options.limit', 1, MAX_SAFE_TIME)}`);
      if (options.now !== undefined) query.push(`now=${checkTime(options.now, 'options.now')}`);
      if (!mayExist) return [];
      return (await call('GET', `/users/${encodeURIComponent(user)}/pages${query.length === 0 ? '' : `?${query.join('&')}`}`)).pages;
    },
    async onlineUsers(page, k = 30) {
      const mayExist = checkQueryKey(page, 'page');
      checkInteger(k, 'k', 1, MAX_SAFE_TIME);
      if (!mayExist) return [];
      return (await call('GET', `${pagePath(page, 'online')}?k=${k}`)).users;
    },
    async onlineCount(page) {
      if (page === undefined) return (await call('GET', '/online')).count;
      if (!checkQueryKey(page, 'page')) return 0;
      return (await call('GET', `${pagePath(page, 'online')}?k=1`)).count;
    },
    async stats() {
      const { index } = await call('GET', '/stats');
      return { ...index, watermark: index.watermark ?? -Infinity };
    },
    async close() {
      closed = true;
      if (pool !== null) await (await pool).close();
    },
  };
}

/** A failed request as a ClientError: timed out, or the connection failed. */
function transportError(error: unknown, what: string, server: string, timeout: number): ClientError {
  const code = (error as { code?: string })?.code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new ClientError(`${what}: no answer within ${timeout} ms`, 'ETIMEDOUT', server, undefined, undefined, { cause: error });
  }
  if (code === 'UND_ERR_DESTROYED' || code === 'UND_ERR_CLOSED') {
    return new ClientError(`skiptrail client for ${server} is closed`, 'ECLOSED', server, undefined, undefined, { cause: error });
  }
  const detail = (error as Error)?.message ?? String(error);
  return new ClientError(`${what}: ${code ? `${code} ` : ''}${detail}`, 'ECONNECTION', server, undefined, undefined, { cause: error });
}
