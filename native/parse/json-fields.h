// Where the JSON line formats (ndjson, caddy, traefik) find their fields: member paths
// compiled once into a small tree that the line reader (ndjson.cc) walks beside the
// JSON, so a line is read in one pass with no tree built and no JavaScript per line.
//
// A field spec is one or more paths separated by '|', in order of preference; a path is
// member names separated by '.' ("request.client_ip|request.remote_ip"). In a name,
// "\." is a literal '.', "\|" a literal '|' and "\\" a backslash; any other backslash,
// an empty name or an empty path is an error. Names are compared with the decoded JSON
// member names byte for byte. A path goes through objects only: arrays are not indexed,
// and a path that meets an array, a string or any other non-object finds nothing. A user
// or page path that ends at an array reads its first element (Caddy logs each header as
// an array of strings); a user path named like X-Forwarded-For reads the list's first
// address (ndjson.cc, PickJsonText).
// docs/ingest.md, "JSON lines", is the user-facing description.
#ifndef SKIPTRAIL_PARSE_JSON_FIELDS_H_
#define SKIPTRAIL_PARSE_JSON_FIELDS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace skiptrail {

// The fields a JSON line format reads. user, page and ts are required on every line;
// status, method and agent are read when their spec is non-empty. kAgentScope is not a
// field but the object that holds every request header the client sent (Caddy's
// request.headers): when it is present and the agent path finds nothing, the client
// sent no agent (ndjson.cc, JsonAgent).
enum class JsonRole : uint8_t { kUser, kPage, kTs, kStatus, kMethod, kAgent, kAgentScope, kCount };

// One spec per role (JsonRole order); an empty spec: the format's default (user, page
// and ts for ndjson; CaddyFields and TraefikFields for the presets), or no such field.
struct JsonFieldSpecs {
  std::string user, page, ts, status, method, agent, agent_scope;

  const std::string& of(JsonRole role) const;
  std::string& of(JsonRole role);
};

// Each format's fields (docs/ingest.md): ndjson user, page, ts; Caddy v2's access log;
// Traefik's JSON access log.
JsonFieldSpecs NdjsonFields();
JsonFieldSpecs CaddyFields();
JsonFieldSpecs TraefikFields();

// Each empty spec of *specs replaced by the one in `defaults`.
void FillJsonFieldDefaults(const JsonFieldSpecs& defaults, JsonFieldSpecs* specs);

// Limits that keep a compiled plan small (and the reader's recursion shallow).
constexpr size_t kMaxJsonPathAlternatives = 8;  // paths in one spec
constexpr size_t kMaxJsonPathDepth = 16;        // names in one path

// Splits a spec into its paths of decoded names. False, with *error naming the problem
// (and the spec), for an empty spec, an empty name, a bad escape or a limit exceeded.
bool ParseJsonFieldSpec(std::string_view spec, std::vector<std::vector<std::string>>* paths, std::string* error);

// The compiled tree. Node 0 is the line's top-level object. Every node that ends some
// path owns one value slot; slots are numbered in depth-first order, so the slots under
// a node (itself included) are exactly [slot_begin, slot_end): a member met again
// (JSON.parse keeps the last duplicate) clears that range before it is read.
struct JsonPlanNode {
  std::string name;                // the member name (empty for the root)
  // For the reader's name match, per child: its name's length, its first 8 bytes and
  // its last 8 bytes (zero-padded, as little-endian loads), and its node index.
  struct ChildKey {
    uint64_t head = 0, tail = 0;
    uint32_t length = 0;
    uint16_t node = 0;
  };
  std::vector<ChildKey> keys;
  uint64_t child_lengths = 0;  // bit min(L, 63) set for each child's name of L bytes
  std::vector<uint16_t> children;  // node indexes
  int16_t slot = -1;               // the slot this node's value fills, or -1
  uint16_t slot_begin = 0, slot_end = 0;
};

struct JsonFieldPlan {
  std::vector<JsonPlanNode> nodes;
  // Per role, the slots of its paths in order of preference; empty: the role is not read.
  std::vector<uint16_t> candidates[static_cast<size_t>(JsonRole::kCount)];
  // Per user candidate (candidates[kUser] order): whether its path's last name holds a
  // forwarded-for list (IsForwardedForName), of which the first address is the user.
  std::vector<bool> user_forwarded;
  size_t slots = 0;
};

// One path's value in the current line, as the reader (ndjson.cc) found it. [begin, end)
// is a string's undecoded body, a number's token or an array's text; escaped and
// printable as ScanJsonString reports them. kOther: true or false.
struct JsonSlot {
  enum class Kind : uint8_t { kMissing, kNull, kString, kNumber, kArray, kObject, kOther };
  Kind kind = Kind::kMissing;
  bool escaped = false, printable = true;
  const char* begin = nullptr;
  const char* end = nullptr;
};

// Compiles the specs (defaults already filled in). False with *error as
// ParseJsonFieldSpec; user, page and ts must be given.
bool CompileJsonFields(const JsonFieldSpecs& specs, JsonFieldPlan* plan, std::string* error);

}  // namespace skiptrail

#endif  // SKIPTRAIL_PARSE_JSON_FIELDS_H_
