/**
 * Log ingestion options and reports (docs/contract.md section 5; docs/ingest.md). Parsing happens
 * in C++; this file validates the options once and describes what comes back.
 */

import { rangeError, rangeErrorWith, typeError } from './errors.js';
import { checkPartition } from './partition.js';
import { addon } from './binding.js';
import { checkBoolean, checkChoice, checkInteger, checkNonEmptyString, checkOptions } from './validate.js';

export type LogFormat = 'combined' | 'common' | 'ndjson' | 'vhost_combined' | 'caddy' | 'traefik' | 'w3c' | 'alb';
/** An Apache mod_log_config LogFormat string or an nginx log_format string, compiled once natively. */
export type LogFormatString = { apache: string } | { nginx: string };
/** The native side's name for the format family. */
export type NativeFormat = 'combined' | 'common' | 'ndjson' | 'vhost_combined' | 'caddy' | 'traefik' | 'apache' | 'nginx' | 'w3c' | 'alb';
export type UserField = 'host' | 'authuser' | 'authuser|host';
export type TimeUnit = 'ms' | 's' | 'us' | 'ns';
export type RejectReason =
  | 'malformed'
  | 'bad-time'
  | 'bad-status'
  | 'filtered'
  | 'key-too-long'
  | 'bad-encoding'
  | 'line-too-long'
  | 'other-partition'
  | 'future'
  | 'method'
  | 'static'
  | 'crawler'
  | 'no-fields';

/** The reasons of sound lines that are simply not page views: counted, never sampled, not errors. */
export const FILTER_REASONS: readonly RejectReason[] = ['filtered', 'other-partition', 'method', 'static', 'crawler'];

export interface IngestOptions {
  /**
   * 'combined' (default), 'common', 'ndjson', 'vhost_combined', 'caddy' (Caddy v2's JSON
   * access log), 'traefik' (Traefik's JSON access log), 'w3c' (IIS, CloudFront), 'alb'
   * (AWS Application Load Balancer), or { apache: '%h ...' } / { nginx: '$remote_addr ...' }.
   */
  format?: LogFormat | LogFormatString;
  /**
   * combined/common: which field is the user, 'host' (default), 'authuser' or 'authuser|host'.
   * vhost_combined, apache, nginx: directives in order of preference, '|'-separated
   * ('%{X-Forwarded-For}i|%h', '$cookie_uid|$remote_addr'); default the client address.
   * w3c: W3C field names, '|'-separated, among c-ip, cs-username and x-forwarded-for;
   * default 'cs-username|c-ip'.
   */
  user?: UserField | string;
  /** Text formats, caddy, traefik: keep the query string in the page. Default false. */
  keepQuery?: boolean;
  /**
   * Statuses that count as a page load (text formats, caddy, traefik, and ndjson with
   * fields.status). Default { min: 200, max: 399 }.
   */
  statuses?: { min: number; max: number } | readonly number[];
  /**
   * JSON formats: where each field is, as member paths ('request.uri'; '\\.' a literal
   * dot) with '|' between alternatives ('request.client_ip|request.remote_ip'). ndjson's
   * defaults are user, page and ts, and no status, method or agent; caddy and traefik
   * have their own (docs/ingest.md), which a given path replaces. method and agent are
   * read by the view rules (methods, ignoreCrawlers).
   */
  fields?: { user?: string; page?: string; ts?: string; status?: string; method?: string; agent?: string };
  /**
   * JSON formats: the unit of a numeric ts: 'ms' (ndjson and traefik's default), 's' (a
   * fraction allowed; caddy's default), 'us' or 'ns'.
   */
  tsUnit?: TimeUnit;
  /**
   * The methods that count as a page view, exact bytes (HTTP methods are
   * case-sensitive), or 'any'. Default ['GET']. Other lines are rejected as 'method'.
   * A format without a method (ndjson without fields.method) cannot take this option.
   */
  methods?: readonly string[] | 'any';
  /** Drop pages whose extension is in staticExtensions, as 'static'. Default true. */
  ignoreStatic?: boolean;
  /** The static extensions, replacing DEFAULT_STATIC_EXTENSIONS ('css' or '.css', any case). */
  staticExtensions?: readonly string[];
  /**
   * Drop lines whose user agent holds a crawlers token, or is empty or '-', as
   * 'crawler'. Default true. A format without an agent (common, ndjson without
   * fields.agent) cannot take it.
   */
  ignoreCrawlers?: boolean;
  /** The crawler tokens, replacing DEFAULT_CRAWLERS (case-insensitive substrings of the agent). */
  crawlers?: readonly string[];
  /** Each line is an RFC 3164 / RFC 5424 syslog frame around the log line; strip it. Default false. */
  syslog?: boolean;
  /** A longer user or page is rejected as key-too-long. Default and maximum: the index's maxKeyBytes. */
  maxKeyBytes?: number;
  /** A longer line is rejected as line-too-long without being buffered. Default 65,536. */
  maxLineBytes?: number;
  /**
   * A shard's filter: index only the views whose user is in partition `index` of
   * `count` (partitionOf); the others are rejected as other-partition, and their
   * times still move the watermark. Default: every view.
   */
  partition?: { index: number; count: number };
}

