/**
 * Command-line flags shared by `skiptrail replay` and `skiptrail serve`: the index
 * options and the ingest options, their parseArgs definitions, and their conversion to
 * the library's option objects. A bad value is a UsageError (exit code 2) naming the flag.
 */

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ActivityIndex } from '../activity-index.js';
import { isArgumentError, nearest } from '../errors.js';
import { resolveIngestOptions } from '../ingest.js';
import type { IngestOptions } from '../sources/ingest-target.js';
import type { ActivityIndexOptions } from '../validate.js';

/** A mistake in the command line: reported with the command's usage hint, exit code 2. */
export class UsageError extends Error {}

/** Bad input found while starting (a bad --snapshot file): reported as is, exit code 2. */
export class StartupError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Index option flags: flag name → ActivityIndexOptions key. */
const INDEX_FLAGS = {
  'users-per-page': 'usersPerPage',
  'pages-per-user': 'pagesPerUser',
  'user-window': 'userWindow',
  'page-window': 'pageWindow',
  'presence-window': 'presenceWindow',
  'max-pages': 'maxPages',
  'max-users': 'maxUsers',
  'max-key-bytes': 'maxKeyBytes',
  clock: 'clock',
  'max-future-skew': 'maxFutureSkew',
} as const;

const INDEX_INTEGER_FLAGS = new Set(['users-per-page', 'pages-per-user', 'max-pages', 'max-users', 'max-key-bytes']);

export const INDEX_OPTIONS: Options = Object.fromEntries(Object.keys(INDEX_FLAGS).map((flag) => [flag, { type: 'string' }]));

export const INGEST_OPTIONS: Options = {
  format: { type: 'string' },
  'log-format': { type: 'string' },
  user: { type: 'string' },
  'keep-query': { type: 'boolean' },
  statuses: { type: 'string' },
  fields: { type: 'string' },
  'ts-unit': { type: 'string' },
  syslog: { type: 'boolean' },
  methods: { type: 'string' },
  'ignore-static': { type: 'boolean' },
  'count-static': { type: 'boolean' },
  'static-extensions': { type: 'string' },
  'ignore-crawlers': { type: 'boolean' },
  'count-crawlers': { type: 'boolean' },
  crawlers: { type: 'string' },
  'max-line-bytes': { type: 'string' },
};

export const INDEX_HELP = `Index options:
  --users-per-page N      users kept per page for Q1 (default 30)
  --pages-per-user N      pages kept per user for Q2 (default 1000)
  --user-window D         how far back Q2 reaches (default 30m)
  --page-window D         expire page entries older than this (default: never)
  --presence-window D     how long a view keeps a user online (default: --user-window)
  --max-pages N           evict the least recently active page past N (default 1000000;
                          Infinity lifts the cap)
  --max-users N           evict the least recently active user past N (default 1000000;
                          Infinity lifts the cap)
  --max-key-bytes N       longest user or page key in bytes (default 1024)
  --max-future-skew D     refuse events later than the wall clock + D (default 10m; off: Infinity)
  --clock C               what "now" is: stream (the log's time, running on with the
                          wall clock; serve's default), watermark (the newest event
                          time; replay's default) or wall
  A duration D needs its unit: 500ms, 90s, 30m, 2h or 1d.`;

export const INGEST_HELP = `Log format options:
  --format F              combined (default), common, ndjson, vhost_combined, caddy, traefik,
                          w3c (IIS, CloudFront) or alb (AWS Application Load Balancer)
  --log-format apache:F   an Apache LogFormat string ('apache:%h %l %u %t "%r" %>s %b')
  --log-format nginx:F    an nginx log_format string ('nginx:$remote_addr - [$time_local] "$request" $status')
  --user U                combined/common user field: host (default), authuser, authuser|host;
                          vhost_combined and apache: directives in order of preference,
                          e.g. '%u|%h' or '%{X-Forwarded-For}i|%h' (default %h); nginx:
                          variables, e.g. '$proxy_protocol_addr|$remote_addr' (default
                          $remote_addr); w3c: field names, e.g. cs-username|c-ip (default)
  --keep-query            keep ?query in the page (text formats, caddy, traefik)
  --statuses S            statuses that count as a page load: 200-399 (default) or 200,304
  --fields F              JSON member paths: user=uid,page=req.url,ts=time,status=code,
                          method=verb,agent=ua (method and agent feed --methods, --ignore-crawlers)
                          ('a.b' a nested member, 'a|b' alternatives, '\\.' a literal dot)
  --ts-unit U             JSON numeric ts unit: ms (ndjson, traefik), s (caddy), us or ns
  --syslog                strip an RFC 3164/5424 syslog frame from each line
  --max-line-bytes N      longer lines are rejected (default 65536)
What counts as a page view (docs/semantics.md):
  --methods M             methods that count: GET (default), a list such as GET,HEAD, or any
  --ignore-static         drop static files by extension (the default)
  --count-static          count them as page views
  --static-extensions L   the static extensions, replacing the default list: css,js,png
  --ignore-crawlers       drop crawlers, robots.txt and agent-less requests (the default;
                          combined, caddy, traefik and formats that log the User-Agent)
  --count-crawlers        count them as page views
  --crawlers L            user-agent tokens, replacing the default list: bot,curl/`;

