#include "field-list.h"

#include <vector>

#include "keys.h"

namespace skiptrail {

namespace {

// One field of a list: its role, whether it is written between double quotes, and for a
// user candidate its name in the user list.
struct ListField {
  FieldRole role = FieldRole::kIgnore;
  bool quoted = false;
  std::string user_name;       // non-empty: a user candidate (W3C: its name in lower case)
  bool first_of_list = false;  // a forwarded-for list: its first address
  bool strip_port = false;     // "203.0.113.7:4242": the address alone
};

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c | 0x20);
  }
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Whether a W3C field name (in lower case) may name the user: c-ip, cs-username,
// x-forwarded-for, a request header cs(Name) other than the agent, referer and cookie,
// or a custom field (IIS's custom logging writes the name given, "X-Forwarded-For"):
// one with no W3C prefix and none of the standard unprefixed names.
bool IsW3cUserName(std::string_view name) {
  if (name.empty() || name.find_first_of(" \t|") != std::string_view::npos) return false;
  if (name == "c-ip" || name == "cs-username" || name == "x-forwarded-for") return true;
  if (StartsWith(name, "cs(")) {
    return name.size() > 4 && name.back() == ')' && name != "cs(user-agent)" && name != "cs(referer)" &&
           name != "cs(cookie)";
  }
  for (std::string_view prefix : {"c-", "s-", "r-", "cs-", "sc-", "sr-", "rs-", "sc(", "sr(", "rs("}) {
    if (StartsWith(name, prefix)) return false;
  }
  for (std::string_view standard : {"date", "time", "time-taken", "bytes", "cached", "comment"}) {
    if (name == standard) return false;
  }
  return true;
}

template <typename Fn>
void ForEachEntry(std::string_view list, char separator, Fn fn) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t stop = list.find(separator, start);
    if (stop == std::string_view::npos) stop = list.size();
    fn(list.substr(start, stop - start));
    start = stop + 1;
  }
}

// Builds the plan: fields joined by `separator`, quoted ones between '"'. Slot i of the
// user list is the field named by its i-th entry. Returns false if an entry names no field.
bool BuildPlan(const std::vector<ListField>& list, char separator, std::string_view user_list, bool open_tail,
               FormatPlan* plan) {
  *plan = FormatPlan();
  plan->literals.emplace_back();
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) plan->literals.back().push_back(separator);
    if (list[i].quoted) plan->literals.back().push_back('"');
    PlanField field;
    field.role = list[i].role;
    field.quoted = list[i].quoted;
    field.first_of_list = list[i].first_of_list;
    field.strip_port = list[i].strip_port;
    if (!list[i].user_name.empty()) field.directive = std::string(list[i].user_name);
    plan->fields.push_back(std::move(field));
    plan->literals.emplace_back(list[i].quoted ? "\"" : "");
  }
  size_t slot = 0;
  bool all_found = true;
  ForEachEntry(user_list, '|', [&](std::string_view entry) {
    bool found = false;
    for (size_t i = 0; i < list.size() && !found; ++i) {
      if (list[i].user_name != entry || plan->fields[i].role == FieldRole::kUserCandidate) continue;
      plan->fields[i].role = FieldRole::kUserCandidate;
      plan->fields[i].user_slot = static_cast<uint8_t>(slot);
      found = true;
    }
    if (found) ++slot;
    all_found = all_found && found;
  });
  plan->user_slots = slot;
  size_t last_used = 0;
  for (size_t i = 0; i < plan->fields.size(); ++i) {
    PlanField& field = plan->fields[i];
    if (field.role != FieldRole::kUserCandidate) field.directive.clear();
    if (field.role == FieldRole::kStatus) plan->has_status = true;
    if (field.role == FieldRole::kMethod || field.role == FieldRole::kRequestLine) plan->has_method = true;
    if (field.role == FieldRole::kAgent) plan->has_agent = true;
    if (field.role != FieldRole::kIgnore) last_used = i + 1;
    const std::string& next = plan->literals[i + 1];
    field.end = field.quoted       ? FieldEnd::kQuote
                : next.empty()     ? FieldEnd::kSpaceOrEnd
                : next.size() == 1 ? FieldEnd::kByte
                                   : FieldEnd::kLiteral;
    field.stop = next.empty() ? separator : next[0];
  }
  plan->read_fields = open_tail ? last_used : plan->fields.size();
  return slot > 0;
}