export interface RejectedLine {
  /** 1-based line number in the input, empty lines included. */
  line: number;
  reason: RejectReason;
  /** The line's first 200 bytes, cut back to a whole character. */
  text: string;
}

export interface IngestReport {
  lines: number;
  accepted: number;
  rejected: number;
  late: number;
  reasons: Partial<Record<RejectReason, number>>;
  samples: RejectedLine[];
}

/** The options object the native side reads (native/ingest-wrap.h). */
export interface NativeIngestOptions {
  format: NativeFormat;
  user: UserField;
  /** apache/nginx: the format string; vhost_combined: '' (the native side knows it). */
  formatText: string;
  /** vhost_combined/apache/nginx/w3c: the user list; '' for the format's default. */
  userList: string;
  keepQuery: boolean;
  statusMin: number;
  statusMax: number;
  statuses: number[] | undefined;
  /** JSON formats: field specs; '' for the format's default. */
  userField: string;
  pageField: string;
  tsField: string;
  statusField: string;
  methodField: string;
  agentField: string;
  /** '' for the format's default. */
  tsUnit: TimeUnit | '';
  syslog: boolean;
  /** The view rules (native/parse/view-rules.h); [] turns a rule off. */
  methods: string[];
  staticExtensions: string[];
  crawlers: string[];
  maxKeyBytes: number;
  maxLineBytes: number;
  partitions?: number;
  partition?: number;
}

/** Every ingest option's name (sources take these besides their own). */
export const INGEST_OPTION_NAMES: ReadonlySet<string> = new Set([
  'format',
  'user',
  'keepQuery',
  'statuses',
  'fields',
  'tsUnit',
  'syslog',
  'methods',
  'ignoreStatic',
  'staticExtensions',
  'ignoreCrawlers',
  'crawlers',
  'maxKeyBytes',
  'maxLineBytes',
  'partition',
]);

const defaultRules = addon.defaultViewRules();
/** The methods counted by default: a reader's browser loads a page with GET. */
export const DEFAULT_METHODS: readonly string[] = Object.freeze(['GET']);
/** The extensions dropped as static assets by default (lower-case, without the dot). */
export const DEFAULT_STATIC_EXTENSIONS: readonly string[] = Object.freeze(defaultRules.staticExtensions);
/** The user-agent tokens dropped as crawlers by default (lower-case, matched case-insensitively). */
export const DEFAULT_CRAWLERS: readonly string[] = Object.freeze(defaultRules.crawlers);
const FORMATS = ['combined', 'common', 'ndjson', 'vhost_combined', 'caddy', 'traefik', 'w3c', 'alb'] as const;
const TEXT_FORMATS: readonly NativeFormat[] = ['combined', 'common', 'vhost_combined', 'apache', 'nginx', 'w3c', 'alb'];
/** ALB's user is always the client address: it has no user option. */
const USER_FORMATS: readonly NativeFormat[] = TEXT_FORMATS.filter((f) => f !== 'alb');
const USER_FIELDS = ['host', 'authuser', 'authuser|host'] as const;
const JSON_FORMATS: readonly NativeFormat[] = ['ndjson', 'caddy', 'traefik'];
const FIELD_NAMES: ReadonlySet<string> = new Set(['user', 'page', 'ts', 'status', 'method', 'agent']);
const TIME_UNITS = ['ms', 's', 'us', 'ns'] as const;

