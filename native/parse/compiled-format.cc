// Runs a compiled FormatPlan (format-plan.h) over one line: Apache LogFormat and
// nginx log_format strings. Checks run in the order of the combined format: structure
// (malformed) -> status (bad-status, filtered) -> no user present (filtered) -> time
// (bad-time) -> request or path (malformed) -> keys.
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

// The first occurrence of `literal` (non-empty) in [p, end), or null.
inline const char* FindLiteral(const char* p, const char* end, const std::string& literal) {
  const size_t n = literal.size();
  const char first = literal[0];
  while (end - p >= static_cast<std::ptrdiff_t>(n)) {
    const char* hit = FindByte(p, end - n + 1, first);
    if (hit == nullptr) return nullptr;
    if (std::memcmp(hit + 1, literal.data() + 1, n - 1) == 0) return hit;
    p = hit + 1;
  }
  return nullptr;
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

bool ReadTime(FieldRole role, std::string_view v, ClfTimeReader* clf, int64_t* ms) {
  switch (role) {
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
  const size_t n = plan.fields.size();
  // Structure: every literal where the plan puts it.
  const std::string& first = plan.literals[0];
  if (static_cast<size_t>(end - p) < first.size() || std::memcmp(p, first.data(), first.size()) != 0) {
    return RejectReason::kMalformed;
  }
  p += first.size();
  for (size_t i = 0; i < n; ++i) {
    const std::string& next = plan.literals[i + 1];
    const char* value_end;
    if (plan.fields[i].quoted) {
      value_end = FindClosingQuote(p, end);
    } else if (next.empty()) {  // the last field: up to a space (then the line must end)
      value_end = FieldEnd(p, end);
    } else {
      value_end = FindLiteral(p, end, next);
    }
    if (value_end == nullptr) return RejectReason::kMalformed;
    values_[i] = std::string_view(p, value_end - p);
    p = value_end;
    if (static_cast<size_t>(end - p) < next.size() || std::memcmp(p, next.data(), next.size()) != 0) {
      return RejectReason::kMalformed;
    }
    p += next.size();
  }
  if (p != end) return RejectReason::kMalformed;

  // Status, then the user, then the time, then the page.
  std::string_view user_by_slot[9];
  std::string_view time, request, request_uri, path, query;
  FieldRole time_role = FieldRole::kIgnore, query_role = FieldRole::kIgnore;
  for (size_t i = 0; i < n; ++i) {
    const PlanField& field = plan.fields[i];
    const std::string_view v = values_[i];
    switch (field.role) {
      case FieldRole::kStatus: {
        if (v.size() != 3 || v[0] < '1' || v[0] > '5' || !IsDigit(v[1]) || !IsDigit(v[2])) {
          return RejectReason::kBadStatus;
        }
        const unsigned code = (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
        if (!StatusAccepted(code)) return RejectReason::kFiltered;
        break;
      }
      case FieldRole::kUserCandidate: {
        std::string_view u = v;
        if (field.first_of_list) {  // "203.0.113.7, 10.0.0.1": the client is the first
          const size_t comma = u.find(',');
          if (comma != std::string_view::npos) u = u.substr(0, comma);
          while (!u.empty() && u.back() == ' ') u.remove_suffix(1);
          while (!u.empty() && u.front() == ' ') u.remove_prefix(1);
        }
        user_by_slot[field.user_slot] = u;
        break;
      }
      case FieldRole::kRequestLine: request = v; break;
      case FieldRole::kRequestUri: request_uri = v; break;
      case FieldRole::kPath: path = v; break;
      case FieldRole::kQuery:
      case FieldRole::kArgs:
        query = v;
        query_role = field.role;
        break;
      case FieldRole::kIgnore: break;
      default:
        time = v;
        time_role = field.role;
        break;
    }
  }
  bool have_user = false;
  for (size_t slot = 0; slot < plan.user_slots && !have_user; ++slot) {
    if (!IsAbsent(user_by_slot[slot])) {
      out->user = user_by_slot[slot];
      have_user = true;
    }
  }
  if (!have_user) return RejectReason::kFiltered;

  if (!ReadTime(time_role, time, &clf_time_, &out->ts_ms)) return RejectReason::kBadTime;

  bool page_printable = true;
  if (request.data() != nullptr) {
    const RejectReason r =
        ParseRequest(request.data(), request.data() + request.size(), options_.keep_query, &page_scratch_,
                     &out->page, &page_printable);
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
  return CheckKeys(out->user, KeyHint::kUnchecked, out->page, HintFor(page_printable), options_.max_key_bytes);
}

}  // namespace skiptrail
