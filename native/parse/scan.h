// Shared byte scanners of the log parsers: the field and quote finders every text
// format uses, and small digit helpers. Header-only and inline: they sit in the
// innermost loop of every line.
//
// Every function takes a range [p, end) and reads no byte outside it. SSE2 (every
// x86-64) scans 16 bytes per step; elsewhere, or with SKIPTRAIL_NO_SIMD (the native
// tests build both), portable 8-byte SWAR code does the same work.
#ifndef SKIPTRAIL_PARSE_SCAN_H_
#define SKIPTRAIL_PARSE_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../dcheck.h"

#if defined(__SSE2__) && !defined(SKIPTRAIL_NO_SIMD)
#define SKIPTRAIL_SSE2 1
#include <emmintrin.h>
#endif

namespace skiptrail {

// ---------------------------------------------------------------------------------
// Byte helpers. The 8-byte tests are exact as booleans ("some byte matches"), which is
// all they are used for: a hit drops to a byte loop that finds the byte itself.

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighs = 0x8080808080808080ULL;

inline uint64_t Load8(const char* p) {
  uint64_t x;
  std::memcpy(&x, p, 8);
  return x;
}
// Nonzero iff some byte of x is below n. REQUIRES: n <= 128.
inline uint64_t HasByteBelow(uint64_t x, unsigned char n) {
  SKIPTRAIL_DCHECK(n <= 128);
  return (x - kOnes * n) & ~x & kHighs;
}
// Nonzero iff some byte of x equals c.
inline uint64_t HasByte(uint64_t x, unsigned char c) { return HasByteBelow(x ^ (kOnes * c), 1); }

inline bool IsDigit(char c) { return static_cast<unsigned char>(c - '0') < 10; }

// Two ASCII digits at s as 0..99, or -1.
inline int Digits2(const char* s) {
  unsigned a = static_cast<unsigned char>(s[0] - '0'), b = static_cast<unsigned char>(s[1] - '0');
  return (a < 10 && b < 10) ? static_cast<int>(a * 10 + b) : -1;
}

inline int Digits4(const char* s) {
  int hi = Digits2(s), lo = Digits2(s + 2);
  return (hi < 0 || lo < 0) ? -1 : hi * 100 + lo;
}

// The first byte of [p, end) equal to c, or null: memchr, inlined for the short
// distances of a log line's fields (a libc call costs more than the search).
inline const char* FindByte(const char* p, const char* end, char c) {
#if defined(SKIPTRAIL_SSE2)
  const __m128i vc = _mm_set1_epi8(c);
  for (; end - p >= 16; p += 16) {
    const unsigned hit = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), vc)));
    if (hit != 0) return p + __builtin_ctz(hit);
  }
  for (; p < end; ++p) {
    if (*p == c) return p;
  }
  return nullptr;
#else
  return static_cast<const char*>(std::memchr(p, c, end - p));
#endif
}

// The first byte of [p, end) equal to a, b or c, or end. Clears *printable if a byte
// before it is outside 0x20..0x7E. 16 bytes per step with SSE2, 8 without.
inline const char* ScanField(const char* p, const char* end, char a, char b, char c, bool* printable) {
#if defined(SKIPTRAIL_SSE2)
  const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b), vc = _mm_set1_epi8(c);
  const __m128i v20 = _mm_set1_epi8(0x20), v7f = _mm_set1_epi8(0x7F);
  while (end - p >= 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const unsigned stop = static_cast<unsigned>(_mm_movemask_epi8(
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)), _mm_cmpeq_epi8(x, vc))));
    // Signed compare: below 0x20 or at least 0x80.
    const unsigned odd = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmplt_epi8(x, v20), _mm_cmpeq_epi8(x, v7f))));
    if (stop != 0) {
      const unsigned at = static_cast<unsigned>(__builtin_ctz(stop));
      if (odd & ((1u << at) - 1)) *printable = false;
      return p + at;
    }
    if (odd != 0) *printable = false;
    p += 16;
  }
#else
  for (;;) {
    while (end - p >= 8) {
      const uint64_t x = Load8(p);
      if (HasByte(x, a) | HasByte(x, b) | HasByte(x, c) | (x & kHighs) | HasByteBelow(x, 0x20) |
          HasByte(x, 0x7F)) {
        break;
      }
      p += 8;
    }
    if (end - p < 8) break;
    for (const char* block_end = p + 8; p < block_end; ++p) {
      const char ch = *p;
      if (ch == a || ch == b || ch == c) return p;
      if (static_cast<unsigned char>(ch - 0x20) >= 0x5F) *printable = false;
    }
  }
#endif
  for (; p < end; ++p) {
    const char ch = *p;
    if (ch == a || ch == b || ch == c) return p;
    if (static_cast<unsigned char>(ch - 0x20) >= 0x5F) *printable = false;
  }
  return end;
}

// ---------------------------------------------------------------------------------
// Quoted fields and tokens.

// The closing '"' of a quoted field whose body starts at p: the first '"' not escaped by
// an odd run of backslashes (Apache writes \" and \\; nginx writes \x22). Null if none.
// Linear: each backslash is counted once, for the quote that ends its run.
inline const char* FindClosingQuote(const char* p, const char* end) {
  const char* body = p;
  while (p < end) {
    const char* q = FindByte(p, end, '"');
    if (q == nullptr) return nullptr;
    size_t backslashes = 0;
    for (const char* b = q; b > body && b[-1] == '\\'; --b) ++backslashes;
    if (backslashes % 2 == 0) return q;
    p = q + 1;
  }
  return nullptr;
}

// The end of a field that ends at the next ' ' or at end.
inline const char* SpaceOrEnd(const char* p, const char* end) {
  while (p < end && *p != ' ') ++p;
  return p;
}

// RFC 9110 tchar, the characters of a method token.
struct TokenCharTable {
  bool is_tchar[256] = {};
  TokenCharTable() {
    for (int c = 0; c < 256; ++c) {
      is_tchar[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    (c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
    }
  }
};
inline const TokenCharTable kTokenChars;


}  // namespace skiptrail

#endif  // SKIPTRAIL_PARSE_SCAN_H_
