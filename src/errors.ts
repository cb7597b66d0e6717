/**
 * Error helpers: one wording for every message, so that they name what was wrong, and
 * an `argument` property on every validation error, so that a program (the CLI, the
 * HTTP layer) can tell which argument was wrong without reading the message.
 */

import { closest, distance } from 'fastest-levenshtein';

/** A TypeError or RangeError thrown by validation, naming its argument. */
export type ArgumentError = (TypeError | RangeError) & {
  /** The argument as the message names it: 'ts', 'events[3].ts', 'options.window'. */
  readonly argument: string;
};

/** A short, safe description of a received value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `the string ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} ${String(value)}`;
  }
  if (value instanceof Date) return `Date ${Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()}`;
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

function withArgument<E extends Error>(error: E, argument: string): E & { readonly argument: string } {
  Object.defineProperty(error, 'argument', { value: argument, enumerable: true });
  return error as E & { readonly argument: string };
}

export function typeError(name: string, expected: string, received: unknown): ArgumentError {
  return withArgument(new TypeError(`${name} must be ${expected}, received ${describe(received)}`), name);
}

export function rangeError(name: string, expected: string, received: unknown): ArgumentError {
  return withArgument(new RangeError(`${name} must be ${expected}, received ${describe(received)}`), name);
}

/** A RangeError with a message of its own, naming `name` as its argument. */
export function rangeErrorWith(name: string, message: string): ArgumentError {
  return withArgument(new RangeError(message), name);
}

/** Whether `error` is a validation error that names its argument. */
export function isArgumentError(error: unknown): error is ArgumentError {
  return (
    (error instanceof TypeError || error instanceof RangeError) && typeof (error as { argument?: unknown }).argument === 'string'
  );
}

/**
 * The name in `known` nearest to `typed` when it is close enough to be a typo
 * (at most a third of its letters differ, and at most 3), else undefined.
 */
export function nearest(typed: string, known: Iterable<string>): string | undefined {
  const names = [...known];
  if (names.length === 0) return undefined;
  const best = closest(typed, names);
  const limit = Math.min(3, Math.max(1, Math.floor(typed.length / 3)));
  return distance(typed.toLowerCase(), best.toLowerCase()) <= limit ? best : undefined;
}

/**
 * The RangeError for an option name that `owner` does not take:
 * "options.windw is not an option of userPages() (did you mean window?)".
 */
export function unknownOptionError(prefix: string, key: string, owner: string, known: Iterable<string>): ArgumentError {
  const suggestion = nearest(key, known);
  const hint = suggestion === undefined ? `; its options are ${[...known].join(', ')}` : ` (did you mean ${suggestion}?)`;
  return rangeErrorWith(`${prefix}.${key}`, `${prefix}.${key} is not an option of ${owner}${hint}`);
}

export function closedError(): Error {
  return new Error('ActivityIndex is closed');
}

/** Why a snapshot could not be loaded (docs/persistence.md). */
export type SnapshotErrorCode = 'ENOTSNAPSHOT' | 'ECHECKSUM' | 'EVERSION' | 'EOPTIONS' | 'ETRUNCATED';

/**
 * A snapshot file that cannot be loaded: `code` says why, for programs to branch on;
 * the message says what exactly, naming the file.
 */
export class SnapshotError extends Error {
  readonly code: SnapshotErrorCode;
  readonly path: string;

  constructor(code: SnapshotErrorCode, path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.name = 'SnapshotError';
    this.code = code;
    this.path = path;
  }
}
