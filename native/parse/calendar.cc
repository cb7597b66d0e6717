#include "calendar.h"

#include <cstring>

#include "../dcheck.h"

#include "scan.h"

namespace skiptrail {

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  SKIPTRAIL_DCHECK(m >= 1 && m <= 12);
  static const unsigned char kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

int64_t DaysFromCivil(int64_t y, int m, int d) {
  SKIPTRAIL_DCHECK(m >= 1 && m <= 12 && d >= 1 && d <= DaysInMonth(static_cast<int>(y), m));
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int MonthFromAbbrev(const char* s) {
  static const char kNames[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  for (int i = 0; i < 12; ++i) {
    if (std::memcmp(s, kNames + 3 * i, 3) == 0) return i + 1;
  }
  return 0;
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
  if (result < 0 || result > kMaxTimeMs) return false;
  *ms = result;
  return true;
}

// "dd/Mon/yyyy:HH:MM:SS +hhmm", exactly, as Apache's %t and nginx's $time_local write it.
bool ClfTimeReader::Read(const char* s, size_t n, int64_t* ts_ms) {
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

}  // namespace skiptrail
