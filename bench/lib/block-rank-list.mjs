// A sorted list of (ts, key) entries in ascending rank (the lowest-ranked first, the
// highest last), stored as a list of small blocks — the "sorted containers" idea. A plain
// sorted array costs a memmove of the whole tail per insert or removal in the middle
// (12 µs at 9,000 entries in V8); a block costs at most MAX_BLOCK moves, and finding
// the block is a binary search over the blocks' last entries.
//
// Rank order is SPEC section 2: higher ts ranks higher; on equal ts the byte-wise
// SMALLER key ranks higher. Entries are unique by (ts, key).

import { compareKeys } from './keys.mjs';

const MAX_BLOCK = 128;

/** Negative when (ta, ka) ranks BELOW (tb, kb), 0 when equal. */
export function rankCmp(ta, ka, tb, kb) {
  if (ta !== tb) return ta - tb;
  return compareKeys(kb, ka);
}

export class BlockRankList {
  constructor() {
    /** Blocks in ascending rank; each { k: string[], t: number[] }, never empty. */
    this.blocks = [];
    this.size = 0;
  }

  /** Index of the first block whose last entry ranks at or above (t, key); blocks.length if none. */
  #blockFor(t, key) {
    const blocks = this.blocks;
    let lo = 0;
    let hi = blocks.length;
    // Fast path: most writes are the newest entry, at the very end.
    if (hi > 0) {
      const b = blocks[hi - 1];
      const n = b.k.length;
      if (rankCmp(b.t[n - 1], b.k[n - 1], t, key) < 0) return hi;
    }
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const b = blocks[mid];
      const n = b.k.length;
      if (rankCmp(b.t[n - 1], b.k[n - 1], t, key) < 0) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /** First index in block b whose entry ranks at or above (t, key). */
  static #lowerBound(b, t, key) {
    let lo = 0;
    let hi = b.k.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (rankCmp(b.t[mid], b.k[mid], t, key) < 0) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  insert(t, key) {
    const blocks = this.blocks;
    this.size++;
    if (blocks.length === 0) { blocks.push({ k: [key], t: [t] }); return; }
    let bi = this.#blockFor(t, key);
    if (bi === blocks.length) {
      const last = blocks[bi - 1];
      if (last.k.length < MAX_BLOCK) { last.k.push(key); last.t.push(t); } else blocks.push({ k: [key], t: [t] });
      return;
    }
    const b = blocks[bi];
    const i = BlockRankList.#lowerBound(b, t, key);
    b.k.splice(i, 0, key);
    b.t.splice(i, 0, t);
    if (b.k.length > MAX_BLOCK) {
      const half = b.k.length >>> 1;
      blocks.splice(bi + 1, 0, { k: b.k.splice(half), t: b.t.splice(half) });
    }
  }

  /** Removes (t, key) if present; returns whether it was. */
  remove(t, key) {
    const bi = this.#blockFor(t, key);
    if (bi === this.blocks.length) return false;
    const b = this.blocks[bi];
    const i = BlockRankList.#lowerBound(b, t, key);
    if (i >= b.k.length || b.k[i] !== key || b.t[i] !== t) return false;
    if (i === b.k.length - 1) { b.k.pop(); b.t.pop(); } else { b.k.splice(i, 1); b.t.splice(i, 1); }
    if (b.k.length === 0) this.blocks.splice(bi, 1);
    this.size--;
    return true;
  }

  lastKey() { const b = this.blocks[this.blocks.length - 1]; return b === undefined ? undefined : b.k[b.k.length - 1]; }
  lastTs() { const b = this.blocks[this.blocks.length - 1]; return b === undefined ? undefined : b.t[b.t.length - 1]; }
  firstTs() { const b = this.blocks[0]; return b === undefined ? undefined : b.t[0]; }

  /** Removes the lowest-ranked entry; returns its key. REQUIRES: size > 0. */
  removeFirst() {
    const b = this.blocks[0];
    const key = b.k.shift();
    b.t.shift();
    if (b.k.length === 0) this.blocks.shift();
    this.size--;
    return key;
  }

  /** Removes entries with ts < minTs (they are at the front); calls onDrop(key) for each. */
  trimBefore(minTs, onDrop) {
    while (this.blocks.length > 0) {
      const b = this.blocks[0];
      if (b.t[0] >= minTs) return;
      if (b.t[b.t.length - 1] < minTs) {
        if (onDrop) for (const k of b.k) onDrop(k);
        this.size -= b.k.length;
        this.blocks.shift();
        continue;
      }
      let n = 0;
      while (b.t[n] < minTs) n++;
      const dropped = b.k.splice(0, n);
      b.t.splice(0, n);
      if (onDrop) for (const k of dropped) onDrop(k);
      this.size -= n;
      return;
    }
  }

  /**
   * Up to `limit` entries with lo <= ts <= hi, highest-ranked first, as objects
   * { [keyName]: key, ts }.
   */
  top(limit, lo, hi, keyName) {
    const out = [];
    for (let bi = this.blocks.length - 1; bi >= 0; bi--) {
      const b = this.blocks[bi];
      for (let i = b.k.length - 1; i >= 0; i--) {
        const t = b.t[i];
        if (t > hi) continue;
        if (t < lo || out.length >= limit) return out;
        out.push(keyName === 'user' ? { user: b.k[i], ts: t } : { page: b.k[i], ts: t });
      }
    }
    return out;
  }

  /** How many entries have ts >= lo. */
  countAtLeast(lo) {
    let count = 0;
    for (let bi = this.blocks.length - 1; bi >= 0; bi--) {
      const b = this.blocks[bi];
      if (b.t[0] >= lo) { count += b.t.length; continue; }
      for (let i = b.t.length - 1; i >= 0 && b.t[i] >= lo; i--) count++;
      break;
    }
    return count;
  }
}
