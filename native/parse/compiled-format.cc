// Runs a compiled FormatPlan (format-plan.h) over one line: Apache LogFormat and
// nginx log_format strings. Checks run in the order of the combined format: structure
// (malformed) -> status (bad-status, filtered) -> no user present (filtered) -> time
// (bad-time) -> request or path (malformed) -> keys; then the view rules (view-rules.h)
// read the method (%m, else the request line's) and the agent (%{User-Agent}i).
//
// One pass finds every field with the scanner its end needs (format-plan.h, FieldEnd),
// keeps only the values the plan uses, and learns on the way whether a user value is
// printable ASCII, so that a key needs a UTF-8 check only where combined's would.
#include <algorithm>
#include <cstring>
#include <string_view>

#include "calendar.h"
#include "json.h"
#include "keys.h"
#include "log-parser.h"
#include "request.h"
#include "scan.h"

namespace skiptrail {

namespace {

// True if [p, end) starts with `literal`. Inline: literals are a few bytes, shorter than
// the cost of a memcmp call.
inline bool StartsWithLiteral(const char* p, const char* end, const std::string& literal) {
  const size_t n = literal.size();
  if (static_cast<size_t>(end - p) < n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != literal[i]) return false;
  }
  return true;
}

// The end of the field starting at p, where the literal `next` after it starts, having
// checked that literal; or null. For a user candidate, also clears *printable if a byte
// of the value is outside 0x20..0x7E (a quoted value always clears it), so that its key
// check is skipped where combined's is.
inline const char* FindFieldEnd(const PlanField& field, const std::string& next, const char* p, const char* end,
                                bool* printable) {
  if (field.end <= FieldEnd::kTimeShape) {  // the two ends found without a byte scan: one compare
    if (field.end == FieldEnd::kQuote) {
      *printable = false;
      const char* q = FindClosingQuote(p, end);
      return q != nullptr && StartsWithLiteral(q, end, next) ? q : nullptr;
    }
    const char* shape_end = ScanTimeShape(field.time_pattern, p, end);
    return shape_end != nullptr && StartsWithLiteral(shape_end, end, next) ? shape_end : nullptr;
  }
  const bool scan_printable = field.role == FieldRole::kUserCandidate;
  const char stop = field.stop;
  for (;;) {
    const char* hit;
    if (scan_printable) {
      hit = ScanField(p, end, stop, stop, stop, printable);
      if (hit == end) hit = nullptr;
    } else {
      hit = FindByte(p, end, stop);
    }
    if (field.end == FieldEnd::kByte) return hit;
    if (field.end == FieldEnd::kSpaceOrEnd) return hit == nullptr ? end : hit;
    if (hit == nullptr || StartsWithLiteral(hit, end, next)) return hit;
    p = hit + 1;
  }
}

// An absent value: Apache and nginx write "-" for an empty one (Apache's %u writes "" for
// an empty name).
inline bool IsAbsent(std::string_view v) { return v.empty() || v == "-" || v == "\"\""; }

// Digits with at most one '.', not first or last: a number of seconds, ms or us.
bool IsDecimal(std::string_view v, bool fraction_allowed) {
  if (v.empty()) return false;
  bool dot = false;
  for (size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (c == '.' && fraction_allowed && !dot && i != 0 && i + 1 != v.size()) {
      dot = true;
    } else if (!IsDigit(c)) {
      return false;
    }
  }
  return true;
}

// "addr:port" -> "addr", "[v6]:port" -> "v6"; anything else as it is.
std::string_view StripPort(std::string_view v) {
  size_t colon = v.rfind(':');
  if (colon == std::string_view::npos) return v;
  for (size_t i = colon + 1; i < v.size(); ++i) {
    if (!IsDigit(v[i])) return v;
  }
  if (colon + 1 == v.size()) return v;
  v = v.substr(0, colon);
  if (v.size() >= 2 && v.front() == '[' && v.back() == ']') v = v.substr(1, v.size() - 2);
  return v;
}

// W3C's separate date and time of day, both UTC: "2000-10-10" and "20:55:36" (a fraction
// allowed), read as the ISO time "2000-10-10T20:55:36Z".
bool ReadDateAndTime(std::string_view date, std::string_view time, int64_t* ms) {
  char buf[64];
  if (date.size() != 10 || time.empty() || time.size() > 40) return false;
  std::memcpy(buf, date.data(), 10);
  buf[10] = 'T';
  std::memcpy(buf + 11, time.data(), time.size());
  buf[11 + time.size()] = 'Z';
  return ParseIsoTime(std::string_view(buf, 12 + time.size()), ms);
}

bool ReadTime(const PlanField& field, std::string_view v, ClfTimeReader* clf, int64_t* ms) {
  switch (field.role) {
    case FieldRole::kTimeStrftime: return ReadTimePattern(field.time_pattern, v, ms);
    case FieldRole::kTimeClf: return clf->Read(v.data(), v.size(), ms);
    case FieldRole::kTimeIso: return ParseIsoTime(v, ms);
    case FieldRole::kTimeSeconds: return IsDecimal(v, false) && JsonNumberToMs(v.data(), v.data() + v.size(), 3, false, ms);
    case FieldRole::kTimeMillis: return IsDecimal(v, false) && JsonNumberToMs(v.data(), v.data() + v.size(), 0, false, ms);
    case FieldRole::kTimeMicros: return IsDecimal(v, false) && JsonNumberToMs(v.data(), v.data() + v.size(), -3, false, ms);
    case FieldRole::kTimeSecondsFrac:
      return IsDecimal(v, true) && JsonNumberToMs(v.data(), v.data() + v.size(), 3, true, ms);
    default: return false;
  }
}

}  // namespace

