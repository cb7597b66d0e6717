// LogParser: one log line in, one view event (user, page, ts) or a reason out.
//
// Pure C++17 with no Node headers, so a plain test program or libFuzzer can drive it.
// Formats (docs/ingest.md is the user-facing description of every rule below):
//
//   combined  host ident authuser [dd/Mon/yyyy:HH:MM:SS +hhmm] "request" status bytes "referer" "agent"
//             After bytes: the end of the line (a common-format line is accepted), or
//             ' "' and then anything: referer, agent and extra fields (%D, vhost...)
//             are not used, so they are not checked.
//   common    the same, ending right after bytes: anything more is malformed.
//   ndjson    one JSON object per line with a user string, a page string and a ts
//             (a number in ts_unit, or an ISO-8601 date-time string with an offset),
//             found by member paths (json-fields.h: "request.uri", "a|b"); with a
//             status path, the status filters as in the text formats.
//             With method and agent paths, the view rules read them (JsonAgent).
//   caddy     Caddy v2's JSON access log, traefik Traefik's: ndjson with preset paths
//             (json-fields.cc), a status, a method and an agent, and the page read as a
//             request target (the query dropped unless keep_query, as in the text formats).
//
// Checks run in this order and the first failing one is reported, so one line always
// gets the same reason (then, for every format, the view rules of view-rules.h: method,
// static, crawler):
//   combined/common: field structure (malformed) -> status (bad-status, filtered) ->
//                    user absent for 'authuser' (filtered) -> time (bad-time) ->
//                    request line and target (malformed) -> keys
//   JSON formats:    JSON syntax, user/page missing or not strings, ts or (if read)
//                    status missing (malformed) -> status (bad-status, filtered) ->
//                    ts value or type (bad-time) -> request target (presets: malformed,
//                    or filtered for "*") -> keys
//   keys:            a control byte in either key (malformed) -> invalid UTF-8 or a lone
//                    surrogate escape in either (bad-encoding) -> either longer than
//                    max_key_bytes (key-too-long). An empty key is malformed.
// Status and user filters come before the time and the request line on purpose: a 408
// with request "-" or a 400 with a binary request is a well-formed log line that is
// simply not a page load, so it is filtered, not counted as an error.
//
// Performance: the line is parsed in place, with no allocation once the scratch buffers
// have grown; field ends are found with 16-byte SSE2 scans (8-byte SWAR without SSE2)
// that also prove a key is printable ASCII, so most keys need no second pass; a
// one-entry date cache maps "dd/Mon/yyyy" to its epoch day.
//
// Files (native/parse/, one job each): log-parser.* this facade and the dispatch;
// scan.h the shared SIMD scanners; calendar.* dates, offsets and time syntaxes; keys.*
// the key rules; view-rules.* what counts as a page view; request.* the HTTP request
// line; syslog.* frame stripping; json.* JSON scanning; json-fields.* member paths and
// the JSON presets; access-log.cc the combined/common fast path; ndjson.cc JSON lines
// (ndjson, caddy, traefik);
// format-plan.h the plan of a field-by-field format, run by compiled-format.cc and
// compiled by format-compiler.* (Apache, nginx) and field-list.* (W3C, ALB); w3c.cc the
// W3C directives.
//
// Thread safety: none. A LogParser owns scratch buffers; use one per thread/session.
#ifndef SKIPTRAIL_PARSE_LOG_PARSER_H_
#define SKIPTRAIL_PARSE_LOG_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "calendar.h"  // kMaxTimeMs, ClfTimeReader
#include "format-compiler.h"
#include "json-fields.h"
#include "view-rules.h"

namespace skiptrail {

// kCompiled: an Apache LogFormat or nginx log_format string (ParserOptions::dialect,
// format_text, user_list), compiled once into a FormatPlan.
// kCaddy, kTraefik: JSON lines with preset fields (json-fields.h).
// kW3c: W3C extended logs (IIS, CloudFront), read by the "#Fields:" directive before the
// lines. kAlb: AWS Application Load Balancer access logs. Both run a FormatPlan too.
enum class LogFormat : uint8_t { kCombined, kCommon, kNdjson, kCompiled, kCaddy, kTraefik, kW3c, kAlb };

// JS: 'host' | 'authuser' | 'authuser|host'.
enum class UserField : uint8_t { kHost, kAuthuser, kAuthuserOrHost };

// Why a line was not indexed. kNone means accepted; kCount sizes per-reason arrays.
enum class RejectReason : uint8_t {
  kNone,
  kMalformed,
  kBadTime,
  kBadStatus,
  kFiltered,
  kKeyTooLong,
  kBadEncoding,
  kLineTooLong,
  kOtherPartition,  // a valid line whose user belongs to another partition (IngestSession)
  kFuture,  // set by IngestSession, not the parser: ts beyond its max_ts
  kMethod,   // a sound line whose method does not count (ParserOptions::rules, view-rules.h)
  kStatic,   // ... whose page is a static asset
  kCrawler,  // ... whose user agent is a crawler's
  kNoFields,  // w3c: a data line before any usable "#Fields:" directive
  kCount
};

// "malformed", "bad-time", "bad-status", "filtered", "key-too-long", "bad-encoding",
// "line-too-long", "other-partition", "future", "method", "static", "crawler",
// "no-fields"; "none" for kNone. Static storage, never null.
const char* RejectReasonName(RejectReason reason);

// The reasons of sound lines that are simply not page views (filtered, other-partition,
// method, static, crawler): counted, never sampled, and not errors.
inline bool IsFilterReason(RejectReason reason) {
  return reason == RejectReason::kFiltered || reason == RejectReason::kOtherPartition ||
         reason == RejectReason::kMethod || reason == RejectReason::kStatic || reason == RejectReason::kCrawler;
}

// The largest integer a JS number holds exactly (Number.MAX_SAFE_INTEGER).
constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;


// JSON formats: the unit of a numeric ts (JS: 'ms' | 's' | 'us' | 'ns'); kFormatDefault is
// seconds for caddy (its float "ts"), milliseconds otherwise.
enum class TimeUnit : uint8_t { kMilliseconds, kSeconds, kMicroseconds, kNanoseconds, kFormatDefault };

struct ParserOptions {
  LogFormat format = LogFormat::kCombined;
  UserField user = UserField::kHost;  // combined/common only
  bool keep_query = false;            // combined/common, caddy, traefik: keep "?query" in the page

