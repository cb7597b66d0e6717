// W3C extended logs (IIS, CloudFront): directives and data lines (docs/ingest.md, "W3C
// extended logs"). A line starting with '#' is a directive: "#Fields:" replaces the field
// list for the lines after it (it may change mid-file, as IIS writes a new header when
// its configuration changes); every directive, used or not, is `filtered` (a sound line
// that is no page load). A data line before any "#Fields:" is `no-fields`, and so are the
// data lines after a "#Fields:" that lacks date, time, cs-uri-stem or a user field (that
// directive itself is `no-fields` too, so its sample shows why).
#include <cstring>
#include <string>

#include "field-list.h"
#include "log-parser.h"
#include "scan.h"

namespace skiptrail {

RejectReason LogParser::ReadW3cDirective(const char* p, const char* end) {
  static constexpr char kFields[] = "#Fields:";
  const size_t n = sizeof kFields - 1;
  if (static_cast<size_t>(end - p) < n || std::memcmp(p, kFields, n) != 0) return RejectReason::kFiltered;
  w3c_fields_.assign(p + n, end);
  // Checked now so that the directive is rejected when it cannot be used; compiled
  // for real on the first data line, which shows the separator.
  std::string error;
  w3c_state_ = CompileW3cFields(w3c_fields_, options_.user_list, ' ', &plan_, &error) ? W3cState::kPending
                                                                                      : W3cState::kBadFields;
  plan_ok_ = false;
  return w3c_state_ == W3cState::kPending ? RejectReason::kFiltered : RejectReason::kNoFields;
}

void LogParser::ReadContextLine(std::string_view line) {
  const char* p;
  const char* end;
  if (options_.format != LogFormat::kW3c || !LineContent(line, &p, &end)) return;
  if (p != end && *p == '#') ReadW3cDirective(p, end);
}

RejectReason LogParser::ParseW3c(const char* p, const char* end, ParsedView* out) {
  if (p != end && *p == '#') return ReadW3cDirective(p, end);
  switch (w3c_state_) {
    case W3cState::kNoFields:
    case W3cState::kBadFields: return RejectReason::kNoFields;
    case W3cState::kPending: {
      // CloudFront separates values with tabs, IIS with spaces (it writes a space inside
      // a value as '+'): a tab anywhere in the first data line means tabs.
      const char separator = FindByte(p, end, '\t') != nullptr ? '\t' : ' ';
      std::string error;
      plan_ok_ = CompileW3cFields(w3c_fields_, options_.user_list, separator, &plan_, &error);
      w3c_state_ = W3cState::kReady;
      break;
    }
    case W3cState::kReady: break;
  }
  return plan_ok_ ? ParseWithPlan(p, end, out) : RejectReason::kNoFields;
}

}  // namespace skiptrail