/**
 * The options that apply to some formats only, and those formats. Giving one with
 * another format is a RangeError naming both: it would otherwise be silently ignored.
 */
const FORMAT_SPECIFIC: Record<string, readonly NativeFormat[]> = {
  user: USER_FORMATS,
  keepQuery: [...TEXT_FORMATS, 'caddy', 'traefik'],
  statuses: [...TEXT_FORMATS, 'caddy', 'traefik'],
  fields: JSON_FORMATS,
  tsUnit: JSON_FORMATS,
};

/** Validates ingest options against an index whose maxKeyBytes is `indexMaxKeyBytes`. */
export function resolveIngestOptions(options: unknown, indexMaxKeyBytes: number): NativeIngestOptions {
  const given = checkOptions(options, 'options', 'ingest', INGEST_OPTION_NAMES);
  const { format, formatText } = checkFormat(given.format);
  // ndjson reads a status only when told where it is.
  const ndjsonStatus = format === 'ndjson' && (given.fields as { status?: unknown } | undefined)?.status !== undefined;
  for (const [key, formats] of Object.entries(FORMAT_SPECIFIC)) {
    if (key === 'statuses' && ndjsonStatus) continue;
    if (given[key] !== undefined && !formats.includes(format)) {
      if (key === 'statuses' && format === 'ndjson') {
        throw rangeErrorWith('options.statuses', "options.statuses does not apply to format 'ndjson' without a status path (options.fields.status)");
      }
      throw rangeErrorWith(
        `options.${key}`,
        `options.${key} does not apply to format '${format}' (it is an option of ${formats.map((f) => `'${f}'`).join(' and ')})`,
      );
    }
  }
  const compiled = format === 'apache' || format === 'nginx' || format === 'vhost_combined' || format === 'w3c';
  let userList = '';
  if (compiled && given.user !== undefined) userList = checkNonEmptyString(given.user, 'options.user');
  if (compiled) {
    const error = addon.checkLogFormat(format as 'apache' | 'nginx' | 'vhost_combined' | 'w3c', formatText, userList);
    if (error !== null) {
      const blamesUser = error.startsWith('user ');
      throw rangeErrorWith(blamesUser ? 'options.user' : 'options.format', `${blamesUser ? 'options.user' : 'options.format'}: ${error}`);
    }
  }
  const resolved: NativeIngestOptions = {
    format,
    user: given.user === undefined || compiled ? 'host' : checkChoice(given.user, 'options.user', USER_FIELDS),
    formatText,
    userList,
    keepQuery: false,
    statusMin: 200,
    statusMax: 399,
    statuses: undefined,
    userField: '',
    pageField: '',
    tsField: '',
    statusField: '',
    methodField: '',
    agentField: '',
    tsUnit: '',
    syslog: false,
    ...resolveViewRules(given, format, formatText, userList),
    maxKeyBytes: indexMaxKeyBytes,
    maxLineBytes: 64 * 1024,
  };
  if (given.keepQuery !== undefined) resolved.keepQuery = checkBoolean(given.keepQuery, 'options.keepQuery');
  const statuses = given.statuses;
  if (Array.isArray(statuses)) {
    if (statuses.length === 0) throw rangeError('options.statuses', 'a non-empty array of status codes', statuses);
    resolved.statuses = statuses.map((code, i) => checkInteger(code, `options.statuses[${i}]`, 100, 599));
  } else if (statuses !== undefined) {
    if (typeof statuses !== 'object' || statuses === null) {
      throw typeError('options.statuses', 'an array of status codes or { min, max }', statuses);
    }
    const range = statuses as { min?: unknown; max?: unknown };
    resolved.statusMin = checkInteger(range.min, 'options.statuses.min', 100, 599);
    resolved.statusMax = checkInteger(range.max, 'options.statuses.max', resolved.statusMin, 599);
  }
  if (given.fields !== undefined) {
    const fields = checkOptions(given.fields, 'options.fields', "ndjson's fields", FIELD_NAMES);
    if (fields.user !== undefined) resolved.userField = checkFieldSpec(fields.user, 'options.fields.user');
    if (fields.page !== undefined) resolved.pageField = checkFieldSpec(fields.page, 'options.fields.page');
    if (fields.ts !== undefined) resolved.tsField = checkFieldSpec(fields.ts, 'options.fields.ts');
    if (fields.status !== undefined) resolved.statusField = checkFieldSpec(fields.status, 'options.fields.status');
    if (fields.method !== undefined) resolved.methodField = checkFieldSpec(fields.method, 'options.fields.method');
    if (fields.agent !== undefined) resolved.agentField = checkFieldSpec(fields.agent, 'options.fields.agent');
  }
  if (given.tsUnit !== undefined) resolved.tsUnit = checkChoice(given.tsUnit, 'options.tsUnit', TIME_UNITS);
  if (given.syslog !== undefined) resolved.syslog = checkBoolean(given.syslog, 'options.syslog');
  if (given.maxKeyBytes !== undefined) {
    resolved.maxKeyBytes = checkInteger(given.maxKeyBytes, 'options.maxKeyBytes', 1, indexMaxKeyBytes);
  }
  if (given.maxLineBytes !== undefined) {
    resolved.maxLineBytes = checkInteger(given.maxLineBytes, 'options.maxLineBytes', 1, 1 << 30);
  }
  if (given.partition !== undefined) {
    const { index, count } = checkPartition(given.partition, 'options.partition');
    resolved.partitions = count;
    resolved.partition = index;
  }
  return resolved;
}

