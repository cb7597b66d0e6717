/**
 * partitionOf(user, partitions): which partition of a cluster owns a user's views.
 *
 * The contract, a wire format shared by publishers, shards, gateways and clients in
 * any language (like Redis Cluster's keyHashSlot): the 32-bit FNV-1a hash of the
 * user's UTF-8 bytes, exactly as stored, modulo the number of partitions —
 *
 *   h = 2166136261; for each byte b: h = (h ^ b) * 16777619 mod 2^32; partition = h % N
 *
 * — the hash of NATS's own partition() subject mapping. native/partition.h computes the
 * same for the shards' native filter; test/partition.test.ts pins both to published
 * FNV-1a test vectors. It never changes: another function is another cluster layout.
 */

import { rangeError, typeError } from './errors.js';
import { checkInteger } from './validate.js';

/** The most partitions a cluster may have (native/partition.h kMaxPartitions). */
export const MAX_PARTITIONS = 65_536;

const encoder = new TextEncoder();

/** FNV-1a, 32 bits, of a string's UTF-8 bytes. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  // ASCII needs no encoding; anything else is hashed from its UTF-8 bytes.
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x80) {
      ascii = false;
      break;
    }
    h = Math.imul(h ^ unit, 0x01000193);
  }
  if (ascii) return h >>> 0;
  h = 0x811c9dc5;
  for (const byte of encoder.encode(text)) h = Math.imul(h ^ byte, 0x01000193);
  return h >>> 0;
}

/**
 * The partition, 0 .. partitions - 1, that owns `user`'s views. `user` must be a
 * well-formed string (a lone surrogate has no UTF-8 bytes; such a key is never stored).
 */
export function partitionOf(user: string, partitions: number): number {
  if (typeof user !== 'string') throw typeError('user', 'a string', user);
  if (!user.isWellFormed()) throw rangeError('user', 'well-formed UTF-16 (it has a lone surrogate)', user);
  checkInteger(partitions, 'partitions', 1, MAX_PARTITIONS);
  return fnv1a32(user) % partitions;
}

/** A shard's place in a cluster: partition `index` of `count`. */
export interface PartitionSpec {
  index: number;
  count: number;
}

/** Checks a { index, count } given as an option named `name`. */
export function checkPartition(value: unknown, name: string): PartitionSpec {
  if (value === null || typeof value !== 'object') throw typeError(name, 'an object { index, count }', value);
  const { index, count } = value as { index?: unknown; count?: unknown };
  const checkedCount = checkInteger(count, `${name}.count`, 1, MAX_PARTITIONS);
  return { index: checkInteger(index, `${name}.index`, 0, checkedCount - 1), count: checkedCount };
}

/**
 * Parses "I/N" (a flag's value): partition I of N, 0 <= I < N <= MAX_PARTITIONS.
 * Throws a RangeError naming `name` otherwise ("3/3", "x/2", "1").
 */
export function parsePartition(text: string, name: string): PartitionSpec {
  const match = /^(\d{1,5})\/(\d{1,5})$/.exec(text);
  if (match === null) throw rangeError(name, 'I/N, partition I of N counted from 0 (such as 0/3)', text);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || count > MAX_PARTITIONS) throw rangeError(name, `I/N with N in 1 .. ${MAX_PARTITIONS}`, text);
  if (index >= count) throw rangeError(name, `I/N with I in 0 .. N - 1 (partitions are counted from 0)`, text);
  return { index, count };
}