// W3C field names are matched in any ASCII case (IIS writes custom fields as named).
ListField W3cField(std::string_view given) {
  const std::string name = AsciiLower(given);
  ListField f;
  if (name == "date") f.role = FieldRole::kDate;
  else if (name == "time") f.role = FieldRole::kTimeOfDay;
  else if (name == "cs-uri-stem") f.role = FieldRole::kPath;
  else if (name == "cs-uri-query") f.role = FieldRole::kArgs;
  else if (name == "sc-status") f.role = FieldRole::kStatus;
  else if (name == "cs-method") f.role = FieldRole::kMethod;
  else if (name == "cs(user-agent)") f.role = FieldRole::kAgent;  // '+' or %XX for spaces (view-rules.h)
  if (f.role == FieldRole::kIgnore && IsW3cUserName(name)) f.user_name = name;
  f.first_of_list = name == "x-forwarded-for" || name == "cs(x-forwarded-for)";
  return f;
}

}  // namespace

bool CheckW3cUserList(std::string_view user_list, std::string* error) {
  bool ok = true;
  std::vector<std::string> seen;
  ForEachEntry(user_list, '|', [&](std::string_view entry) {
    if (!ok) return;
    const std::string name = AsciiLower(entry);
    bool known = IsW3cUserName(name);
    for (const std::string& s : seen) {
      if (s == name) known = false;
    }
    if (!known) {
      *error = "user " + std::string(entry) +
               " is not a W3C field that can name a user, or is named twice (c-ip, cs-username, x-forwarded-for, "
               "cs(Header), or a custom field)";
      ok = false;
    }
    seen.push_back(name);
  });
  return ok;
}

bool CompileW3cFields(std::string_view fields, std::string_view user_list, char separator, FormatPlan* plan,
                      std::string* error) {
  std::vector<ListField> list;
  bool date = false, time = false, stem = false;
  for (size_t i = 0; i < fields.size();) {
    while (i < fields.size() && (fields[i] == ' ' || fields[i] == '\t')) ++i;
    size_t j = i;
    while (j < fields.size() && fields[j] != ' ' && fields[j] != '\t') ++j;
    if (j == i) break;
    ListField f = W3cField(fields.substr(i, j - i));
    // A name listed twice: the first is used.
    for (const ListField& before : list) {
      if (f.role != FieldRole::kIgnore && before.role == f.role) f.role = FieldRole::kIgnore;
      if (!f.user_name.empty() && before.user_name == f.user_name) f.user_name = {};
    }
    date = date || f.role == FieldRole::kDate;
    time = time || f.role == FieldRole::kTimeOfDay;
    stem = stem || f.role == FieldRole::kPath;
    list.push_back(f);
    i = j;
  }
  if (!date || !time || !stem) {
    *error = "#Fields: lacks";
    if (!date) *error += " date";
    if (!time) *error += " time";
    if (!stem) *error += " cs-uri-stem";
    return false;
  }
  if (!BuildPlan(list, separator, AsciiLower(user_list), false, plan)) {
    *error = "#Fields: lacks a user field (" + std::string(user_list) + ")";
    return false;
  }
  return true;
}

FormatPlan AlbPlan() {
  // https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html
  ListField client;
  client.user_name = "client:port";
  client.strip_port = true;
  ListField status, request, agent, created, quoted;
  status.role = FieldRole::kStatus;
  agent.role = FieldRole::kAgent;  // "-" when the client sent none
  agent.quoted = true;
  request.role = FieldRole::kRequestLine;
  request.quoted = true;
  created.role = FieldRole::kTimeIso;
  quoted.quoted = true;
  const ListField ignored;
  const std::vector<ListField> list = {
      ignored,  // type
      ignored,  // time (when the response was sent)
      ignored,  // elb
      client,   // client:port
      ignored,  // target:port
      ignored, ignored, ignored,  // request, target and response processing times
      status,   // elb_status_code
      ignored,  // target_status_code
      ignored, ignored,  // received_bytes, sent_bytes
      request,  // "request"
      agent,    // "user_agent"
      ignored, ignored, ignored,  // ssl_cipher, ssl_protocol, target_group_arn
      quoted, quoted, quoted,     // "trace_id", "domain_name", "chosen_cert_arn"
      ignored,  // matched_rule_priority
      created,  // request_creation_time
      quoted,   // "actions_executed" (and the fields after it, not read)
  };
  FormatPlan plan;
  BuildPlan(list, ' ', "client:port", true, &plan);
  return plan;
}

}  // namespace skiptrail