RejectReason LogParser::ParseWithPlan(const char* p, const char* end, ParsedView* out) {
  const FormatPlan& plan = plan_;
  // Structure and values in one pass: every literal where the plan puts it, each field's
  // value kept only if the plan uses it.
  if (!StartsWithLiteral(p, end, plan.literals[0])) return RejectReason::kMalformed;
  p += plan.literals[0].size();
  // The user: the present candidate with the lowest slot (the first in the user list).
  size_t user_slot = plan.user_slots;
  bool user_printable = false;
  std::string_view status, date, time, request, request_uri, path, query, method, agent;
  FieldRole query_role = FieldRole::kIgnore;
  const PlanField* time_field = nullptr;  // the time's field (W3C: the time of day's)
  for (size_t i = 0; i < plan.read_fields; ++i) {
    const PlanField& field = plan.fields[i];
    const std::string& next = plan.literals[i + 1];
    bool printable = true;
    const char* value_end = FindFieldEnd(field, next, p, end, &printable);
    std::string_view v;
    if (value_end != nullptr) {
      v = std::string_view(p, value_end - p);
      p = value_end + next.size();
    } else if (field.role == FieldRole::kAgent && i + 1 == plan.fields.size() && next == "\"") {
      // The line's last field, an agent that lost its closing quote (the fixture's line
      // 8899): it runs to the end of the line, as combined reads it.
      v = std::string_view(p, end - p);
      p = end;
    } else {
      return RejectReason::kMalformed;
    }
    switch (field.role) {
      case FieldRole::kIgnore: break;
      case FieldRole::kStatus: status = v; break;
      case FieldRole::kUserCandidate: {
        std::string_view u = v;
        // "203.0.113.7, 10.0.0.1": the client is the first; "unknown" names none.
        if (field.first_of_list) u = FirstForwardedAddress(u);
        if (field.strip_port) u = StripPort(u);
        if (field.user_slot < user_slot && !IsAbsent(u) && !(field.first_of_list && IsUnknownAddress(u))) {
          user_slot = field.user_slot;
          out->user = u;
          user_printable = printable;
        }
        break;
      }
      case FieldRole::kRequestLine: request = v; break;
      case FieldRole::kMethod: method = v; break;
      case FieldRole::kAgent:
        // A conditional agent (%400,501{User-agent}i) writes "-" for the other statuses:
        // then the agent is unknown, not an empty one.
        if (!(field.conditional && v == "-")) agent = v;
        break;
      case FieldRole::kRequestUri: request_uri = v; break;
      case FieldRole::kPath: path = v; break;
      case FieldRole::kQuery:
      case FieldRole::kArgs:
        query = v;
        query_role = field.role;
        break;
      case FieldRole::kDate: date = v; break;
      default:
        time = v;
        time_field = &field;
        break;
    }
  }
  // The whole plan read: the line ends here. Otherwise the unused tail's opening literal
  // was the last one checked, and the rest is not read.
  if (plan.read_fields == plan.fields.size() && p != end) return RejectReason::kMalformed;

  // Status, then the user, then the time, then the page.
  if (status.data() != nullptr) {
    const std::string_view v = status;
    if (v.size() != 3 || v[0] < '1' || v[0] > '5' || !IsDigit(v[1]) || !IsDigit(v[2])) {
      return RejectReason::kBadStatus;
    }
    const unsigned code = (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
    if (!StatusAccepted(code)) return RejectReason::kFiltered;
  }
  if (user_slot == plan.user_slots) return RejectReason::kFiltered;

  if (time_field == nullptr ||
      !(time_field->role == FieldRole::kTimeOfDay ? ReadDateAndTime(date, time, &out->ts_ms)
                                                  : ReadTime(*time_field, time, &clf_time_, &out->ts_ms))) {
    return RejectReason::kBadTime;
  }

  bool page_printable = true;
  if (request.data() != nullptr) {
    const RejectReason r =
        ParseRequest(request.data(), request.data() + request.size(), options_.keep_query, &page_scratch_,
                     &out->method, &out->page, &page_printable);
    if (r != RejectReason::kNone) return r;
  } else {
    // A request URI or a path as the server logged it: origin-form only.
    std::string_view target = request_uri.data() != nullptr ? request_uri : path;
    if (target.empty() || target[0] != '/') return RejectReason::kMalformed;
    size_t cut = target.find('#');
    if (cut == std::string_view::npos) cut = target.size();
    if (!options_.keep_query) cut = std::min(cut, target.find('?'));
    target = target.substr(0, cut);
    if (options_.keep_query && request_uri.data() == nullptr && !IsAbsent(query) && query != "?") {
      page_scratch_.assign(target.data(), target.size());
      if (query_role == FieldRole::kArgs) page_scratch_.push_back('?');
      page_scratch_.append(query.data(), query.size());
      target = page_scratch_;
    }
    out->page = target;
    page_printable = false;
  }
  // A method field (%m) wins over the request line's: they agree unless the line lies.
  if (method.data() != nullptr) out->method = method;
  out->agent = agent;
  return CheckKeys(out->user, HintFor(user_printable), out->page, HintFor(page_printable), options_.max_key_bytes);
}

}  // namespace skiptrail