/** A JSON field spec: member paths with '|' between alternatives (native/parse/json-fields.h). */
function checkFieldSpec(value: unknown, name: string): string {
  const spec = checkNonEmptyString(value, name);
  const error = addon.checkJsonField(spec);
  if (error !== null) throw rangeErrorWith(name, `${name}: ${error}`);
  return spec;
}

/** Which fields the view rules read a format logs (`fields`: the options' JSON paths, unchecked). */
function formatTraits(format: NativeFormat, formatText: string, userList: string, fields: unknown): { method: boolean; agent: boolean } {
  switch (format) {
    case 'combined': return { method: true, agent: true };
    case 'common': return { method: true, agent: false };
    // Caddy logs request.method and request.headers; Traefik RequestMethod, and
    // request_User-Agent when its headers are kept (a line without one passes the
    // agent part). ndjson has them when told where they are.
    case 'caddy':
    case 'traefik': return { method: true, agent: true };
    case 'ndjson': {
      const paths = typeof fields === 'object' && fields !== null ? (fields as { method?: unknown; agent?: unknown }) : {};
      return { method: paths.method !== undefined, agent: paths.agent !== undefined };
    }
    // W3C: cs-method and cs(User-Agent) when the file's #Fields: lists them, which is
    // known only from the file: the options are taken, and a line of a #Fields: without
    // the field passes that rule (docs/ingest.md). ALB: the request's method, user_agent.
    case 'w3c':
    case 'alb': return { method: true, agent: true };
    default: return addon.logFormatTraits(format, formatText, userList);
  }
}

const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/** A non-empty array of strings, each passing `check` (which returns the kept form). */
function checkStringList(value: unknown, name: string, what: string, check: (item: string, itemName: string) => string): string[] {
  if (!Array.isArray(value)) throw typeError(name, `an array of ${what}`, value);
  if (value.length === 0) throw rangeError(name, `a non-empty array of ${what}`, value);
  return value.map((item, i) => {
    if (typeof item !== 'string') throw typeError(`${name}[${i}]`, 'a string', item);
    return check(item, `${name}[${i}]`);
  });
}

/**
 * methods, ignoreStatic, staticExtensions, ignoreCrawlers, crawlers: what counts as a
 * page view (docs/semantics.md). An option about a field the format does not log is a
 * RangeError, like any option of another format.
 */
