#include "log-parser.h"

#include <cstring>

#include "dcheck.h"

// SSE2 (every x86-64) scans 16 bytes per step; elsewhere, or with SKIPTRAIL_NO_SIMD
// (the tests build both), portable 8-byte SWAR code does the same work.
#if defined(__SSE2__) && !defined(SKIPTRAIL_NO_SIMD)
#define SKIPTRAIL_SSE2 1
#include <emmintrin.h>
#endif

namespace skiptrail {

namespace {

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

// ---------------------------------------------------------------------------------
// Calendar (proleptic Gregorian, UTC).

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static const unsigned char kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 (Howard Hinnant's days_from_civil). REQUIRES: a valid date.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  SKIPTRAIL_DCHECK(m >= 1 && m <= 12 && d >= 1 && d <= DaysInMonth(static_cast<int>(y), m));
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// "Jan".."Dec" (exact case, as Apache and nginx write them) -> 1..12, else 0.
int MonthFromAbbrev(const char* s) {
  static const char kNames[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  for (int i = 0; i < 12; ++i) {
    if (std::memcmp(s, kNames + 3 * i, 3) == 0) return i + 1;
  }
  return 0;
}

// A UTC offset of sign*(hh:mm); valid when minutes < 60 and |offset| <= 14:00, the
// widest offset in use (UTC-12:00 .. UTC+14:00). Returns seconds east of UTC.
inline bool UtcOffsetSeconds(char sign, int hh, int mm, int64_t* seconds) {
  if ((sign != '+' && sign != '-') || hh < 0 || mm < 0 || mm >= 60 || hh * 60 + mm > 14 * 60) {
    return false;
  }
  *seconds = (sign == '-' ? -1 : 1) * int64_t{hh * 3600 + mm * 60};
  return true;
}

// ---------------------------------------------------------------------------------
// Key validation.

// kMalformed if a byte is below 0x20 or is 0x7F, else kBadEncoding if the bytes are not
// well-formed UTF-8 (Unicode table 3-7: no overlongs, no surrogates, <= U+10FFFF),
// else kNone. A control byte wins over bad encoding wherever each occurs.
RejectReason CheckKeyBytes(std::string_view key) {
  const char* s = key.data();
  const size_t n = key.size();
  bool bad_encoding = false;
  size_t i = 0;
  for (;;) {
    while (i + 8 <= n) {
      const uint64_t x = Load8(s + i);
      if ((x & kHighs) | HasByteBelow(x, 0x20) | HasByte(x, 0x7F)) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) return RejectReason::kMalformed;
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c == 0xE0) {
      len = 3, lo = 0xA0;
    } else if (c == 0xED) {
      len = 3, hi = 0x9F;
    } else if (c >= 0xE1 && c <= 0xEF) {
      len = 3;
    } else if (c == 0xF0) {
      len = 4, lo = 0x90;
    } else if (c == 0xF4) {
      len = 4, hi = 0x8F;
    } else if (c >= 0xF1 && c <= 0xF3) {
      len = 4;
    } else {
      bad_encoding = true;
      ++i;
      continue;
    }
    bool ok = i + len <= n;
    if (ok) {
      const unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      ok = c1 >= lo && c1 <= hi;
      for (size_t k = 2; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    if (ok) {
      i += len;
    } else {
      bad_encoding = true;
      ++i;  // rescan the following bytes: they may hold a control byte
    }
  }
  return bad_encoding ? RejectReason::kBadEncoding : RejectReason::kNone;
}

// What scanning a key already established about its bytes.
enum class KeyHint : uint8_t {
  kUnchecked,       // anything: check every byte
  kPrintableAscii,  // only 0x20..0x7E: nothing left to check but the length
  kLoneSurrogate,   // decoded from JSON with a lone surrogate escape: bad-encoding
};

RejectReason CheckKey(std::string_view key, KeyHint hint) {
  if (key.empty()) return RejectReason::kMalformed;
  if (hint == KeyHint::kPrintableAscii) return RejectReason::kNone;
  const RejectReason r = CheckKeyBytes(key);
  if (r == RejectReason::kNone && hint == KeyHint::kLoneSurrogate) return RejectReason::kBadEncoding;
  return r;
}

// Both keys, worst category first (see the header's order of checks).
RejectReason CheckKeys(std::string_view user, KeyHint user_hint, std::string_view page,
                       KeyHint page_hint, uint32_t max_key_bytes) {
  const RejectReason u = CheckKey(user, user_hint);
  const RejectReason p = CheckKey(page, page_hint);
  if (u == RejectReason::kMalformed || p == RejectReason::kMalformed) return RejectReason::kMalformed;
  if (u == RejectReason::kBadEncoding || p == RejectReason::kBadEncoding) {
    return RejectReason::kBadEncoding;
  }
  if (user.size() > max_key_bytes || page.size() > max_key_bytes) return RejectReason::kKeyTooLong;
  return RejectReason::kNone;
}

inline KeyHint HintFor(bool printable_ascii) {
  return printable_ascii ? KeyHint::kPrintableAscii : KeyHint::kUnchecked;
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
// Access-log helpers.

// The closing '"' of a quoted field whose body starts at p: the first '"' not escaped by
// an odd run of backslashes (Apache writes \" and \\; nginx writes \x22). Null if none.
// Linear: each backslash is counted once, for the quote that ends its run.
const char* FindClosingQuote(const char* p, const char* end) {
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
inline const char* FieldEnd(const char* p, const char* end) {
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
const TokenCharTable kTokenChars;

// An authuser that names nobody: Apache writes "-" for none and "\"\"" for empty.
inline bool IsNoUser(std::string_view authuser) { return authuser == "-" || authuser == "\"\""; }

// An HTTP-version as a request line ends with: "HTTP/" DIGIT+ ["." DIGIT+] ("HTTP/1.1",
// "HTTP/2", "HTTP/2.0"), exactly [p, end).
bool IsHttpVersion(const char* p, const char* end) {
  if (end - p < 6 || std::memcmp(p, "HTTP/", 5) != 0) return false;
  p += 5;
  const char* major = p;
  while (p < end && IsDigit(*p)) ++p;
  if (p == major) return false;
  if (p == end) return true;
  if (*p++ != '.') return false;
  const char* minor = p;
  while (p < end && IsDigit(*p)) ++p;
  return p != minor && p == end;
}

// RFC 3164 ("<PRI>Mmm dd hh:mm:ss HOST TAG: MSG") or RFC 5424 ("<PRI>1 TIMESTAMP HOST
// APP PROCID MSGID SD MSG") framing at [p, end): returns the start of MSG, or null if
// the line is not such a frame. RFC 3164's TAG is the first token ending in ':' (with an
// optional "[pid]" before the colon, as "nginx:" or "app[12]:") within 48 bytes of the
// hostname; RFC 5424's structured data is "-" or one or more "[...]" elements (with
// \] escapes inside).
const char* SkipSyslogFrame(const char* p, const char* end) {
  if (p == end || *p != '<') return nullptr;
  const char* q = p + 1;
  const char* digits = q;
  while (q < end && IsDigit(*q) && q - digits < 3) ++q;
  if (q == digits || q == end || *q != '>') return nullptr;
  ++q;
  auto token = [&](const char* s) -> const char* {  // a non-empty token and its space
    const char* t = s;
    while (t < end && *t != ' ') ++t;
    return (t == s || t == end) ? nullptr : t + 1;
  };
  if (q < end && IsDigit(*q)) {  // RFC 5424: VERSION SP TIMESTAMP SP HOST SP APP SP PROCID SP MSGID SP SD
    for (int field = 0; field < 6 && q != nullptr; ++field) q = token(q);
    if (q == nullptr || q == end) return nullptr;
    if (*q == '-') {
      ++q;
    } else {
      if (*q != '[') return nullptr;
      while (q < end && *q == '[') {
        ++q;
        while (q < end && *q != ']') q += (*q == '\\' && end - q >= 2) ? 2 : 1;
        if (q == end) return nullptr;
        ++q;
      }
    }
    if (q == end) return q;
    return *q == ' ' ? q + 1 : nullptr;
  }
  // RFC 3164: "Mmm dd hh:mm:ss " (day space-padded), then HOST, then TAG.
  if (end - q < 16 || MonthFromAbbrev(q) == 0 || q[3] != ' ' || q[6] != ' ' || q[9] != ':' || q[12] != ':' ||
      q[15] != ' ') {
    return nullptr;
  }
  q = token(q + 16);
  if (q == nullptr) return nullptr;
  const char* limit = end - q > 48 ? q + 48 : end;
  for (const char* c = q; c < limit; ++c) {
    if (*c == ' ') return nullptr;
    if (*c == ':') return (c + 1 < end && c[1] == ' ') ? c + 2 : c + 1 == end ? end : nullptr;
  }
  return nullptr;
}

// "http://" or "https://", any case, at [p, end): returns the length, else 0.
size_t HttpSchemePrefix(const char* p, const char* end) {
  static const char kHttp[] = "http";
  const size_t n = end - p;
  if (n < 7) return 0;
  for (int i = 0; i < 4; ++i) {
    if ((p[i] | 0x20) != kHttp[i]) return 0;
  }
  size_t i = 4;
  if ((p[i] | 0x20) == 's') ++i;
  if (n >= i + 3 && p[i] == ':' && p[i + 1] == '/' && p[i + 2] == '/') return i + 3;
  return 0;
}

// ---------------------------------------------------------------------------------
// JSON helpers. Every function takes [p, end) and returns a position or null (invalid).

inline const char* SkipJsonWs(const char* p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  return p;
}

inline int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  const int l = c | 0x20;
  if (l >= 'a' && l <= 'f') return l - 'a' + 10;
  return -1;
}

int Hex4(const char* p) {
  int v = 0;
  for (int i = 0; i < 4; ++i) {
    const int h = HexValue(p[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

// p is just past an opening '"'. Returns the closing '"'; sets *escaped if the body
// holds a backslash escape and clears *printable if it holds a byte >= 0x7F. Null for
// a raw control byte (< 0x20), a bad escape or no closing quote. Bytes >= 0x80 are not
// validated here (keys are checked later; other members' strings never are).
const char* ScanJsonString(const char* p, const char* end, bool* escaped, bool* printable) {
  for (;;) {
#if defined(SKIPTRAIL_SSE2)
    const __m128i vq = _mm_set1_epi8('"'), vb = _mm_set1_epi8('\\');
    const __m128i v1f = _mm_set1_epi8(0x1F), v7f = _mm_set1_epi8(0x7F);
    while (end - p >= 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i below20 = _mm_cmpeq_epi8(_mm_min_epu8(x, v1f), x);
      const unsigned stop = static_cast<unsigned>(_mm_movemask_epi8(
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, vq), _mm_cmpeq_epi8(x, vb)), below20)));
      const unsigned odd = static_cast<unsigned>(_mm_movemask_epi8(x) | _mm_movemask_epi8(_mm_cmpeq_epi8(x, v7f)));
      if (stop != 0) {
        const unsigned at = static_cast<unsigned>(__builtin_ctz(stop));
        if (odd & ((1u << at) - 1)) *printable = false;
        p += at;
        break;
      }
      if (odd != 0) *printable = false;
      p += 16;
    }
#else
    while (end - p >= 8) {
      const uint64_t x = Load8(p);
      if (HasByte(x, '"') | HasByte(x, '\\') | HasByteBelow(x, 0x20)) break;
      if ((x & kHighs) | HasByte(x, 0x7F)) *printable = false;
      p += 8;
    }
#endif
    for (;;) {
      if (p == end) return nullptr;
      const unsigned char c = static_cast<unsigned char>(*p);
      if (c == '"') return p;
      if (c < 0x20) return nullptr;
      if (c == '\\') {
        *escaped = true;
        if (end - p < 2) return nullptr;
        const char e = p[1];
        if (e == 'u') {
          if (end - p < 6 || Hex4(p + 2) < 0) return nullptr;
          p += 6;
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                   e == 'r' || e == 't') {
          p += 2;
        } else {
          return nullptr;
        }
        break;  // back to the block scan
      }
      if (c >= 0x7F) *printable = false;
      ++p;
    }
  }
}

void AppendUtf8(uint32_t cp, std::string* dst) {
  if (cp < 0x80) {
    dst->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    dst->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    dst->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    dst->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    dst->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    dst->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    dst->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    dst->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    dst->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    dst->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Replaces *dst with the decoded body [p, end) of a string ScanJsonString accepted.
// \uD83D\uDE00 pairs become one 4-byte character. Returns false if the body held a
// lone surrogate escape (written as U+FFFD so the output is still UTF-8).
bool DecodeJsonString(const char* p, const char* end, std::string* dst) {
  dst->clear();
  bool ok = true;
  while (p < end) {
    const char* bs = static_cast<const char*>(std::memchr(p, '\\', end - p));
    if (bs == nullptr) {
      dst->append(p, end - p);
      break;
    }
    dst->append(p, bs - p);
    if (end - bs < 2) break;  // cannot happen after ScanJsonString
    const char e = bs[1];
    p = bs + 2;
    switch (e) {
      case 'b': dst->push_back('\b'); break;
      case 'f': dst->push_back('\f'); break;
      case 'n': dst->push_back('\n'); break;
      case 'r': dst->push_back('\r'); break;
      case 't': dst->push_back('\t'); break;
      case 'u': {
        if (end - p < 4) return false;
        uint32_t cp = static_cast<uint32_t>(Hex4(p));
        p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
          const int lo = Hex4(p + 2);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<uint32_t>(lo) - 0xDC00);
            p += 6;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) {
          ok = false;
          cp = 0xFFFD;
        }
        AppendUtf8(cp, dst);
        break;
      }
      default: dst->push_back(e); break;  // '"', '\\', '/'
    }
  }
  return ok;
}

// JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
const char* ScanJsonNumber(const char* p, const char* end) {
  if (p < end && *p == '-') ++p;
  if (p == end) return nullptr;
  if (*p == '0') {
    ++p;
  } else if (IsDigit(*p)) {
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

const char* ScanJsonLiteral(const char* p, const char* end) {
  for (const char* word : {"true", "false", "null"}) {
    const size_t n = std::strlen(word);
    if (static_cast<size_t>(end - p) >= n && std::memcmp(p, word, n) == 0) return p + n;
  }
  return nullptr;
}

// Skips one JSON value of any kind, checking its syntax. Iterative: *nesting is the
// stack of open containers ('{' or '['), so depth is bounded by the line, not the
// C++ stack.
const char* SkipJsonValue(const char* p, const char* end, std::string* nesting) {
  nesting->clear();
  bool escaped = false, printable = true;  // not used while skipping
  for (;;) {
    // A value starts at p.
    p = SkipJsonWs(p, end);
    if (p == end) return nullptr;
    switch (*p) {
      case '{':
        p = SkipJsonWs(p + 1, end);
        if (p < end && *p == '}') {
          ++p;
          break;
        }
        nesting->push_back('{');
        if (p == end || *p != '"' || (p = ScanJsonString(p + 1, end, &escaped, &printable)) == nullptr) return nullptr;
        p = SkipJsonWs(p + 1, end);
        if (p == end || *p != ':') return nullptr;
        ++p;
        continue;
      case '[':
        p = SkipJsonWs(p + 1, end);
        if (p < end && *p == ']') {
          ++p;
          break;
        }
        nesting->push_back('[');
        continue;
      case '"':
        if ((p = ScanJsonString(p + 1, end, &escaped, &printable)) == nullptr) return nullptr;
        ++p;
        break;
      case 't':
      case 'f':
      case 'n':
        if ((p = ScanJsonLiteral(p, end)) == nullptr) return nullptr;
        break;
      default:
        if ((p = ScanJsonNumber(p, end)) == nullptr) return nullptr;
        break;
    }
    // A value ended at p: close containers until one expects another element.
    for (;;) {
      if (nesting->empty()) return p;
      p = SkipJsonWs(p, end);
      if (p == end) return nullptr;
      const char open = nesting->back();
      if (*p == ',') {
        ++p;
        if (open == '{') {
          p = SkipJsonWs(p, end);
          if (p == end || *p != '"' || (p = ScanJsonString(p + 1, end, &escaped, &printable)) == nullptr) return nullptr;
          p = SkipJsonWs(p + 1, end);
          if (p == end || *p != ':') return nullptr;
          ++p;
        }
        break;
      }
      if ((open == '{' && *p == '}') || (open == '[' && *p == ']')) {
        ++p;
        nesting->pop_back();
        continue;
      }
      return nullptr;
    }
  }
}

// A JSON number token read as a time in the unit 10^-shift... of a second: shift is the
// power of ten that turns the unit into milliseconds (s: 3, ms: 0, us: -3, ns: -6).
// The value must be an integer in its own unit unless allow_fraction (seconds may
// carry a fraction); digits below a millisecond are then truncated, as Date.parse
// truncates. Exact (no floating point), whatever the spelling: "1431857103000",
// "1431857103000.0", "1.431857103e12", "-0". False for a fraction that is not allowed,
// a negative value, or a time above kMaxTimeMs.
bool JsonNumberToMs(const char* p, const char* end, int shift, bool allow_fraction, int64_t* ms) {
  bool negative = false;
  if (p < end && *p == '-') negative = true, ++p;
  const char* int_begin = p;
  while (p < end && IsDigit(*p)) ++p;
  const int64_t int_len = p - int_begin;
  const char* frac_begin = p;
  int64_t frac_len = 0;
  if (p < end && *p == '.') {
    frac_begin = ++p;
    while (p < end && IsDigit(*p)) ++p;
    frac_len = p - frac_begin;
  }
  int64_t exponent = 0;
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    bool exponent_negative = false;
    if (p < end && (*p == '+' || *p == '-')) exponent_negative = *p++ == '-';
    for (; p < end && IsDigit(*p); ++p) {
      if (exponent < 10000000) exponent = exponent * 10 + (*p - '0');  // saturates
    }
    if (exponent_negative) exponent = -exponent;
  }
  // The digits int ++ frac, with the decimal point of the value in its own unit before
  // digit number `point`, and the point of the value in ms before `ms_point`.
  const int64_t total = int_len + frac_len;
  auto digit = [&](int64_t i) { return i < int_len ? int_begin[i] - '0' : frac_begin[i - int_len] - '0'; };
  const int64_t point = int_len + exponent;
  const int64_t ms_point = point + shift;
  bool fraction = false;
  for (int64_t i = point < 0 ? 0 : point; i < total && !fraction; ++i) fraction = digit(i) != 0;
  if (fraction && !allow_fraction) return false;
  uint64_t value = 0;
  const int64_t whole = ms_point < total ? ms_point : total;
  for (int64_t i = 0; i < whole; ++i) {
    value = value * 10 + static_cast<uint64_t>(digit(i));
    if (value > static_cast<uint64_t>(kMaxTimeMs)) return false;
  }
  for (int64_t i = total; value != 0 && i < ms_point; ++i) {
    value *= 10;
    if (value > static_cast<uint64_t>(kMaxTimeMs)) return false;
  }
  if (negative) {  // only a zero may carry a sign ("-0"), even when it truncates to 0 ms
    for (int64_t i = 0; i < total; ++i) {
      if (digit(i) != 0) return false;
    }
  }
  *ms = static_cast<int64_t>(value);
  return true;
}

// ISO-8601 / RFC 3339 date-time with seconds and an explicit offset:
//   YYYY-MM-DD('T'|'t'|' ')HH:MM:SS[.fraction]('Z'|'z'|±HH:MM|±HHMM)
// The fraction may have any number of digits; it is truncated to milliseconds (as
// Date.parse does). No second 60, no hour 24, no offset beyond ±14:00.
bool ParseIsoTime(std::string_view s, int64_t* ms) {
  const char* p = s.data();
  const size_t n = s.size();
  if (n < 20) return false;
  const int year = Digits4(p), month = Digits2(p + 5), day = Digits2(p + 8);
  const int hour = Digits2(p + 11), minute = Digits2(p + 14), second = Digits2(p + 17);
  if (year < 0 || p[4] != '-' || p[7] != '-' || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') ||
      p[13] != ':' || p[16] != ':') {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour < 0 ||
      hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return false;
  }
  size_t i = 19;
  int64_t millis = 0;
  if (p[i] == '.') {
    ++i;
    const size_t first = i;
    for (; i < n && IsDigit(p[i]); ++i) {
      if (i - first < 3) millis = millis * 10 + (p[i] - '0');
    }
    if (i == first) return false;
    for (size_t k = i - first; k < 3; ++k) millis *= 10;
  }
  if (i == n) return false;  // no offset: local time is ambiguous
  int64_t offset = 0;
  if (p[i] == 'Z' || p[i] == 'z') {
    ++i;
  } else {
    const char sign = p[i++];
    if (n - i < 4) return false;
    const int oh = Digits2(p + i);
    i += 2;
    if (p[i] == ':') ++i;
    if (n - i < 2) return false;
    const int om = Digits2(p + i);
    i += 2;
    if (!UtcOffsetSeconds(sign, oh, om, &offset)) return false;
  }
  if (i != n) return false;
  const int64_t seconds =
      DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  const int64_t result = seconds * 1000 + millis;
  if (result < 0) return false;
  *ms = result;
  return true;
}

}  // namespace

const char* RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kNone: return "none";
    case RejectReason::kMalformed: return "malformed";
    case RejectReason::kBadTime: return "bad-time";
    case RejectReason::kBadStatus: return "bad-status";
    case RejectReason::kFiltered: return "filtered";
    case RejectReason::kOtherPartition: return "other-partition";
    case RejectReason::kKeyTooLong: return "key-too-long";
    case RejectReason::kBadEncoding: return "bad-encoding";
    case RejectReason::kLineTooLong: return "line-too-long";
    case RejectReason::kFuture: return "future";
    case RejectReason::kCount: break;
  }
  return "unknown";
}

LogParser::LogParser(const ParserOptions& options) : options_(options) {
  switch (options_.ts_unit) {
    case TimeUnit::kMilliseconds: ts_unit_shift_ = 0; break;
    case TimeUnit::kSeconds: ts_unit_shift_ = 3; break;
    case TimeUnit::kMicroseconds: ts_unit_shift_ = -3; break;
    case TimeUnit::kNanoseconds: ts_unit_shift_ = -6; break;
  }
  auto accept = [this](unsigned s) {
    if (s >= 100 && s <= 599) status_bits_[s >> 6] |= uint64_t{1} << (s & 63);
  };
  if (!options_.statuses.empty()) {
    for (uint16_t s : options_.statuses) accept(s);
  } else {
    for (unsigned s = options_.status_min; s <= options_.status_max && s <= 599; ++s) accept(s);
  }
}

RejectReason LogParser::Parse(std::string_view line, ParsedView* out) {
  const char* p = line.data();
  const char* end = p + line.size();
  if (end > p && end[-1] == '\r') --end;
  if (options_.syslog && (p = SkipSyslogFrame(p, end)) == nullptr) return RejectReason::kMalformed;
  if (end - p >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
  if (options_.format == LogFormat::kNdjson) return ParseNdjson(p, end, out);
  return ParseAccessLog(p, end, out);
}

// ---------------------------------------------------------------------------------
// combined / common

RejectReason LogParser::ParseAccessLog(const char* p, const char* end, ParsedView* out) {
  // host, ident, authuser: non-empty fields, each followed by one space.
  bool host_printable = true, auth_printable = true;
  const char* host = p;
  const char* host_end = ScanField(p, end, ' ', ' ', ' ', &host_printable);
  if (host_end == host || host_end == end) return RejectReason::kMalformed;
  p = host_end + 1;
  const char* ident_end = FieldEnd(p, end);
  if (ident_end == p || ident_end == end) return RejectReason::kMalformed;
  // authuser may hold spaces (Apache and nginx log a name like "John Smith" raw): it
  // ends at the first " [", where the time starts.
  const char* auth = ident_end + 1;
  const char* auth_end = ScanField(auth, end, ' ', ' ', ' ', &auth_printable);
  while (auth_end != end && auth_end + 1 != end && auth_end[1] != '[') {
    auth_end = ScanField(auth_end + 1, end, ' ', ' ', ' ', &auth_printable);
  }
  if (auth_end == auth || auth_end == end) return RejectReason::kMalformed;
  p = auth_end + 1;

  // [time]: its content is checked after the status.
  if (p == end || *p != '[') return RejectReason::kMalformed;
  const char* time = p + 1;
  const char* time_end = FindByte(time, end, ']');
  if (time_end == nullptr) return RejectReason::kMalformed;
  p = time_end + 1;

  // "request": content checked after the status.
  if (end - p < 2 || p[0] != ' ' || p[1] != '"') return RejectReason::kMalformed;
  const char* request = p + 2;
  const char* request_end = FindClosingQuote(request, end);
  if (request_end == nullptr) return RejectReason::kMalformed;
  p = request_end + 1;

  // status and bytes.
  if (p == end || *p != ' ') return RejectReason::kMalformed;
  const char* status = p + 1;
  const char* status_end = FieldEnd(status, end);
  if (status_end == status || status_end == end) return RejectReason::kMalformed;
  const char* bytes = status_end + 1;
  const char* bytes_end = FieldEnd(bytes, end);
  if (bytes_end == bytes) return RejectReason::kMalformed;
  if (!(bytes_end - bytes == 1 && *bytes == '-')) {
    for (const char* b = bytes; b < bytes_end; ++b) {
      if (!IsDigit(*b)) return RejectReason::kMalformed;
    }
  }
  p = bytes_end;

  // common ends here. combined goes on with ' "referer" "agent"' and maybe more
  // fields; only the opening quote is checked, because nothing after bytes is used and
  // a damaged agent (the fixture's line 8899 lost its closing quote) should not cost a
  // page view.
  if (p != end) {
    if (options_.format == LogFormat::kCommon) return RejectReason::kMalformed;
    if (end - p < 2 || p[0] != ' ' || p[1] != '"') return RejectReason::kMalformed;
  }

  // Status: three digits, 100..599.
  if (status_end - status != 3 || status[0] < '1' || status[0] > '5' || !IsDigit(status[1]) ||
      !IsDigit(status[2])) {
    return RejectReason::kBadStatus;
  }
  const unsigned code = (status[0] - '0') * 100 + (status[1] - '0') * 10 + (status[2] - '0');
  if (!StatusAccepted(code)) return RejectReason::kFiltered;

  const std::string_view host_view(host, host_end - host), auth_view(auth, auth_end - auth);
  bool user_printable = host_printable;
  switch (options_.user) {
    case UserField::kHost: out->user = host_view; break;
    case UserField::kAuthuser:
      if (IsNoUser(auth_view)) return RejectReason::kFiltered;
      out->user = auth_view;
      user_printable = auth_printable;
      break;
    case UserField::kAuthuserOrHost:
      if (!IsNoUser(auth_view)) {
        out->user = auth_view;
        user_printable = auth_printable;
      } else {
        out->user = host_view;
      }
      break;
  }

  if (!ParseAccessLogTime(time, time_end - time, &out->ts_ms)) return RejectReason::kBadTime;

  bool page_printable = true;
  const RejectReason r = ParseRequestTarget(request, request_end, &out->page, &page_printable);
  if (r != RejectReason::kNone) return r;

  return CheckKeys(out->user, HintFor(user_printable), out->page, HintFor(page_printable),
                   options_.max_key_bytes);
}

// "dd/Mon/yyyy:HH:MM:SS +hhmm", exactly, as Apache's %t and nginx's $time_local write it.
bool LogParser::ParseAccessLogTime(const char* s, size_t n, int64_t* ts_ms) {
  if (n != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' ||
      s[20] != ' ') {
    return false;
  }
  int64_t day;
  if (cached_date_valid_ && std::memcmp(s, cached_date_, 11) == 0) {
    day = cached_day_;
  } else {
    const int d = Digits2(s), month = MonthFromAbbrev(s + 3), year = Digits4(s + 7);
    if (d < 1 || month == 0 || year < 0 || d > DaysInMonth(year, month)) return false;
    day = DaysFromCivil(year, month, d);
    std::memcpy(cached_date_, s, 11);
    cached_day_ = day;
    cached_date_valid_ = true;
  }
  const int hour = Digits2(s + 12), minute = Digits2(s + 15), second = Digits2(s + 18);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  int64_t offset;
  if (!UtcOffsetSeconds(s[21], Digits2(s + 22), Digits2(s + 24), &offset)) return false;
  const int64_t seconds = day * 86400 + hour * 3600 + minute * 60 + second - offset;
  if (seconds < 0) return false;
  *ts_ms = seconds * 1000;
  return true;
}

// request = METHOD SP target [SP protocol]; the page is the target's path, with the
// query kept only if keep_query, the fragment never. Target forms:
//   "/path?q#f"             origin-form
//   "http://host/path?q"    absolute-form (http/https, any case): the path alone, "/" if
//                           empty, so a proxy-style request counts as the same page
//   anything else ("*", "host:443", "-", relative) is malformed.
// The target is taken as logged: no percent-decoding, no unescaping of \" or \xhh.
RejectReason LogParser::ParseRequestTarget(const char* req, const char* req_end,
                                           std::string_view* page, bool* page_printable) {
  SKIPTRAIL_DCHECK(*page_printable);
  const char* method_end = req;
  while (method_end < req_end && kTokenChars.is_tchar[static_cast<unsigned char>(*method_end)]) {
    ++method_end;
  }
  if (method_end == req || method_end == req_end || *method_end != ' ') return RejectReason::kMalformed;
  const char* target = method_end + 1;

  // One pass finds where the page ends ('?' unless keep_query, '#', or the ' ' before
  // the protocol) and whether it is all printable ASCII.
  const char* path_end =
      ScanField(target, req_end, ' ', '#', options_.keep_query ? '#' : '?', page_printable);
  if (path_end == target) return RejectReason::kMalformed;
  const char* target_end = path_end;
  if (target_end < req_end && *target_end != ' ') {
    target_end = FindByte(target_end, req_end, ' ');
    if (target_end == nullptr) target_end = req_end;
  }
  if (target_end != req_end && !IsHttpVersion(target_end + 1, req_end)) return RejectReason::kMalformed;

  const char* path = target;
  if (*target != '/') {
    // Apache's "internal dummy connection" (OPTIONS * HTTP/1.0, sent to wake its own
    // children) is a sound line that is no page load.
    if (target_end - target == 1 && *target == '*' && method_end - req == 7 &&
        std::memcmp(req, "OPTIONS", 7) == 0) {
      return RejectReason::kFiltered;
    }
    const size_t scheme = HttpSchemePrefix(target, target_end);
    if (scheme == 0) return RejectReason::kMalformed;
    const char* authority = target + scheme;
    path = authority;
    while (path < path_end && *path != '/' && *path != '?') ++path;
    if (path == authority) return RejectReason::kMalformed;
  }
  if (path < path_end && *path == '/') {
    *page = std::string_view(path, path_end - path);
  } else {  // absolute-form with an empty path: "/" plus the query if kept
    page_scratch_.assign(1, '/');
    page_scratch_.append(path, path_end - path);
    *page = page_scratch_;
  }
  return RejectReason::kNone;
}

// ---------------------------------------------------------------------------------
// ndjson

// One JSON object per line. Members other than the three named ones are skipped (but
// must be valid JSON). A duplicated member name takes its last value, as JSON.parse
// does. user and page must be strings; ts a number or a string.
RejectReason LogParser::ParseNdjson(const char* p, const char* end, ParsedView* out) {
  enum class KeyState : uint8_t { kMissing, kString, kNotString };
  KeyState user_state = KeyState::kMissing, page_state = KeyState::kMissing;
  KeyHint user_hint = KeyHint::kUnchecked, page_hint = KeyHint::kUnchecked;
  ts_kind_ = TsKind::kMissing;

  p = SkipJsonWs(p, end);
  if (p == end || *p != '{') return RejectReason::kMalformed;
  p = SkipJsonWs(p + 1, end);
  if (p < end && *p == '}') {
    ++p;
  } else {
    for (;;) {
      if (p == end || *p != '"') return RejectReason::kMalformed;
      bool name_escaped = false, name_printable = true;
      const char* name = p + 1;
      const char* name_end = ScanJsonString(name, end, &name_escaped, &name_printable);
      if (name_end == nullptr) return RejectReason::kMalformed;
      std::string_view key(name, name_end - name);
      bool matchable = true;
      if (name_escaped) {
        matchable = DecodeJsonString(name, name_end, &name_scratch_);
        key = name_scratch_;
      }
      const bool is_user = matchable && key == options_.ndjson_user_field;
      const bool is_page = matchable && key == options_.ndjson_page_field;
      const bool is_ts = matchable && key == options_.ndjson_ts_field;

      p = SkipJsonWs(name_end + 1, end);
      if (p == end || *p != ':') return RejectReason::kMalformed;
      p = SkipJsonWs(p + 1, end);
      if (p == end) return RejectReason::kMalformed;

      if (!(is_user || is_page || is_ts)) {
        p = SkipJsonValue(p, end, &nesting_);
        if (p == nullptr) return RejectReason::kMalformed;
      } else if (*p == '"') {
        bool escaped = false, printable = true;
        const char* s = p + 1;
        const char* s_end = ScanJsonString(s, end, &escaped, &printable);
        if (s_end == nullptr) return RejectReason::kMalformed;
        // Without escapes the key is the raw bytes, which the scan has seen; with
        // escapes it is decoded into scratch and checked whole.
        auto take = [&](std::string* scratch, std::string_view* key, KeyHint* hint) {
          if (escaped) {
            *hint = DecodeJsonString(s, s_end, scratch) ? KeyHint::kUnchecked : KeyHint::kLoneSurrogate;
            *key = *scratch;
          } else {
            *hint = HintFor(printable);
            *key = std::string_view(s, s_end - s);
          }
        };
        if (is_user) {
          user_state = KeyState::kString;
          take(&user_scratch_, &out->user, &user_hint);
        }
        if (is_page) {
          page_state = KeyState::kString;
          take(&page_scratch_, &out->page, &page_hint);
        }
        if (is_ts) {
          ts_kind_ = TsKind::kString;
          ts_begin_ = s;
          ts_end_ = s_end;
          ts_escaped_ = escaped;
        }
        p = s_end + 1;
      } else {
        const char* value = p;
        p = SkipJsonValue(p, end, &nesting_);
        if (p == nullptr) return RejectReason::kMalformed;
        if (is_user) user_state = KeyState::kNotString;
        if (is_page) page_state = KeyState::kNotString;
        if (is_ts) {
          ts_kind_ = (*value == '-' || IsDigit(*value)) ? TsKind::kNumber : TsKind::kOther;
          ts_begin_ = value;
          ts_end_ = p;
        }
      }

      p = SkipJsonWs(p, end);
      if (p == end) return RejectReason::kMalformed;
      if (*p == ',') {
        p = SkipJsonWs(p + 1, end);
        continue;
      }
      if (*p == '}') {
        ++p;
        break;
      }
      return RejectReason::kMalformed;
    }
  }
  if (SkipJsonWs(p, end) != end) return RejectReason::kMalformed;
  if (user_state != KeyState::kString || page_state != KeyState::kString ||
      ts_kind_ == TsKind::kMissing) {
    return RejectReason::kMalformed;
  }
  const RejectReason r = NdjsonTime(out);
  if (r != RejectReason::kNone) return r;
  return CheckKeys(out->user, user_hint, out->page, page_hint, options_.max_key_bytes);
}

RejectReason LogParser::NdjsonTime(ParsedView* out) {
  switch (ts_kind_) {
    case TsKind::kNumber:
      return JsonNumberToMs(ts_begin_, ts_end_, ts_unit_shift_, options_.ts_unit == TimeUnit::kSeconds,
                            &out->ts_ms)
                 ? RejectReason::kNone
                 : RejectReason::kBadTime;
    case TsKind::kString: {
      std::string_view text(ts_begin_, ts_end_ - ts_begin_);
      if (ts_escaped_) {
        if (!DecodeJsonString(ts_begin_, ts_end_, &ts_scratch_)) return RejectReason::kBadTime;
        text = ts_scratch_;
      }
      return ParseIsoTime(text, &out->ts_ms) ? RejectReason::kNone : RejectReason::kBadTime;
    }
    default:
      return RejectReason::kBadTime;
  }
}

}  // namespace skiptrail