  // Accepted statuses (text formats; JSON formats that read a status). If `statuses` is non-empty it replaces the
  // inclusive range [status_min, status_max]. Only 100..599 can ever match: any other
  // status field is bad-status before the filter is consulted.
  uint16_t status_min = 200, status_max = 399;
  std::vector<uint16_t> statuses;

  // JSON formats: where each field is (json-fields.h); an empty spec takes the format's
  // default. If a spec does not compile (CompileJsonFields), every line is malformed.
  JsonFieldSpecs json_fields;
  // JSON formats: the unit of a numeric ts. Only seconds may carry a fraction (truncated
  // to ms); a value in ms, us or ns must be an integer in its unit (us and ns are
  // truncated to ms).
  TimeUnit ts_unit = TimeUnit::kFormatDefault;

  // Every format: each line is an RFC 3164 or RFC 5424 syslog frame ("<PRI>..." as
  // nginx's access_log syslog: and rsyslog forwarders send) around the log line; the
  // frame is stripped first, and a line without one is malformed.
  bool syslog = false;

  // kCompiled: the format string, its dialect and the user list ("%{X-Forwarded-For}i|%h";
  // empty: the client address). kW3c: the user list of W3C field names (empty:
  // kW3cDefaultUser, "cs-username|c-ip"). The string must compile (CompileFormat); if it does
  // not, every line is malformed.
  FormatDialect dialect = FormatDialect::kApache;
  std::string format_text;
  std::string user_list;

  // Every format: which sound lines count as page views (view-rules.h). Default: all.
  ViewRules rules;

  uint32_t max_key_bytes = 1024;        // a longer user or page is key-too-long
  uint32_t max_line_bytes = 64 * 1024;  // enforced by IngestSession, not by Parse()

  // A shard's filter, enforced by IngestSession: with partitions > 0, a parsed line
  // whose user is not in partition `partition` (partition.h) is rejected as
  // other-partition. REQUIRES: partitions == 0, or partition < partitions <= kMaxPartitions.
  uint32_t partitions = 0;
  uint32_t partition = 0;
};

// ndjson, caddy and traefik.
inline bool IsJsonFormat(LogFormat format) {
  return format == LogFormat::kNdjson || format == LogFormat::kCaddy || format == LogFormat::kTraefik;
}

// A JSON format's field specs: options.json_fields with each empty one taken from the
// format's defaults (json-fields.h). REQUIRES: IsJsonFormat(options.format).
JsonFieldSpecs JsonFieldsOf(const ParserOptions& options);

// An accepted event. `user` and `page` point into the line given to Parse() or into
// the parser's scratch buffers (JSON escapes, absolute-URL targets): they stay valid
// until the next Parse() call or the parser's destruction, and the line must outlive
// them. ts_ms is in [0, kMaxTimeMs].
struct ParsedView {
  std::string_view user;
  std::string_view page;
  int64_t ts_ms = 0;
  // Read by the view rules: the request's method and user agent as logged, with a null
  // data() when the format has none. combined finds its agent only when the crawler
  // rule needs it (after the method and static rules passed), so a format parser may
  // leave it unset and set agent_tail instead.
  std::string_view method;
  std::string_view agent;
};

class LogParser {
 public:
  explicit LogParser(const ParserOptions& options);

  LogParser(const LogParser&) = delete;
  LogParser& operator=(const LogParser&) = delete;

