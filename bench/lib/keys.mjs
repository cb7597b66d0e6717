// Byte-wise UTF-8 key order (the order of Buffer.compare), and SPEC section 2 ranking.

/**
 * Compares two well-formed JS strings in the order of their UTF-8 bytes.
 * UTF-16 code-unit order equals UTF-8 byte order except between a surrogate
 * (U+D800..U+DFFF, i.e. a code point above U+FFFF) and a unit in U+E000..U+FFFF:
 * at the first differing unit, surrogates are moved above that range.
 * Returns a negative number, 0 or a positive number.
 */
export function compareKeys(a, b) {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

/** True when entry (ta, ka) ranks above (tb, kb): larger ts, then byte-wise smaller key. */
export function ranksAbove(ta, ka, tb, kb) {
  return ta > tb || (ta === tb && compareKeys(ka, kb) < 0);
}

/** Sorts [key, ts] pairs in place into rank order: ts desc, then key byte-wise asc. */
export function sortByRank(pairs) {
  return pairs.sort((p, q) => (q[1] - p[1]) || compareKeys(p[0], q[0]));
}
