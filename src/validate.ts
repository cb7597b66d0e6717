/**
 * Argument validation, done once here before anything reaches C++ (docs/contract.md section 1):
 * a TypeError for a wrong type, a RangeError for a bad value, each naming the argument
 * and what was received.
 */

import { parseDuration, type Duration } from './duration.js';
import { rangeError, rangeErrorWith, typeError, unknownOptionError } from './errors.js';
import { INGEST_OPTION_NAMES, type IngestReport } from './ingest.js';

/**
 * What "now" is for Q2 and Q3 when a query does not name it (docs/semantics.md, "Time"):
 * - 'stream' (default): the log's own time, running on with the wall clock while no
 *   event arrives: the wall clock minus the smallest lag seen between an event's time
 *   and its arrival (never below the watermark).
 * - 'wall': the wall clock.
 * - 'watermark': the newest event time; it moves only when events arrive (exact,
 *   repeatable answers for a replay).
 */
export type Clock = 'stream' | 'wall' | 'watermark';
const CLOCKS = ['stream', 'wall', 'watermark'] as const;

/** Default caps, chosen so that memory stays bounded on an endless stream of new keys (README, "Memory"). */
export const DEFAULT_MAX_PAGES = 1_000_000;
export const DEFAULT_MAX_USERS = 1_000_000;
/** Default maxFutureSkew: 10 minutes. */
export const DEFAULT_MAX_FUTURE_SKEW = 10 * 60_000;

export interface ActivityIndexOptions {
  /** Users kept per page for Q1, 1 .. 100,000. Default 30. */
  usersPerPage?: number;
  /** Pages kept per user for Q2, 1 .. 1,000,000. Default 1000. */
  pagesPerUser?: number;
  /** How far back Q2 reaches, and when user entries expire. Default '30m'. */
  userWindow?: Duration;
  /** Page entries older than this (behind the watermark) expire. Default: never. */
  pageWindow?: Duration;
  /** How long a view keeps its user on the page for Q3. Default and maximum: userWindow. */
  presenceWindow?: Duration;
  /** Most pages kept; the least recently active is evicted past it. Default 1,000,000; Infinity lifts it. */
  maxPages?: number;
  /** Most users kept; the least recently active is evicted past it. Default 1,000,000; Infinity lifts it. */
  maxUsers?: number;
  /** Longest user or page key in UTF-8 bytes, 1 .. 65,535. Default 1024. */
  maxKeyBytes?: number;
  /** What "now" is by default: 'stream' (default), 'wall' or 'watermark'; see Clock. */
  clock?: Clock;
  /**
   * An event newer than the wall clock plus this is refused (it would move the
   * watermark ahead of real time for everyone). Default '10m'; Infinity turns the
   * check off (a replay of a log whose server clock ran ahead).
   */
  maxFutureSkew?: Duration;
  /**
   * The wall clock, ms since the epoch. Default Date.now. Not an option a snapshot
   * keeps: it is there so that tests can move time without sleeping.
   */
  now?: () => number;
}

/** Options with every default filled in; windows in ms, absent limits as Infinity. */
export interface ResolvedOptions {
  usersPerPage: number;
  pagesPerUser: number;
  userWindow: number;
  pageWindow: number;
  presenceWindow: number;
  maxPages: number;
  maxUsers: number;
  maxKeyBytes: number;
  clock: Clock;
  maxFutureSkew: number;
}

const OPTION_NAMES = new Set([
  'usersPerPage',
  'pagesPerUser',
  'userWindow',
  'pageWindow',
  'presenceWindow',
  'maxPages',
  'maxUsers',
  'maxKeyBytes',
  'clock',
  'maxFutureSkew',
  'now',
]);

export const MAX_SAFE_TIME = Number.MAX_SAFE_INTEGER;

/** An integer option or argument in [min, max]. */
export function checkInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw typeError(name, 'a number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    const upper = max === Number.MAX_SAFE_INTEGER ? '' : ` .. ${max}`;
    throw rangeError(name, `an integer ${upper ? `in ${min}${upper}` : `>= ${min}`}`, value);
  }
  return value;
}

/**
 * An options object (undefined is taken as {}) whose every own key is in `known`.
 * A non-object is a TypeError naming `name`; an unknown key a RangeError naming it
 * and the nearest known one ("options.windw is not an option of userPages() (did you
 * mean window?)").
 */
