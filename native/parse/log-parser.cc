#include "log-parser.h"

#include <cstring>

#include "../dcheck.h"
#include "field-list.h"
#include "syslog.h"

namespace skiptrail {

const char* RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kNone: return "none";
    case RejectReason::kMalformed: return "malformed";
    case RejectReason::kBadTime: return "bad-time";
    case RejectReason::kBadStatus: return "bad-status";
    case RejectReason::kFiltered: return "filtered";
    case RejectReason::kOtherPartition: return "other-partition";
    case RejectReason::kKeyTooLong: return "key-too-long";
    case RejectReason::kBadEncoding: return "bad-encoding";
    case RejectReason::kLineTooLong: return "line-too-long";
    case RejectReason::kFuture: return "future";
    case RejectReason::kMethod: return "method";
    case RejectReason::kStatic: return "static";
    case RejectReason::kCrawler: return "crawler";
    case RejectReason::kNoFields: return "no-fields";
    case RejectReason::kCount: break;
  }
  return "unknown";
}

JsonFieldSpecs JsonFieldsOf(const ParserOptions& options) {
  SKIPTRAIL_DCHECK(IsJsonFormat(options.format));
  JsonFieldSpecs specs = options.json_fields;
  FillJsonFieldDefaults(options.format == LogFormat::kCaddy     ? CaddyFields()
                        : options.format == LogFormat::kTraefik ? TraefikFields()
                                                                : NdjsonFields(),
                        &specs);
  // The preset's agent scope goes with the preset's agent path: an agent path of the
  // user's own says nothing about which headers a line holds.
  if (!options.json_fields.agent.empty() && options.json_fields.agent_scope.empty()) specs.agent_scope.clear();
  return specs;
}

LogParser::LogParser(const ParserOptions& options)
    : options_(options),
      view_rules_(options.rules, options.format == LogFormat::kW3c ? AgentCoding::kW3c : AgentCoding::kAsSent),
      page_is_path_((options.format == LogFormat::kCombined || options.format == LogFormat::kCommon ||
                     options.format == LogFormat::kCompiled) &&
                    !options.keep_query) {
  const LogFormat format = options_.format;
  TimeUnit unit = options_.ts_unit;
  if (unit == TimeUnit::kFormatDefault) unit = format == LogFormat::kCaddy ? TimeUnit::kSeconds : TimeUnit::kMilliseconds;
  switch (unit) {
    case TimeUnit::kMilliseconds: ts_unit_shift_ = 0; break;
    case TimeUnit::kSeconds: ts_unit_shift_ = 3; break;
    case TimeUnit::kMicroseconds: ts_unit_shift_ = -3; break;
    case TimeUnit::kNanoseconds: ts_unit_shift_ = -6; break;
    default: ts_unit_shift_ = 0; break;
  }
  // Fractions: in seconds always (Caddy's default float), in ms only when the unit was
  // given (Caddy's unix_milli_float): a fraction under the ndjson default is more likely
  // seconds (Python's time.time()) read as ms, and its bad-time sample says so.
  ts_fraction_ok_ = unit == TimeUnit::kSeconds ||
                    (unit == TimeUnit::kMilliseconds && options_.ts_unit == TimeUnit::kMilliseconds);
  if (IsJsonFormat(format)) {
    std::string error;
    json_ok_ = CompileJsonFields(JsonFieldsOf(options_), &json_plan_, &error);
    json_slots_.resize(json_plan_.slots);
    json_node_line_.assign(json_plan_.nodes.size(), 0);
    json_page_is_target_ = format != LogFormat::kNdjson;
  }
  if (options_.format == LogFormat::kCompiled) {
    std::string error;
    plan_ok_ = CompileFormat(options_.dialect, options_.format_text, options_.user_list, &plan_, &error);
    if (plan_ok_ && !view_rules_.filters_agents()) DropAgentField(&plan_);
  } else if (options_.format == LogFormat::kAlb) {
    plan_ = AlbPlan();
    plan_ok_ = true;
  } else if (options_.format == LogFormat::kW3c && options_.user_list.empty()) {
    options_.user_list = std::string(kW3cDefaultUser);
  }
  auto accept = [this](unsigned s) {
    if (s >= 100 && s <= 599) status_bits_[s >> 6] |= uint64_t{1} << (s & 63);
  };
  if (!options_.statuses.empty()) {
    for (uint16_t s : options_.statuses) accept(s);
  } else {
    for (unsigned s = options_.status_min; s <= options_.status_max && s <= 599; ++s) accept(s);
  }
}

bool LogParser::LineContent(std::string_view line, const char** p_out, const char** end_out) const {
  const char* p = line.data();
  const char* end = p + line.size();
  if (end > p && end[-1] == '\r') --end;
  if (options_.syslog && (p = SkipSyslogFrame(p, end)) == nullptr) return false;
  if (end - p >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
  *p_out = p;
  *end_out = end;
  return true;
}

RejectReason LogParser::Parse(std::string_view line, ParsedView* out) {
  const char* p;
  const char* end;
  if (!LineContent(line, &p, &end)) return RejectReason::kMalformed;
  out->method = std::string_view();
  out->agent = std::string_view();
  agent_tail_ = nullptr;
  const RejectReason reason = ParseFormat(p, end, out);
  if (reason == RejectReason::kMethod) {  // CONNECT host:port (request.h): no page, whatever the rules
    return view_rules_.ClassifyRequest(out->method, "/", true) == RejectReason::kMethod ? RejectReason::kMethod
                                                                                         : RejectReason::kFiltered;
  }
  if (reason != RejectReason::kNone || !view_rules_.active()) return reason;
  const RejectReason request = view_rules_.ClassifyRequest(out->method, out->page, page_is_path_);
  if (request != RejectReason::kNone || !view_rules_.filters_agents()) return request;
  if (agent_tail_ != nullptr) out->agent = CombinedAgent(agent_tail_, end);
  return out->agent.data() != nullptr && view_rules_.IsCrawler(out->agent) ? RejectReason::kCrawler
                                                                           : RejectReason::kNone;
}

RejectReason LogParser::ParseFormat(const char* p, const char* end, ParsedView* out) {
  if (IsJsonFormat(options_.format)) {
    return json_ok_ ? ParseJsonLine(p, end, out) : RejectReason::kMalformed;
  }
  if (options_.format == LogFormat::kCompiled || options_.format == LogFormat::kAlb) {
    return plan_ok_ ? ParseWithPlan(p, end, out) : RejectReason::kMalformed;
  }
  if (options_.format == LogFormat::kW3c) return ParseW3c(p, end, out);
  return ParseAccessLog(p, end, out);
}

}  // namespace skiptrail
