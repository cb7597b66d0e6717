/** Error helpers: one wording for every message, so that they name what was wrong. */

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

export function typeError(name: string, expected: string, received: unknown): TypeError {
  return new TypeError(`${name} must be ${expected}, received ${describe(received)}`);
}

export function rangeError(name: string, expected: string, received: unknown): RangeError {
  return new RangeError(`${name} must be ${expected}, received ${describe(received)}`);
}

export function closedError(): Error {
  return new Error('ActivityIndex is closed');
}
