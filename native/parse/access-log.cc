// The combined and common formats: the hand-tuned fast path (docs/ingest.md,
// "'combined' and 'common'"). Fields are found with the SIMD scanners of scan.h, which
// also prove most keys printable ASCII as they go.
#include <string_view>

#include "calendar.h"
#include "keys.h"
#include "log-parser.h"
#include "request.h"
#include "scan.h"

namespace skiptrail {

namespace {

// An authuser that names nobody: Apache writes "-" for none and "\"\"" for empty.
inline bool IsNoUser(std::string_view authuser) { return authuser == "-" || authuser == "\"\""; }

}  // namespace

RejectReason LogParser::ParseAccessLog(const char* p, const char* end, ParsedView* out) {
  // host, ident, authuser: non-empty fields, each followed by one space.
  bool host_printable = true, auth_printable = true;
  const char* host = p;
  const char* host_end = ScanField(p, end, ' ', ' ', ' ', &host_printable);
  if (host_end == host || host_end == end) return RejectReason::kMalformed;
  p = host_end + 1;
  const char* ident_end = SpaceOrEnd(p, end);
  if (ident_end == p || ident_end == end) return RejectReason::kMalformed;
  // authuser may hold spaces (Apache and nginx log a name like "John Smith" raw): it
  // ends at the first " [", where the time starts.
  const char* auth = ident_end + 1;
  const char* auth_end = ScanField(auth, end, ' ', ' ', ' ', &auth_printable);
  while (auth_end != end && auth_end + 1 != end && auth_end[1] != '[') {
    auth_end = ScanField(auth_end + 1, end, ' ', ' ', ' ', &auth_printable);
  }
  if (auth_end == auth || auth_end == end) return RejectReason::kMalformed;
  p = auth_end + 1;

  // [time]: its content is checked after the status.
  if (p == end || *p != '[') return RejectReason::kMalformed;
  const char* time = p + 1;
  const char* time_end = FindByte(time, end, ']');
  if (time_end == nullptr) return RejectReason::kMalformed;
  p = time_end + 1;

  // "request": content checked after the status.
  if (end - p < 2 || p[0] != ' ' || p[1] != '"') return RejectReason::kMalformed;
  const char* request = p + 2;
  const char* request_end = FindClosingQuote(request, end);
  if (request_end == nullptr) return RejectReason::kMalformed;
  p = request_end + 1;

  // status and bytes.
  if (p == end || *p != ' ') return RejectReason::kMalformed;
  const char* status = p + 1;
  const char* status_end = SpaceOrEnd(status, end);
  if (status_end == status || status_end == end) return RejectReason::kMalformed;
  const char* bytes = status_end + 1;
  const char* bytes_end = SpaceOrEnd(bytes, end);
  if (bytes_end == bytes) return RejectReason::kMalformed;
  if (!(bytes_end - bytes == 1 && *bytes == '-')) {
    for (const char* b = bytes; b < bytes_end; ++b) {
      if (!IsDigit(*b)) return RejectReason::kMalformed;
    }
  }
  p = bytes_end;

  // common ends here. combined goes on with ' "referer" "agent"' and maybe more
  // fields; only the opening quote is checked, because nothing after bytes is used and
  // a damaged agent (the fixture's line 8899 lost its closing quote) should not cost a
  // page view.
  if (p != end) {
    if (options_.format == LogFormat::kCommon) return RejectReason::kMalformed;
    if (end - p < 2 || p[0] != ' ' || p[1] != '"') return RejectReason::kMalformed;
  }

  // Status: three digits, 100..599.
  if (status_end - status != 3 || status[0] < '1' || status[0] > '5' || !IsDigit(status[1]) ||
      !IsDigit(status[2])) {
    return RejectReason::kBadStatus;
  }
  const unsigned code = (status[0] - '0') * 100 + (status[1] - '0') * 10 + (status[2] - '0');
  if (!StatusAccepted(code)) return RejectReason::kFiltered;

  const std::string_view host_view(host, host_end - host), auth_view(auth, auth_end - auth);
  bool user_printable = host_printable;
  switch (options_.user) {
    case UserField::kHost: out->user = host_view; break;
    case UserField::kAuthuser:
      if (IsNoUser(auth_view)) return RejectReason::kFiltered;
      out->user = auth_view;
      user_printable = auth_printable;
      break;
    case UserField::kAuthuserOrHost:
      if (!IsNoUser(auth_view)) {
        out->user = auth_view;
        user_printable = auth_printable;
      } else {
        out->user = host_view;
      }
      break;
  }

  if (!clf_time_.Read(time, time_end - time, &out->ts_ms)) return RejectReason::kBadTime;

  bool page_printable = true;
  const RejectReason r =
      ParseRequest(request, request_end, options_.keep_query, &page_scratch_, &out->method, &out->page, &page_printable);
  if (r != RejectReason::kNone) return r;

  if (p != end) agent_tail_ = p;  // the agent is found only if the crawler rule needs it
  return CheckKeys(out->user, HintFor(user_printable), out->page, HintFor(page_printable), options_.max_key_bytes);
}

std::string_view LogParser::CombinedAgent(const char* p, const char* end) {
  if (end - p < 2 || p[0] != ' ' || p[1] != '"') return {};
  const char* referer_end = FindClosingQuote(p + 2, end);
  if (referer_end == nullptr) return {};
  p = referer_end + 1;
  if (end - p < 2 || p[0] != ' ' || p[1] != '"') return {};
  const char* agent = p + 2;
  const char* agent_end = FindClosingQuote(agent, end);
  return std::string_view(agent, (agent_end != nullptr ? agent_end : end) - agent);
}

}  // namespace skiptrail