export function checkOptions(
  options: unknown,
  name: string,
  owner: string,
  known: ReadonlySet<string>,
): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw typeError(name, 'an object', options);
  }
  // for-in rather than Object.keys(): no array per call (userPages() checks its options on every query).
  for (const key in options) {
    if (!known.has(key) && Object.hasOwn(options, key)) throw unknownOptionError(name, key, owner, known);
  }
  return options as Record<string, unknown>;
}

/** One of a few strings: a TypeError for a non-string, a RangeError for another string. */
export function checkChoice<T extends string>(value: unknown, name: string, choices: readonly T[]): T {
  const list = choices.map((choice) => `'${choice}'`).join(', ');
  if (typeof value !== 'string') throw typeError(name, `one of ${list}`, value);
  if (!(choices as readonly string[]).includes(value)) throw rangeError(name, `one of ${list}`, value);
  return value as T;
}

/** A boolean option. */
export function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw typeError(name, 'a boolean', value);
  return value;
}

/** A non-empty string. */
export function checkNonEmptyString(value: unknown, name: string): string {
  if (typeof value !== 'string') throw typeError(name, 'a string', value);
  if (value.length === 0) throw rangeError(name, 'a non-empty string', value);
  return value;
}

/** The wall-clock option: a function, default Date.now. */
export function resolveWallClock(options: ActivityIndexOptions | undefined): () => number {
  const now = options?.now;
  if (now === undefined) return Date.now;
  if (typeof now !== 'function') throw typeError('options.now', 'a function returning ms since the epoch', now);
  return now;
}

/** A positive integer limit, or Infinity for none. */
function checkCap(value: unknown, name: string): number {
  if (value === Infinity) return Infinity;
  return checkInteger(value, name, 1, Number.MAX_SAFE_INTEGER);
}

export function resolveOptions(options: unknown): ResolvedOptions {
  const given = checkOptions(options, 'options', 'ActivityIndex', OPTION_NAMES);
  const pick = (key: string) => given[key];
  const userWindow = pick('userWindow') === undefined ? 30 * 60_000 : parseDuration(pick('userWindow'), 'options.userWindow');
  const presenceWindow =
    pick('presenceWindow') === undefined ? userWindow : parseDuration(pick('presenceWindow'), 'options.presenceWindow');
  if (presenceWindow > userWindow) {
    throw rangeError('options.presenceWindow', `at most userWindow (${userWindow} ms)`, pick('presenceWindow'));
  }
  const clock = pick('clock') === undefined ? 'stream' : checkChoice(pick('clock'), 'options.clock', CLOCKS);
  const optional = (key: string, fallback: number, read: (value: unknown, name: string) => number) =>
    pick(key) === undefined ? fallback : read(pick(key), `options.${key}`);
  return {
    usersPerPage: optional('usersPerPage', 30, (v, n) => checkInteger(v, n, 1, 100_000)),
    pagesPerUser: optional('pagesPerUser', 1000, (v, n) => checkInteger(v, n, 1, 1_000_000)),
    userWindow,
    pageWindow: optional('pageWindow', Infinity, (v, n) => (v === Infinity ? Infinity : parseDuration(v, n))),
    presenceWindow,
    maxPages: optional('maxPages', DEFAULT_MAX_PAGES, checkCap),
    maxUsers: optional('maxUsers', DEFAULT_MAX_USERS, checkCap),
    maxKeyBytes: optional('maxKeyBytes', 1024, (v, n) => checkInteger(v, n, 1, 65_535)),
    clock,
    maxFutureSkew: optional('maxFutureSkew', DEFAULT_MAX_FUTURE_SKEW, (v, n) => (v === Infinity ? Infinity : parseDuration(v, n))),
  };
}

/**
 * A user or page key to record: a non-empty, well-formed string of at most
 * maxKeyBytes UTF-8 bytes.
 */
export function checkKey(value: unknown, name: string, maxKeyBytes: number): string {
  if (typeof value !== 'string') throw typeError(name, 'a string', value);
  if (value.length === 0) throw rangeError(name, 'a non-empty string', value);
  // A UTF-16 unit takes at most 3 UTF-8 bytes, so short strings need no count.
  if (value.length * 3 > maxKeyBytes && Buffer.byteLength(value, 'utf8') > maxKeyBytes) {
    throw rangeError(name, `at most ${maxKeyBytes} UTF-8 bytes (maxKeyBytes)`, value);
  }
  if (!value.isWellFormed()) throw rangeError(name, 'well-formed UTF-16 (it has a lone surrogate)', value);
  return value;
}

/**
 * A key to look up: any string. Returns false for a string that no stored key can
 * equal (a lone surrogate), which is then simply not found.
 */
