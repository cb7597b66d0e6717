/**
 * Merging the shards' answers (docs/contract.md section 2's rank). Every user lives on one shard, so
 * a page's top k over the whole cluster is the top k of the union of each shard's top
 * k: a user in the global top k is in its own shard's top k.
 */

import type { UserView } from '../activity-index.js';

/**
 * Compares two strings in the order of their UTF-8 bytes (Buffer.compare), without
 * encoding them: UTF-16 order differs from it only where a surrogate (a code point
 * above U+FFFF) meets a unit in U+E000..U+FFFF, which sorts below it in UTF-8.
 */
export function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Surrogates (D800..DFFF) rank above E000..FFFF; move them past it.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** The contract's rank (docs/contract.md section 2): later first; on equal times, the byte-wise smaller user first. */
export function compareUserRank(a: UserView, b: UserView): number {
  return b.ts - a.ts || compareUtf8(a.user, b.user);
}

/** The top `k` rows, in rank order, of lists that are each in rank order. */
export function mergeTopK(lists: readonly (readonly UserView[])[], k: number): UserView[] {
  const nonEmpty = lists.filter((list) => list.length > 0);
  if (nonEmpty.length === 0) return [];
  if (nonEmpty.length === 1) return nonEmpty[0]!.slice(0, k);
  // k-way merge by cursor: a few lists of at most k rows each.
  const cursors = new Array<number>(nonEmpty.length).fill(0);
  const out: UserView[] = [];
  while (out.length < k) {
    let best = -1;
    for (let i = 0; i < nonEmpty.length; i++) {
      const row = nonEmpty[i]![cursors[i]!];
      if (row !== undefined && (best < 0 || compareUserRank(row, nonEmpty[best]![cursors[best]!]!) < 0)) best = i;
    }
    if (best < 0) break;
    out.push(nonEmpty[best]![cursors[best]!++]!);
  }
  return out;
}
