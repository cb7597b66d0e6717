#include "syslog.h"

#include "calendar.h"
#include "scan.h"

namespace skiptrail {

namespace {

// A syslog TAG as the whole token [p, t): a name, an optional "[pid]", then ':' as its
// only colon ("nginx:", "httpd[4242]:"). A host name never ends in ':' that way (an IPv6
// host has a colon before its end).
bool IsTagToken(const char* p, const char* t) {
  if (t - p < 2 || t[-1] != ':') return false;
  for (const char* c = p; c < t - 1; ++c) {
    if (*c == ':') return false;
  }
  return true;
}

}  // namespace

// The header forms read (docs/ingest.md, "Syslog frames"):
//   RFC 5424   <PRI>VERSION TIMESTAMP HOST APP PROCID MSGID SD MSG; SD is "-" or one or
//              more "[...]" elements (with \] escapes inside)
//   RFC 3164   <PRI>Mmm dd hh:mm:ss [HOST ]TAG: MSG   (nginx; "nohostname" leaves HOST out)
//   rsyslog    <PRI>YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm) [HOST ]TAG: MSG
//              (RSYSLOG_ForwardFormat: an RFC 3339 time in the RFC 3164 layout)
// TAG is the first token ending in ':' (with an optional "[pid]" before the colon)
// within 48 bytes of the time or host, and MSG starts after one space.
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
  const char* version_end = q;
  while (version_end < end && IsDigit(*version_end) && version_end - q < 3) ++version_end;
  if (version_end != q && version_end < end && *version_end == ' ') {  // RFC 5424: VERSION SP TIMESTAMP ...
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
  // RFC 3164's "Mmm dd hh:mm:ss " (day space-padded), or rsyslog's RFC 3339 time and a
  // space; then HOST (which nginx's nohostname leaves out), then TAG.
  if (end - q >= 16 && MonthFromAbbrev(q) != 0 && q[3] == ' ' && q[6] == ' ' && q[9] == ':' && q[12] == ':' &&
      q[15] == ' ') {
    q += 16;
  } else if (end - q >= 20 && Digits4(q) >= 0 && q[4] == '-' && q[7] == '-' && (q[10] == 'T' || q[10] == 't')) {
    q = token(q);
    if (q == nullptr) return nullptr;
  } else {
    return nullptr;
  }
  const char* first_end = q;
  while (first_end < end && *first_end != ' ') ++first_end;
  if (!IsTagToken(q, first_end)) {  // a host, then the tag
    q = token(q);
    if (q == nullptr) return nullptr;
  }
  const char* limit = end - q > 48 ? q + 48 : end;
  for (const char* c = q; c < limit; ++c) {
    if (*c == ' ') return nullptr;
    if (*c == ':') return (c + 1 < end && c[1] == ' ') ? c + 2 : c + 1 == end ? end : nullptr;
  }
  return nullptr;
}

}  // namespace skiptrail
