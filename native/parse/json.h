// JSON scanning for the JSON line formats: RFC 8259 syntax checked byte by byte, with
// no tree built. Every function takes [p, end) and returns a position, or null when the
// text is not valid JSON.
#ifndef SKIPTRAIL_PARSE_JSON_H_
#define SKIPTRAIL_PARSE_JSON_H_

#include <cstdint>
#include <string>

namespace skiptrail {

inline const char* SkipJsonWs(const char* p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  return p;
}

// p is just past an opening '"'. Returns the closing '"'; sets *escaped if the body
// holds a backslash escape and clears *printable if it holds a byte >= 0x7F. Null for
// a raw control byte (< 0x20), a bad escape or no closing quote. Bytes >= 0x80 are not
// validated here.
const char* ScanJsonString(const char* p, const char* end, bool* escaped, bool* printable);

// Replaces *dst with the decoded body [p, end) of a string ScanJsonString accepted.
// \uD83D\uDE00 pairs become one 4-byte character. Returns false if the body held a
// lone surrogate escape (written as U+FFFD so the output is still UTF-8).
bool DecodeJsonString(const char* p, const char* end, std::string* dst);

// Skips one JSON value of any kind, checking its syntax. Iterative: *nesting (scratch,
// cleared first) is the stack of open containers, so depth is bounded by the line,
// not the C++ stack.
const char* SkipJsonValue(const char* p, const char* end, std::string* nesting);

// A JSON number token [p, end) read as a time. shift is the power of ten that turns its
// unit into ms (s: 3, ms: 0, us: -3, ns: -6). The value must be an integer in its own
// unit unless allow_fraction; digits below a ms are truncated. Exact (no floating
// point), whatever the spelling. False for a fraction not allowed, a negative value or
// a time above kMaxTimeMs.
bool JsonNumberToMs(const char* p, const char* end, int shift, bool allow_fraction, int64_t* ms);

}  // namespace skiptrail

#endif  // SKIPTRAIL_PARSE_JSON_H_
