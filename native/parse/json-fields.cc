#include "json-fields.h"

#include <algorithm>

#include "keys.h"

namespace skiptrail {

const std::string& JsonFieldSpecs::of(JsonRole role) const {
  switch (role) {
    case JsonRole::kUser: return user;
    case JsonRole::kPage: return page;
    case JsonRole::kTs: return ts;
    case JsonRole::kStatus: return status;
    case JsonRole::kMethod: return method;
    case JsonRole::kAgent: return agent;
    default: return agent_scope;
  }
}

std::string& JsonFieldSpecs::of(JsonRole role) {
  return const_cast<std::string&>(static_cast<const JsonFieldSpecs*>(this)->of(role));
}

namespace {

JsonFieldSpecs Specs(const char* user, const char* page, const char* ts, const char* status = "",
                     const char* method = "", const char* agent = "", const char* agent_scope = "") {
  JsonFieldSpecs specs;
  specs.user = user;
  specs.page = page;
  specs.ts = ts;
  specs.status = status;
  specs.method = method;
  specs.agent = agent;
  specs.agent_scope = agent_scope;
  return specs;
}

}  // namespace

JsonFieldSpecs NdjsonFields() { return Specs("user", "page", "ts"); }

// Caddy v2 (http.log.access): client_ip is the client as Caddy's trusted_proxies
// resolved it (Caddy 2.7+, equal to remote_ip without proxies); older versions log
// remote_ip only. Header values are arrays of strings. request.headers holds every
// header the client sent, so a User-Agent missing from it was not sent.
JsonFieldSpecs CaddyFields() {
  return Specs("request.client_ip|request.remote_ip", "request.uri", "ts", "status", "request.method",
               "request.headers.User-Agent", "request.headers");
}

// Traefik's JSON access log: flat members; StartLocal when StartUTC is dropped; request
// headers appear as request_<Name> only when accessLog.fields.headers keeps them, so a
// line without request_User-Agent says nothing about the agent (no agent scope).
JsonFieldSpecs TraefikFields() {
  return Specs("ClientHost", "RequestPath", "StartUTC|StartLocal", "DownstreamStatus", "RequestMethod",
               "request_User-Agent");
}

void FillJsonFieldDefaults(const JsonFieldSpecs& defaults, JsonFieldSpecs* specs) {
  for (size_t r = 0; r < static_cast<size_t>(JsonRole::kCount); ++r) {
    const JsonRole role = static_cast<JsonRole>(r);
    if (specs->of(role).empty()) specs->of(role) = defaults.of(role);
  }
}

bool ParseJsonFieldSpec(std::string_view spec, std::vector<std::vector<std::string>>* paths, std::string* error) {
  paths->clear();
  auto fail = [&](const std::string& why) {
    *error = "'" + std::string(spec) + "': " + why;
    return false;
  };
  if (spec.empty()) return fail("an empty path");
  std::vector<std::string> path(1);
  for (size_t i = 0; i <= spec.size(); ++i) {
    const char c = i < spec.size() ? spec[i] : '|';
    if (c == '\\') {
      if (i + 1 == spec.size()) return fail("a '\\' at the end (escape a backslash as '\\\\')");
      const char e = spec[++i];
      if (e != '.' && e != '|' && e != '\\') {
        return fail(std::string("unknown escape '\\") + e + "' (only '\\.', '\\|' and '\\\\')");
      }
      path.back().push_back(e);
    } else if (c == '.' || c == '|') {
      if (path.back().empty()) return fail("an empty member name");
      if (c == '.') {
        if (path.size() == kMaxJsonPathDepth) return fail("more than 16 names in one path");
        path.emplace_back();
      } else {
        if (paths->size() == kMaxJsonPathAlternatives) return fail("more than 8 '|' alternatives");
        paths->push_back(std::move(path));
        path.assign(1, std::string());
      }
    } else {
      path.back().push_back(c);
    }
  }
  return true;
}

namespace {

// Numbers the slots of node's subtree in depth-first order from *next.
void AssignSlots(std::vector<JsonPlanNode>* nodes, const std::vector<bool>& ends_path, uint16_t node, uint16_t* next) {
  JsonPlanNode& n = (*nodes)[node];
  n.slot_begin = *next;
  if (ends_path[node]) n.slot = static_cast<int16_t>((*next)++);
  const std::vector<uint16_t> children = n.children;  // *nodes is not resized here
  for (uint16_t child : children) AssignSlots(nodes, ends_path, child, next);
  (*nodes)[node].slot_end = *next;
}

}  // namespace

bool CompileJsonFields(const JsonFieldSpecs& specs, JsonFieldPlan* plan, std::string* error) {
  *plan = JsonFieldPlan();
  plan->nodes.emplace_back();
  std::vector<bool> ends_path(1, false);
  std::vector<uint16_t> leaves[static_cast<size_t>(JsonRole::kCount)];
  std::vector<std::vector<std::string>> paths;
  for (size_t r = 0; r < static_cast<size_t>(JsonRole::kCount); ++r) {
    const JsonRole role = static_cast<JsonRole>(r);
    const std::string& spec = specs.of(role);
    if (spec.empty()) {
      if (role == JsonRole::kUser || role == JsonRole::kPage || role == JsonRole::kTs) {
        *error = "no path for a required field";
        return false;
      }
      continue;
    }
    if (!ParseJsonFieldSpec(spec, &paths, error)) return false;
    for (const std::vector<std::string>& path : paths) {
      uint16_t node = 0;
      for (const std::string& name : path) {
        uint16_t found = 0;
        for (uint16_t child : plan->nodes[node].children) {
          if (plan->nodes[child].name == name) found = child;
        }
        if (found == 0) {
          found = static_cast<uint16_t>(plan->nodes.size());
          plan->nodes.emplace_back();
          plan->nodes.back().name = name;
          ends_path.push_back(false);
          plan->nodes[node].children.push_back(found);
        }
        node = found;
      }
      ends_path[node] = true;
      leaves[r].push_back(node);
      if (role == JsonRole::kUser) plan->user_forwarded.push_back(IsForwardedForName(path.back()));
    }
  }
  // Up to 8 bytes of `name` from `from` as a little-endian word, zero-padded.
  auto word = [](const std::string& name, size_t from) {
    uint64_t w = 0;
    for (size_t i = std::min(name.size(), from + 8); i-- > from;) w = w << 8 | static_cast<unsigned char>(name[i]);
    return w;
  };
  for (JsonPlanNode& node : plan->nodes) {
    for (uint16_t child : node.children) {
      const std::string& name = plan->nodes[child].name;
      JsonPlanNode::ChildKey key;
      key.length = static_cast<uint32_t>(name.size());
      key.head = word(name, 0);
      key.tail = name.size() > 8 ? word(name, name.size() - 8) : 0;
      key.node = child;
      node.keys.push_back(key);
      node.child_lengths |= uint64_t{1} << (name.size() < 63 ? name.size() : 63);
    }
  }
  uint16_t next = 0;
  AssignSlots(&plan->nodes, ends_path, 0, &next);
  plan->slots = next;
  for (size_t r = 0; r < static_cast<size_t>(JsonRole::kCount); ++r) {
    for (uint16_t node : leaves[r]) plan->candidates[r].push_back(static_cast<uint16_t>(plan->nodes[node].slot));
  }
  return true;
}

}  // namespace skiptrail
