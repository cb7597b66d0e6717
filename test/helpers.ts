// Shared by the example tests: an index that is closed when its test ends, and small
// constants and helpers for times and keys.
import { onTestFinished } from 'vitest';
import { ActivityIndex } from '../src/index.js';

export type IndexOptions = ConstructorParameters<typeof ActivityIndex>[0];

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/**
 * A fresh index, closed when the current test finishes. Its wall clock stands still
 * (frozenClock) unless the test gives `now` or `clock: 'wall'`: the default 'stream'
 * clock then reads the watermark, so answers depend on the events alone, however
 * loaded the machine (test/time.test.ts moves clocks by hand).
 */
export function openIndex(options?: IndexOptions): ActivityIndex {
  const standStill = options?.now === undefined && options?.clock !== 'wall';
  const index = new ActivityIndex(standStill ? { now: frozenClock, ...options } : options);
  onTestFinished(() => index.close());
  return index;
}

/** UTF-8 byte length of a string. */
export function utf8Bytes(key: string): number {
  return Buffer.byteLength(key, 'utf8');
}

/** Sorts keys by their UTF-8 bytes, the order SPEC section 1 prescribes. */
export function byteOrder(keys: readonly string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/**
 * A wall clock that stands still after every time the tests record (2^50 ms, in the
 * year 37,648). Under it the default 'stream' clock reads exactly the watermark, as
 * during a replay at full speed, so answers are repeatable; and no test time is
 * "in the future" (maxFutureSkew).
 */
export const FROZEN_WALL = 2 ** 50;
export const frozenClock = (): number => FROZEN_WALL;

/** A wall clock a test moves by hand: `clock.now` is what the index reads. */
export class ManualClock {
  constructor(public now: number) {}
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}
