#include "json.h"

#include <cstring>

#include "calendar.h"
#include "scan.h"

namespace skiptrail {

namespace {

int HexValue(char c) {
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

}  // namespace

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

namespace {

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

}  // namespace

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

namespace {

// true, false or null at p; just past it, or null.
inline const char* ScanJsonLiteral(const char* p, const char* end) {
  const size_t left = static_cast<size_t>(end - p);
  switch (*p) {
    case 't': return left >= 4 && std::memcmp(p, "true", 4) == 0 ? p + 4 : nullptr;
    case 'f': return left >= 5 && std::memcmp(p, "false", 5) == 0 ? p + 5 : nullptr;
    case 'n': return left >= 4 && std::memcmp(p, "null", 4) == 0 ? p + 4 : nullptr;
    default: return nullptr;
  }
}

// p is at an object member's name: returns just past its ':', or null.
inline const char* SkipMemberName(const char* p, const char* end) {
  bool escaped = false, printable = true;  // not used while skipping
  if (p == end || *p != '"' || (p = ScanJsonStringInline(p + 1, end, &escaped, &printable)) == nullptr) return nullptr;
  ++p;
  if (p < end && *p == ':') return p + 1;
  p = SkipJsonWs(p, end);
  return p < end && *p == ':' ? p + 1 : nullptr;
}

}  // namespace

// Skips one JSON value of any kind, checking its syntax. Iterative: stack[0, depth) is
// the stack of open containers ('{' or '['), kept in *nesting and grown as needed, so
// depth is bounded by the line, not the C++ stack. Compact JSON (no whitespace between
// tokens) takes the first branch of every check.
const char* SkipJsonValue(const char* p, const char* end, std::string* nesting) {
  bool escaped = false, printable = true;  // not used while skipping
  if (nesting->size() < 16) nesting->resize(16);
  char* stack = &(*nesting)[0];
  size_t depth = 0;
  for (;;) {
    // A value starts at p.
    if (p < end && static_cast<unsigned char>(*p) <= ' ') p = SkipJsonWs(p, end);
    if (p == end) return nullptr;
    const char c = *p;
    if (c == '"') {
      if ((p = ScanJsonStringInline(p + 1, end, &escaped, &printable)) == nullptr) return nullptr;
      ++p;
    } else if (c == '{' || c == '[') {
      ++p;
      if (p < end && static_cast<unsigned char>(*p) <= ' ') p = SkipJsonWs(p, end);
      if (p < end && *p == (c == '{' ? '}' : ']')) {
        ++p;
      } else {
        if (depth == nesting->size()) {
          nesting->resize(2 * depth);
          stack = &(*nesting)[0];
        }
        stack[depth++] = c;
        if (c == '{' && (p = SkipMemberName(p, end)) == nullptr) return nullptr;
        continue;
      }
    } else if (c == 't' || c == 'f' || c == 'n') {
      if ((p = ScanJsonLiteral(p, end)) == nullptr) return nullptr;
    } else {
      if ((p = ScanJsonNumber(p, end)) == nullptr) return nullptr;
    }
    // A value ended at p: close containers until one expects another element.
    for (;;) {
      if (depth == 0) return p;
      if (p < end && static_cast<unsigned char>(*p) <= ' ') p = SkipJsonWs(p, end);
      if (p == end) return nullptr;
      const char open = stack[depth - 1];
      if (*p == ',') {
        ++p;
        if (open == '{') {
          if (p < end && *p != '"') p = SkipJsonWs(p, end);
          if ((p = SkipMemberName(p, end)) == nullptr) return nullptr;
        }
        break;
      }
      if (*p == (open == '{' ? '}' : ']')) {
        ++p;
        --depth;
        continue;
      }
      return nullptr;
    }
  }
}

namespace {

// JsonNumberToMs for the spelling logs use: up to 15 integer digits, optionally '.' and
// digits, no sign or exponent, in s or ms (shift >= 0). Returns false (and leaves *ok
// unset) for any other token, which the general reading handles.
bool PlainNumberToMs(const char* p, const char* end, int shift, bool allow_fraction, int64_t* ms, bool* ok) {
  if (shift < 0) return false;
  const char* q = p;
  uint64_t value = 0;
  while (q < end && IsDigit(*q)) value = value * 10 + static_cast<uint64_t>(*q++ - '0');
  if (q == p || q - p > 15) return false;
  bool fraction = false;
  int scale = shift;  // powers of ten still to apply to value
  if (q < end) {
    if (*q != '.') return false;
    const char* digits = ++q;
    for (; q < end && IsDigit(*q); ++q) {
      if (scale > 0) {
        value = value * 10 + static_cast<uint64_t>(*q - '0');
        --scale;
      }
      fraction |= *q != '0';
    }
    if (q == digits || q != end) return false;
  }
  for (; scale > 0; --scale) value *= 10;  // value < 10^15 * 10^3: no overflow
  *ok = !(fraction && !allow_fraction) && value <= static_cast<uint64_t>(kMaxTimeMs);
  if (*ok) *ms = static_cast<int64_t>(value);
  return true;
}

}  // namespace

bool JsonNumberToMs(const char* p, const char* end, int shift, bool allow_fraction, int64_t* ms) {
  bool ok = false;
  if (PlainNumberToMs(p, end, shift, allow_fraction, ms, &ok)) return ok;
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

}  // namespace skiptrail
