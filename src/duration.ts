/** Durations: milliseconds as a number, or a string such as '500ms', '90s', '30m', '2h', '1d'. */

import { rangeError, typeError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

export type Duration = number | string;

/**
 * Converts a duration to whole milliseconds. Throws a TypeError for a value that is
 * neither a number nor a string, and a RangeError unless the result is a positive safe
 * integer.
 */
export function parseDuration(value: unknown, name: string): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const match = DURATION.exec(value.trim());
    if (match === null) throw rangeError(name, "a duration such as '90s', '30m', '2h' or '1d'", value);
    ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  } else {
    throw typeError(name, 'a number of milliseconds or a duration string', value);
  }
  if (!Number.isSafeInteger(ms) || ms <= 0) throw rangeError(name, 'a positive whole number of milliseconds', value);
  return ms;
}