/**
 * parseArgs with usage errors turned into UsageError. An unknown flag is answered
 * with the nearest valid one ("unknown flag --usr-window (did you mean --user-window?)").
 */
export function parse(args: string[], options: Options): { values: Values; positionals: string[] } {
  for (const arg of args) {
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') continue;
    const name = arg.startsWith('--') ? arg.slice(2).split('=', 1)[0]! : arg.slice(1, 2);
    if (options[name] !== undefined || Object.values(options).some((option) => option.short === name)) continue;
    const suggestion = nearest(name, Object.keys(options));
    const typed = arg.startsWith('--') ? `--${name}` : `-${name}`;
    throw new UsageError(`unknown flag ${typed}${suggestion === undefined ? '' : ` (did you mean --${suggestion}?)`}`);
  }
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: values as Values, positionals };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) throw new UsageError((error as Error).message);
    throw error;
  }
}

export function stringFlag(values: Values, flag: string): string | undefined {
  const value = values[flag];
  return typeof value === 'string' ? value : undefined;
}

export function listFlag(values: Values, flag: string): string[] {
  const value = values[flag];
  return Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
}

/** A non-negative decimal integer flag. */
export function integerFlag(values: Values, flag: string): number | undefined {
  const value = stringFlag(values, flag);
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new UsageError(`--${flag} must be a whole number, received ${JSON.stringify(value)}`);
  return Number(value);
}

/**
 * A duration flag: a number with its unit ('30s', '30m', '500ms'), handed to the
 * library as a string. A bare number is refused: `--user-window 30` would be 30 ms.
 */
export function durationFlag(values: Values, flag: string): string | undefined {
  const value = stringFlag(values, flag);
  if (value === undefined) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) {
    throw new UsageError(
      `--${flag} needs a unit: ${value.trim()}s, ${value.trim()}m, ${value.trim()}h, ${value.trim()}d or ${value.trim()}ms (received ${JSON.stringify(value)})`,
    );
  }
  return value;
}

/** The index options given by flags. */
export function indexOptions(values: Values): ActivityIndexOptions {
  const options: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(INDEX_FLAGS)) {
    const value = stringFlag(values, flag);
    if (value === undefined) continue;
    if (INDEX_INTEGER_FLAGS.has(flag)) options[key] = value === 'Infinity' ? Infinity : integerFlag(values, flag);
    else if (key === 'clock') options[key] = value;
    else if (value === 'Infinity' && (key === 'maxFutureSkew' || key === 'pageWindow')) options[key] = Infinity;
    else options[key] = durationFlag(values, flag);
  }
  return options as ActivityIndexOptions;
}

/**
 * Creates the index, turning an option error into a UsageError that names the flag.
 * `defaults` are the command's own defaults (replay's clock), which flags override.
 */
export function openIndex(values: Values, defaults: ActivityIndexOptions = {}): ActivityIndex {
  return withFlagNames(() => new ActivityIndex({ ...defaults, ...indexOptions(values) }));
}

/** Flags named after an option: option key → flag (without "--"). */
const OPTION_FLAGS: Record<string, string> = {
  ...Object.fromEntries(Object.entries(INDEX_FLAGS).map(([flag, key]) => [key, flag])),
  format: 'format',
  user: 'user',
  keepQuery: 'keep-query',
  statuses: 'statuses',
  fields: 'fields',
  methods: 'methods',
  ignoreStatic: 'count-static',
  staticExtensions: 'static-extensions',
  ignoreCrawlers: 'count-crawlers',
  crawlers: 'crawlers',
  maxLineBytes: 'max-line-bytes',
};

/**
 * Runs `run`; a validation error from the library becomes a UsageError naming the
 * flag the user typed (its `argument`, such as 'options.userWindow', names the
 * option: `--user-window must …`). `extra` maps more arguments to flags (a query's
 * 'k' or 'options.window').
 */
export function withFlagNames<T>(run: () => T, extra: Record<string, string> = {}): T {
  try {
    return run();
  } catch (error) {
    if (!isArgumentError(error)) throw error;
    const key = /^(?:options\.)?([A-Za-z]+)/.exec(error.argument)?.[1] ?? error.argument;
    const flag = extra[error.argument] ?? extra[key] ?? OPTION_FLAGS[key];
    if (flag === undefined) throw new UsageError(error.message);
    const rest = error.message.startsWith(error.argument) ? error.message.slice(error.argument.length) : `: ${error.message}`;
    throw new UsageError(`--${flag}${rest}`);
  }
}

const CLI_FORMATS = ['combined', 'common', 'ndjson', 'vhost_combined', 'caddy', 'traefik', 'w3c', 'alb'] as const;

