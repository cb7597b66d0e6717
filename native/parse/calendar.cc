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

namespace {

bool IsAsciiLetter(char c) { return static_cast<unsigned char>((c | 0x20) - 'a') < 26; }

// How many bytes a conversion writes; all but kDaySpace's first are of one class.
size_t ItemWidth(TimeItem item) {
  switch (item) {
    case TimeItem::kLiteral: return 1;
    case TimeItem::kYear: return 4;
    case TimeItem::kMonthName: case TimeItem::kWeekday: case TimeItem::kMillis: return 3;
    case TimeItem::kOffset: return 5;
    case TimeItem::kMicros: return 6;
    default: return 2;
  }
}

}  // namespace

const char* ScanTimeShape(const std::vector<TimeStep>& pattern, const char* p, const char* end) {
  for (const TimeStep& step : pattern) {
    const size_t width = ItemWidth(step.item);
    if (static_cast<size_t>(end - p) < width) return nullptr;
    switch (step.item) {
      case TimeItem::kLiteral:
        if (*p != step.byte) return nullptr;
        break;
      case TimeItem::kMonthName: case TimeItem::kWeekday:
        if (!IsAsciiLetter(p[0]) || !IsAsciiLetter(p[1]) || !IsAsciiLetter(p[2])) return nullptr;
        break;
      case TimeItem::kOffset:
        if ((p[0] != '+' && p[0] != '-') || Digits4(p + 1) < 0) return nullptr;
        break;
      case TimeItem::kDaySpace:
        if ((p[0] != ' ' && !IsDigit(p[0])) || !IsDigit(p[1])) return nullptr;
        break;
      default:
        for (size_t i = 0; i < width; ++i) {
          if (!IsDigit(p[i])) return nullptr;
        }
        break;
    }
    p += width;
  }
  return p;
}

bool ReadTimePattern(const std::vector<TimeStep>& pattern, std::string_view s, int64_t* ms) {
  const char* p = s.data();
  const char* const end = p + s.size();
  if (ScanTimeShape(pattern, p, end) != end) return false;
  int year = -1, month = -1, day = -1, hour = -1, minute = -1, second = -1;
  int64_t millis = 0, offset = 0;
  for (const TimeStep& step : pattern) {
    switch (step.item) {
      case TimeItem::kYear: year = Digits4(p); break;
      case TimeItem::kMonth: month = Digits2(p); break;
      case TimeItem::kMonthName: month = MonthFromAbbrev(p); break;
      case TimeItem::kDay: day = Digits2(p); break;
      case TimeItem::kDaySpace: day = p[0] == ' ' ? p[1] - '0' : Digits2(p); break;
      case TimeItem::kHour: hour = Digits2(p); break;
      case TimeItem::kMinute: minute = Digits2(p); break;
      case TimeItem::kSecond: second = Digits2(p); break;
      case TimeItem::kMillis: millis = Digits2(p) * 10 + (p[2] - '0'); break;
      case TimeItem::kMicros: millis = Digits2(p) * 10 + (p[2] - '0'); break;
      case TimeItem::kOffset:
        if (!UtcOffsetSeconds(p[0], Digits2(p + 1), Digits2(p + 3), &offset)) return false;
        break;
      case TimeItem::kLiteral: case TimeItem::kWeekday: break;
    }
    p += ItemWidth(step.item);
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 || minute > 59 ||
      second > 59 || year < 0 || hour < 0 || minute < 0 || second < 0) {
    return false;
  }
  const int64_t seconds = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
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