function resolveViewRules(
  given: Record<string, unknown>,
  format: NativeFormat,
  formatText: string,
  userList: string,
): Pick<NativeIngestOptions, 'methods' | 'staticExtensions' | 'crawlers'> {
  const traits = formatTraits(format, formatText, userList, given.fields);
  const inapplicable = (key: string, field: string) =>
    format === 'ndjson'
      ? rangeErrorWith(
          `options.${key}`,
          `options.${key} does not apply to format 'ndjson' without ${field === 'method' ? 'a method path (options.fields.method)' : 'an agent path (options.fields.agent)'}`,
        )
      : rangeErrorWith(`options.${key}`, `options.${key} does not apply to format '${format}': its lines have no ${field}`);
  let methods = [...DEFAULT_METHODS];
  if (given.methods !== undefined) {
    if (!traits.method) throw inapplicable('methods', 'method');
    if (given.methods === 'any') {
      methods = [];
    } else if (typeof given.methods === 'string') {
      throw rangeError('options.methods', "an array of methods or 'any'", given.methods);
    } else {
      methods = checkStringList(given.methods, 'options.methods', 'methods', (item, itemName) => {
        if (!HTTP_TOKEN.test(item)) throw rangeError(itemName, 'an HTTP method (letters, digits and !#$%&\'*+-.^_`|~)', item);
        return item;
      });
    }
  }
  const ignoreStatic = given.ignoreStatic === undefined ? true : checkBoolean(given.ignoreStatic, 'options.ignoreStatic');
  let staticExtensions = ignoreStatic ? [...DEFAULT_STATIC_EXTENSIONS] : [];
  if (given.staticExtensions !== undefined) {
    if (!ignoreStatic) throw rangeErrorWith('options.staticExtensions', 'options.staticExtensions has no effect with ignoreStatic: false');
    staticExtensions = checkStringList(given.staticExtensions, 'options.staticExtensions', 'extensions', (item, itemName) => {
      const extension = item.startsWith('.') ? item.slice(1) : item;
      if (!/^[A-Za-z0-9_+~-]{1,15}$/.test(extension)) {
        throw rangeError(itemName, "an extension such as 'css' or '.css' (1 to 15 letters, digits, _+~-)", item);
      }
      return extension.toLowerCase();
    });
  }
  if (given.ignoreCrawlers !== undefined || given.crawlers !== undefined) {
    if (!traits.agent) throw inapplicable(given.ignoreCrawlers !== undefined ? 'ignoreCrawlers' : 'crawlers', 'user agent');
  }
  const ignoreCrawlers = given.ignoreCrawlers === undefined ? true : checkBoolean(given.ignoreCrawlers, 'options.ignoreCrawlers');
  let crawlers = ignoreCrawlers && traits.agent ? [...DEFAULT_CRAWLERS] : [];
  if (given.crawlers !== undefined) {
    if (!ignoreCrawlers) throw rangeErrorWith('options.crawlers', 'options.crawlers has no effect with ignoreCrawlers: false');
    crawlers = checkStringList(given.crawlers, 'options.crawlers', 'user-agent tokens', (item, itemName) => {
      if (!PRINTABLE_ASCII.test(item) || item.length > 256) {
        throw rangeError(itemName, 'a token of 1 to 256 printable ASCII characters', item);
      }
      return item.toLowerCase();
    });
  }
  return { methods, staticExtensions, crawlers };
}

/** options.format: a name, or { apache } / { nginx } with a format string. */
function checkFormat(value: unknown): { format: NativeFormat; formatText: string } {
  if (value === undefined) return { format: 'combined', formatText: '' };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const dialect = keys[0];
    if (keys.length !== 1 || (dialect !== 'apache' && dialect !== 'nginx')) {
      throw rangeErrorWith('options.format', `options.format must be a format name or { apache: string } or { nginx: string }, received keys ${JSON.stringify(keys)}`);
    }
    return { format: dialect, formatText: checkNonEmptyString((value as Record<string, unknown>)[dialect], `options.format.${dialect}`) };
  }
  return { format: checkChoice(value, 'options.format', FORMATS), formatText: '' };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Log text as bytes. A lone surrogate has no UTF-8 form; rather than let it become
 * U+FFFD silently (what Buffer.from does), it is written as its 3-byte generalized
 * UTF-8 sequence, which is invalid UTF-8, so the line holding it is rejected as
 * bad-encoding, as record() would reject the key and as a "\ud800" JSON escape is.
 */
export function encodeLogText(text: string): Buffer {
  if (text.isWellFormed()) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let last = 0;
  for (const match of text.matchAll(LONE_SURROGATE)) {
    const at = match.index!;
    const unit = text.charCodeAt(at);
    parts.push(Buffer.from(text.slice(last, at), 'utf8'));
    parts.push(Buffer.from([0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]));
    last = at + 1;
  }
  parts.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(parts);
}