/** The ingest options given by flags, checked enough to give a flag-named message. */
export function ingestOptions(values: Values, maxKeyBytes: number): IngestOptions {
  const options: IngestOptions = { maxKeyBytes };
  const format = stringFlag(values, 'format');
  if (format !== undefined) {
    if (!(CLI_FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format must be ${CLI_FORMATS.slice(0, -1).join(', ')} or ${CLI_FORMATS.at(-1)}, received ${JSON.stringify(format)}`);
    }
    options.format = format as (typeof CLI_FORMATS)[number];
  }
  const logFormat = stringFlag(values, 'log-format');
  if (logFormat !== undefined) {
    if (format !== undefined) throw new UsageError('--log-format and --format are alternatives: give one');
    const match = /^(apache|nginx):([^]+)$/.exec(logFormat);
    if (match === null) {
      throw new UsageError(`--log-format must be apache:FORMAT or nginx:FORMAT, received ${JSON.stringify(logFormat)}`);
    }
    options.format = match[1] === 'apache' ? { apache: match[2]! } : { nginx: match[2]! };
  }
  const compiled = logFormat !== undefined || format === 'vhost_combined' || format === 'w3c' || format === 'alb';
  const user = stringFlag(values, 'user');
  if (user !== undefined && compiled) {
    options.user = user;
  } else if (user !== undefined) {
    if (user !== 'host' && user !== 'authuser' && user !== 'authuser|host') {
      throw new UsageError(`--user must be host, authuser or authuser|host, received ${JSON.stringify(user)}`);
    }
    options.user = user;
  }
  if (values['keep-query'] === true) options.keepQuery = true;
  const statuses = stringFlag(values, 'statuses');
  if (statuses !== undefined) options.statuses = parseStatuses(statuses);
  const fields = stringFlag(values, 'fields');
  if (fields !== undefined) options.fields = parseFields(fields);
  const tsUnit = stringFlag(values, 'ts-unit');
  if (tsUnit !== undefined) {
    if (tsUnit !== 'ms' && tsUnit !== 's' && tsUnit !== 'us' && tsUnit !== 'ns') {
      throw new UsageError(`--ts-unit must be ms, s, us or ns, received ${JSON.stringify(tsUnit)}`);
    }
    options.tsUnit = tsUnit;
  }
  if (values.syslog === true) options.syslog = true;
  viewRuleFlags(values, options);
  const maxLineBytes = integerFlag(values, 'max-line-bytes');
  if (maxLineBytes !== undefined) options.maxLineBytes = maxLineBytes;
  // A format string's error names the flag as typed (--log-format), not the option's --format.
  if (logFormat !== undefined) withFlagNames(() => resolveIngestOptions(options, maxKeyBytes), { format: 'log-format' });
  return options;
}

/** --methods, --ignore-/--count-static, --static-extensions, --ignore-/--count-crawlers, --crawlers. */
function viewRuleFlags(values: Values, options: IngestOptions): void {
  const methods = stringFlag(values, 'methods');
  if (methods !== undefined) options.methods = methods === 'any' ? 'any' : listOf(methods, 'methods', 'GET,HEAD');
  for (const rule of ['static', 'crawlers'] as const) {
    const ignore = values[`ignore-${rule}`] === true;
    const count = values[`count-${rule}`] === true;
    if (ignore && count) throw new UsageError(`--ignore-${rule} and --count-${rule} contradict each other: give one`);
    if (ignore || count) options[rule === 'static' ? 'ignoreStatic' : 'ignoreCrawlers'] = ignore;
  }
  const extensions = stringFlag(values, 'static-extensions');
  if (extensions !== undefined) options.staticExtensions = listOf(extensions, 'static-extensions', 'css,js,png');
  const crawlers = stringFlag(values, 'crawlers');
  if (crawlers !== undefined) options.crawlers = listOf(crawlers, 'crawlers', 'bot,curl/');
}

/** A comma-separated flag value; an empty item is a UsageError. */
function listOf(text: string, flag: string, example: string): string[] {
  const items = text.split(',');
  if (items.some((item) => item === '')) throw new UsageError(`--${flag} must be a comma-separated list such as ${example}, received ${JSON.stringify(text)}`);
  return items;
}

function parseStatuses(text: string): IngestOptions['statuses'] {
  const range = /^(\d{3})-(\d{3})$/.exec(text);
  if (range !== null) {
    const min = Number(range[1]);
    const max = Number(range[2]);
    if (min > max) throw new UsageError(`--statuses range must run from low to high, received ${JSON.stringify(text)}`);
    return { min, max };
  }
  if (/^\d{3}(,\d{3})*$/.test(text)) return text.split(',').map(Number);
  throw new UsageError(`--statuses must be a range such as 200-399 or a list such as 200,304, received ${JSON.stringify(text)}`);
}

function parseFields(text: string): IngestOptions['fields'] {
  const fields: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const match = /^(user|page|ts|status|method|agent)=(.+)$/.exec(pair);
    if (match === null) {
      throw new UsageError(
        `--fields must look like user=uid,page=req.url,ts=time,status=code,method=verb,agent=ua, received ${JSON.stringify(text)}`,
      );
    }
    fields[match[1]!] = match[2]!;
  }
  return fields;
}
