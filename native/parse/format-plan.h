// A compiled log format: the plan that Apache LogFormat and nginx log_format strings
// compile to (format-compiler.h), run once per line by LogParser with no look at the
// format string. Compile once, report every error at compile time, as better-sqlite3's
// prepare() does; GoAccess re-reads its format string on every line.
//
// A plan is literal_0 field_1 literal_1 ... field_n literal_n: a line matches when it is
// exactly that sequence. Each field ends where the literal after it next occurs (so a
// user name with a space, followed by " [", reads whole), or, when that literal and the
// one before the field are both '"', at the first '"' no backslash escapes (Apache
// writes \", nginx \x22); the last field, with an empty literal after it, runs to the end
// of the line in an Apache or nginx format (an X-Forwarded-For list "203.0.113.7,
// 10.0.0.8" holds spaces), and ends at a space or the end of the line in a W3C or ALB
// field list, where the line must end there. A strftime time (Apache %{...}t) ends where
// its pattern's shape ends, so the spaces inside it are no field ends. Two fields with no
// literal between them do not compile.
//
// The unused tail: when the plan's last fields are all unused and the first of them is
// quoted (combined's "referer" "agent", maybe followed by %D or a virtual host), the line
// must reach that field's opening literal, and the rest is not read: as with the built-in
// combined format, a damaged agent does not cost a page view (docs/ingest.md).
//
// Each field carries how its end is found, chosen at compile time so that the runner
// does no search it can avoid: a quote, a single byte (the common case: one space, "]"),
// a longer literal, or a space or the line's end.
//
// Apache and nginx strings compile here in format-compiler.cc; W3C "#Fields:" lists and
// the fixed ALB layout in field-list.cc.
#ifndef SKIPTRAIL_PARSE_FORMAT_PLAN_H_
#define SKIPTRAIL_PARSE_FORMAT_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "calendar.h"  // TimeStep

namespace skiptrail {

// What a field's value is used for. The user candidates are read only when named in
// the plan's user list; everything kIgnore is skipped unread.
enum class FieldRole : uint8_t {
  kIgnore,
  kUserCandidate,   // a value the user list may name (index in user_order)
  kRequestLine,     // "GET /a?b HTTP/1.1": method, page and protocol
  kRequestUri,      // "/a?b" as requested (nginx $request_uri)
  kPath,            // "/a" (Apache %U, nginx $uri)
  kQuery,           // "?b" or "" (Apache %q)
  kArgs,            // "b" or "" (nginx $args)
  kStatus,          // three digits
  kMethod,          // "GET" (Apache %m, nginx $request_method), read by the view rules
  kAgent,           // the User-Agent header (%{User-Agent}i, $http_user_agent), likewise
  kTimeClf,         // "10/Oct/2000:13:55:36 -0700"
  kTimeIso,         // "2000-10-10T13:55:36-07:00"
  kTimeSeconds,     // "971211336" (Apache %{sec}t)
  kTimeMillis,      // "971211336000" (Apache %{msec}t)
  kTimeMicros,      // "971211336000000" (Apache %{usec}t)
  kTimeSecondsFrac,  // "971211336.123" (nginx $msec)
  kDate,             // "2000-10-10" (W3C date, UTC), with a kTimeOfDay field
  kTimeOfDay,        // "20:55:36" (W3C time, UTC), with a kDate field
  kTimeStrftime,     // Apache %{...}t strftime pieces, read by PlanField::time_pattern
};


// How a field's end is found. kQuote and kTimeShape come first: the runner tells them
// from the scanned ends with one compare.
enum class FieldEnd : uint8_t {
  kQuote,       // the first '"' no backslash escapes
  kTimeShape,   // an Apache strftime time: where its time_pattern's shape ends (no literal search)
  kByte,        // the next occurrence of the one-byte literal after it
  kLiteral,     // the next occurrence of the longer literal after it
  kSpaceOrEnd,  // the last field: `stop` or the line's end. `stop` is a space (a tab in
                // CloudFront's W3C) in a W3C or ALB field list, and '\n' in an Apache or
                // nginx format, where the last field runs to the line's end
                // ("203.0.113.7, 10.0.0.8"): a line holds no '\n' (one given to
                // LogParser::Parse ends the field, and the line is then malformed)
};

struct PlanField {
  FieldRole role = FieldRole::kIgnore;
  FieldEnd end = FieldEnd::kSpaceOrEnd;
  char stop = ' ';              // kByte, kLiteral: the literal's first byte; kSpaceOrEnd: ' ', '\t' or '\n'
  bool quoted = false;          // between '"' literals: ends at an unescaped '"'
  bool first_of_list = false;   // a user candidate taken up to its first ", " (X-Forwarded-For)
  bool strip_port = false;      // a user candidate "addr:port" or "[v6]:port": the address alone (ALB)
  bool conditional = false;     // written only for some statuses (%400,501{User-agent}i): "-" is unknown
  uint8_t user_slot = 0;        // kUserCandidate: its position in the user list
  std::string directive;        // as written in the format, for messages
  std::vector<TimeStep> time_pattern;  // an Apache strftime time (kTimeShape), read or not
};

struct FormatPlan {
  std::vector<std::string> literals;  // literals.size() == fields.size() + 1
  std::vector<PlanField> fields;
  // The user list in order of preference ("%{X-Forwarded-For}i|%h"): slot i is taken
  // from the field whose user_slot is i; the first present one (not "-", not empty)
  // is the user.
  size_t user_slots = 0;
  bool has_status = false;  // without a status field every line counts
  // Fields [0, read_fields) are read; the rest are the unused tail, of which only the
  // opening literal, literals[read_fields] (the last literal read), is checked. read_fields == fields.size()
  // means the whole line is read and must end where the plan ends.
  size_t read_fields = 0;
  bool has_method = false;  // a method for the view rules (%r, %m, $request, $request_method)
  bool has_agent = false;   // a user agent for the view rules (%{User-Agent}i, $http_user_agent)
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_PARSE_FORMAT_PLAN_H_
