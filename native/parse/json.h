// JSON scanning for the JSON line formats: RFC 8259 syntax checked byte by byte, with
// no tree built. Every function takes [p, end) and returns a position, or null when the
// text is not valid JSON.
#ifndef SKIPTRAIL_PARSE_JSON_H_
#define SKIPTRAIL_PARSE_JSON_H_

#include <cstdint>
#include <string>

#include "scan.h"

namespace skiptrail {

inline const char* SkipJsonWs(const char* p, const char* end) {
  // Compact JSON (what servers write) has none: one compare in the common case.
  while (p < end && static_cast<unsigned char>(*p) <= ' ' &&
         (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
    ++p;
  }
  return p;
}

// p is just past an opening '"'. Returns the closing '"'; sets *escaped if the body
// holds a backslash escape and clears *printable if it holds a byte >= 0x7F. Null for
// a raw control byte (< 0x20), a bad escape or no closing quote. Bytes >= 0x80 are not
// validated here.
const char* ScanJsonString(const char* p, const char* end, bool* escaped, bool* printable);

// ScanJsonString with its common case inline: a body whose first 16 bytes hold its
// closing quote and no backslash (member names, addresses, methods, short values).
// The same result for every input.
inline const char* ScanJsonStringInline(const char* p, const char* end, bool* escaped, bool* printable) {
#if defined(SKIPTRAIL_SSE2)
  if (end - p >= 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i below20 = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x);
    const unsigned stop = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))), below20)));
    const unsigned odd =
        static_cast<unsigned>(_mm_movemask_epi8(x) | _mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(0x7F))));
    if (stop == 0) {  // no quote, backslash or control byte: the rest from byte 16
      if (odd != 0) *printable = false;
      return ScanJsonString(p + 16, end, escaped, printable);
    }
    const unsigned at = static_cast<unsigned>(__builtin_ctz(stop));
    if (p[at] == '"') {
      if (odd & ((1u << at) - 1)) *printable = false;
      return p + at;
    }
  }
#endif
  return ScanJsonString(p, end, escaped, printable);
}

// The end of a JSON number token starting at p (-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?),
// or null if none starts there.
inline const char* ScanJsonNumber(const char* p, const char* end) {
  if (p < end && *p == '-') ++p;
  if (p == end) return nullptr;
  if (*p == '0') {
    ++p;
  } else if (IsDigit(*p)) {
    ++p;
    while (p < end && IsDigit(*p)) ++p;
  } else {
    return nullptr;
  }
  if (p < end && *p == '.') {
    ++p;
    if (p == end || !IsDigit(*p)) return nullptr;
    while (p < end && IsDigit(*p)) ++p;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (p == end || !IsDigit(*p)) return nullptr;
    while (p < end && IsDigit(*p)) ++p;
  }
  return p;
}

// Replaces *dst with the decoded body [p, end) of a string ScanJsonString accepted.
// \uD83D\uDE00 pairs become one 4-byte character. Returns false if the body held a
// lone surrogate escape (written as U+FFFD so the output is still UTF-8).
bool DecodeJsonString(const char* p, const char* end, std::string* dst);

// Skips one JSON value of any kind, checking its syntax. Iterative: *nesting (scratch,
// its contents not kept) holds the stack of open containers, so depth is bounded by the
// line, not the C++ stack.
const char* SkipJsonValue(const char* p, const char* end, std::string* nesting);

// A JSON number token [p, end) read as a time. shift is the power of ten that turns its
// unit into ms (s: 3, ms: 0, us: -3, ns: -6). The value must be an integer in its own
// unit unless allow_fraction; digits below a ms are truncated. Exact (no floating
// point), whatever the spelling. False for a fraction not allowed, a negative value or
// a time above kMaxTimeMs.
bool JsonNumberToMs(const char* p, const char* end, int shift, bool allow_fraction, int64_t* ms);

}  // namespace skiptrail

#endif  // SKIPTRAIL_PARSE_JSON_H_
