// Calendar arithmetic and the time syntaxes log lines use, all in UTC (proleptic
// Gregorian): days from a civil date, UTC offsets, ISO-8601 date-times and the
// "dd/Mon/yyyy:HH:MM:SS +hhmm" time of Apache's %t and nginx's $time_local.
//
// Every reader returns false for a time that cannot be read, does not exist (31 Feb,
// hour 24, second 60, an offset beyond +-14:00) or lies outside [0, kMaxTimeMs].
#ifndef SKIPTRAIL_PARSE_CALENDAR_H_
#define SKIPTRAIL_PARSE_CALENDAR_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace skiptrail {

// The latest time a parser accepts: 8.64e15 ms, +275760-09-13T00:00:00Z, the end of
// JavaScript's Date range, so that every accepted time can be printed as a date.
constexpr int64_t kMaxTimeMs = 8640000000000000;

bool IsLeapYear(int y);
// REQUIRES: 1 <= m <= 12.
int DaysInMonth(int y, int m);
// Days since 1970-01-01 (Howard Hinnant's days_from_civil). REQUIRES: a valid date.
int64_t DaysFromCivil(int64_t y, int m, int d);
// "Jan".."Dec" (exact case, as Apache and nginx write them) at s[0..2] -> 1..12, else 0.
int MonthFromAbbrev(const char* s);

// A UTC offset of sign*(hh:mm); valid when minutes < 60 and |offset| <= 14:00, the
// widest offset in use (UTC-12:00 .. UTC+14:00). Returns seconds east of UTC.
inline bool UtcOffsetSeconds(char sign, int hh, int mm, int64_t* seconds) {
  if ((sign != '+' && sign != '-') || hh < 0 || mm < 0 || mm >= 60 || hh * 60 + mm > 14 * 60) {
    return false;
  }
  *seconds = (sign == '-' ? -1 : 1) * int64_t{hh * 3600 + mm * 60};
  return true;
}

// ISO-8601 / RFC 3339 date-time with seconds and an explicit offset:
//   YYYY-MM-DD('T'|'t'|' ')HH:MM:SS[.fraction]('Z'|'z'|+-HH:MM|+-HHMM)
// The fraction may have any number of digits; it is truncated to milliseconds (as
// Date.parse does).
bool ParseIsoTime(std::string_view s, int64_t* ms);

// One step of a strftime time as Apache writes it (%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t,
// compiled by format-compiler.cc): a literal byte or a conversion of fixed shape.
enum class TimeItem : uint8_t {
  kLiteral,     // the byte TimeStep::byte
  kYear,        // %Y: 4 digits
  kMonth,       // %m: 2 digits
  kMonthName,   // %b, %h: "Jan".."Dec"
  kDay,         // %d: 2 digits
  kDaySpace,    // %e: day padded with a space (" 5")
  kHour,        // %H
  kMinute,      // %M
  kSecond,      // %S
  kWeekday,     // %a: 3 letters, not checked against the date
  kOffset,      // %z: +hhmm
  kMillis,      // msec_frac: 3 digits
  kMicros,      // usec_frac: 6 digits, truncated to ms
};

struct TimeStep {
  TimeItem item = TimeItem::kLiteral;
  char byte = 0;  // kLiteral
};

// The end of a time with `pattern`'s shape starting at p (each literal byte in place,
// each conversion's digits, letters or sign where it puts them), or null. A shape says
// where the time ends, not that it exists: ReadTimePattern checks the values.
const char* ScanTimeShape(const std::vector<TimeStep>& pattern, const char* p, const char* end);

// Exactly `s` as a time of `pattern`. REQUIRES: the pattern holds a year, a month, a
// day, an hour, a minute, a second and an offset (format-compiler.cc checks it).
bool ReadTimePattern(const std::vector<TimeStep>& pattern, std::string_view s, int64_t* ms);

// Reads "dd/Mon/yyyy:HH:MM:SS +hhmm" exactly (26 bytes), with a one-entry cache of the
// last date's day number: consecutive lines of a log share their date. One per parser.
class ClfTimeReader {
 public:
  bool Read(const char* s, size_t n, int64_t* ms);

 private:
  char cached_date_[11] = {};  // "dd/Mon/yyyy"
  int64_t cached_day_ = 0;     // its days since 1970-01-01
  bool cached_date_valid_ = false;
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_PARSE_CALENDAR_H_
