#include "syslog.h"

#include "calendar.h"
#include "scan.h"

namespace skiptrail {

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

}  // namespace skiptrail