  // Parses one line given WITHOUT its "\n"; a single trailing "\r" is ignored, and so
  // is a UTF-8 byte-order mark (EF BB BF) at the line's start (after the syslog frame
  // if options().syslog): it is never data. Any
  // bytes are safe, including NUL and "\n". Returns kNone and fills *out when the line
  // is accepted; otherwise returns the reason and leaves *out unspecified. Never
  // returns kLineTooLong (the session enforces max_line_bytes).
  RejectReason Parse(std::string_view line, ParsedView* out);

  // A line that came before the input, given WITHOUT its "\n": a file read from the
  // middle (follow's resume or from: 'end') gives the parser what it would have read
  // from the start (docs/ingest.md, "W3C files read from the middle"). It sets the
  // state Parse() would set (W3C: a "#Fields:" directive, after the same "\r", syslog
  // frame and BOM handling) and nothing else: it is not a line of the input. Any bytes
  // are safe; a line that sets no state, or any line of a format without state, does
  // nothing.
  void ReadContextLine(std::string_view line);

  const ParserOptions& options() const { return options_; }

 private:
  // The line's content: [*p, *end) without the "\r", the syslog frame (false when the
  // option is on and the frame is missing) and a BOM.
  bool LineContent(std::string_view line, const char** p, const char** end) const;

  // The format's own parse, before the view rules.
  RejectReason ParseFormat(const char* p, const char* end, ParsedView* out);

  // parse/access-log.cc: combined and common.
  RejectReason ParseAccessLog(const char* p, const char* end, ParsedView* out);
  // combined: the user agent in ' "referer" "agent" ...' starting at [p, end), or a null
  // view when the line holds none (a damaged referer). An agent whose closing quote was
  // lost runs to the end of the line.
  static std::string_view CombinedAgent(const char* p, const char* end);

  // parse/compiled-format.cc: a compiled Apache or nginx format.
  RejectReason ParseWithPlan(const char* p, const char* end, ParsedView* out);

  // parse/w3c.cc: directives, then data lines through the plan of the last "#Fields:".
  RejectReason ParseW3c(const char* p, const char* end, ParsedView* out);
  // A directive line (starting with '#'): "#Fields:" becomes the field list; filtered,
  // or no-fields for a "#Fields:" that cannot be used.
  RejectReason ReadW3cDirective(const char* p, const char* end);

  // parse/ndjson.cc: the JSON formats.
  RejectReason ParseJsonLine(const char* p, const char* end, ParsedView* out);
  const char* ReadJsonObject(const char* p, const char* end, uint16_t node);
  const char* ReadJsonSlot(const char* p, const char* end, int16_t slot);
  const JsonSlot* PickJsonSlot(JsonRole role) const;
  bool PickJsonText(JsonRole role, JsonSlot* out);
  void TakeForwardedAddress(JsonSlot* v);
  RejectReason JsonTime(const JsonSlot& ts, ParsedView* out);
  // The method and agent of the current line for the view rules (null views: none).
  std::string_view JsonMethod();
  std::string_view JsonAgent();

  bool StatusAccepted(unsigned status) const {
    return (status_bits_[status >> 6] >> (status & 63)) & 1;
  }

  ParserOptions options_;
  ViewClassifier view_rules_;
  // The page of every accepted line is a path with no '?' or '#' (a request target
  // without keep_query), which the static rule then need not look for.
  bool page_is_path_;
  // combined: where ' "referer" "agent"' starts in the current line (null for a line
  // that ends after bytes), read only when the crawler rule needs the agent.
  const char* agent_tail_ = nullptr;
  int ts_unit_shift_ = 0;          // JSON formats: power of ten from the ts unit to ms
  bool ts_fraction_ok_ = false;    // JSON formats: a numeric ts may have a fraction (s; ms given explicitly)
  uint64_t status_bits_[10] = {};  // bit s set <=> status s (0..639) is accepted

  ClfTimeReader clf_time_;  // access-log times, with the last date cached

  // kCompiled, kAlb, kW3c: the plan and whether it compiled.
  FormatPlan plan_;
  bool plan_ok_ = false;

  // JSON formats: the compiled paths, whether they compiled, whether the page is a
  // request target (caddy, traefik), and each path's value in the current line.
  JsonFieldPlan json_plan_;
  bool json_ok_ = false;
  bool json_page_is_target_ = false;
  std::vector<JsonSlot> json_slots_;
  // The number of the current JSON line (never 0), and per plan node the last line that
  // met its member, so only a member met twice clears its slots.
  uint32_t json_line_ = 0;
  std::vector<uint32_t> json_node_line_;

  // kW3c: the last "#Fields:" list, compiled on the first data line after it (which
  // shows whether values are separated by spaces, IIS, or tabs, CloudFront).
  enum class W3cState : uint8_t { kNoFields, kBadFields, kPending, kReady };
  W3cState w3c_state_ = W3cState::kNoFields;
  std::string w3c_fields_;

  // Scratch, reused across lines (grows, never shrinks).
  std::string user_scratch_, page_scratch_, ts_scratch_, name_scratch_, target_scratch_;
  std::string method_scratch_, agent_scratch_, forwarded_scratch_;
  std::string nesting_;  // JSON container stack while skipping other members' values
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_PARSE_LOG_PARSER_H_