export function checkQueryKey(value: unknown, name: string): boolean {
  if (typeof value !== 'string') throw typeError(name, 'a string', value);
  return value.isWellFormed();
}

/** A time: ms since the epoch as a safe integer >= 0, or a Date. */
export function checkTime(value: unknown, name: string): number {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number') throw typeError(name, 'a number of milliseconds or a Date', value);
  if (!Number.isSafeInteger(ms) || ms < 0) throw rangeError(name, 'a safe integer >= 0 (ms since the epoch)', value);
  return ms;
}

/**
 * A live source's options: its own (`own`) and the ingest options, which go on to
 * the index's createIngestStream() and are checked there. Unknown names are a
 * RangeError naming the source (`owner`, such as 'follow()').
 */
export function checkSourceOptions(options: unknown, owner: string, own: readonly string[]): Record<string, unknown> {
  return checkOptions(options, 'options', owner, new Set([...own, ...INGEST_OPTION_NAMES]));
}

/** Where a followed file's input to an index ends (follower.position(), docs/persistence.md). */
export interface FollowPosition {
  kind: 'follow';
  /** The path followed, as given. */
  path: string;
  /** The file's identity: device and inode. */
  dev: number;
  ino: number;
  /** The byte offset after the last whole line the index holds. */
  offset: number;
  /** The follower's report up to there. */
  report: IngestReport;
}

/** A duration option, in ms. */
export function checkDurationOption(value: unknown, name: string): number {
  return parseDuration(value, name);
}

/** follow()'s `from`: 'start', 'end' or a duration (ms). */
export function checkFollowStart(value: unknown, name: string): 'start' | 'end' | number {
  if (value === 'start' || value === 'end') return value;
  if (typeof value !== 'string' && typeof value !== 'number') throw typeError(name, "'start', 'end' or a duration", value);
  try {
    return parseDuration(value, name);
  } catch {
    throw rangeError(name, "'start', 'end' or a duration such as '30m'", value);
  }
}

function checkReport(value: unknown, name: string): IngestReport {
  if (value === null || typeof value !== 'object') throw typeError(name, 'an ingest report', value);
  const report = value as Record<string, unknown>;
  for (const field of ['lines', 'accepted', 'rejected', 'late']) checkInteger(report[field], `${name}.${field}`, 0, MAX_SAFE_TIME);
  if (report.reasons === null || typeof report.reasons !== 'object') throw typeError(`${name}.reasons`, 'an object', report.reasons);
  if (!Array.isArray(report.samples)) throw typeError(`${name}.samples`, 'an array', report.samples);
  return value as IngestReport;
}

/** A stored follow position, as a snapshot gives it back. */
export function checkFollowPosition(value: unknown, name: string): FollowPosition {
  if (value === null || typeof value !== 'object') throw typeError(name, 'a follow position', value);
  const position = value as Record<string, unknown>;
  if (position.kind !== 'follow') throw rangeError(`${name}.kind`, "'follow'", position.kind);
  if (typeof position.path !== 'string') throw typeError(`${name}.path`, 'a string', position.path);
  checkInteger(position.dev, `${name}.dev`, 0, MAX_SAFE_TIME);
  checkInteger(position.ino, `${name}.ino`, 0, MAX_SAFE_TIME);
  checkInteger(position.offset, `${name}.offset`, 0, MAX_SAFE_TIME);
  checkReport(position.report, `${name}.report`);
  return value as FollowPosition;
}

/** A stored JetStream position. */
export interface JetStreamPosition {
  kind: 'jetstream';
  stream: string;
  /** The filter subject, if any. */
  subject: string | null;
  /** The stream sequence of the last message the index holds. */
  sequence: number;
  report: IngestReport;
}

export function checkJetStreamPosition(value: unknown, name: string): JetStreamPosition {
  if (value === null || typeof value !== 'object') throw typeError(name, 'a JetStream position', value);
  const position = value as Record<string, unknown>;
  if (position.kind !== 'jetstream') throw rangeError(`${name}.kind`, "'jetstream'", position.kind);
  if (typeof position.stream !== 'string') throw typeError(`${name}.stream`, 'a string', position.stream);
  if (position.subject !== null && typeof position.subject !== 'string') throw typeError(`${name}.subject`, 'a string or null', position.subject);
  checkInteger(position.sequence, `${name}.sequence`, 0, MAX_SAFE_TIME);
  checkReport(position.report, `${name}.report`);
  return value as JetStreamPosition;
}
