// The JSON line formats: ndjson, caddy and traefik (docs/ingest.md, "JSON lines").
//
// One object per line, read in one pass beside the compiled paths (json-fields.h): a
// member on no path is skipped (but must be valid JSON), a member on a path is read into
// its slot or, when the path goes on and the value is an object, descended into. The
// recursion follows the plan, so it is at most kMaxJsonPathDepth deep whatever the line.
// A member met twice takes its last value, as JSON.parse does: meeting it again clears
// every slot under it before it is read ({"a":{"b":1},"a":{}} has no a.b).
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

using Kind = JsonSlot::Kind;

// A slot whose value stands for nothing: null or "" (a fallback path is tried).
inline bool IsEmptyValue(const JsonSlot& v) {
  return v.kind == Kind::kNull || (v.kind == Kind::kString && v.begin == v.end);
}

// Reads one value that is not an array into *v. Returns just past it, or null.
const char* ReadScalar(const char* p, const char* end, std::string* nesting, JsonSlot* v) {
  if (*p == '"') {
    v->escaped = false;
    v->printable = true;
    v->begin = p + 1;
    v->end = ScanJsonStringInline(v->begin, end, &v->escaped, &v->printable);
    if (v->end == nullptr) return nullptr;
    v->kind = Kind::kString;
    return v->end + 1;
  }
  if (*p == '-' || IsDigit(*p)) {
    v->kind = Kind::kNumber;
    v->begin = p;
    v->end = ScanJsonNumber(p, end);
    return v->end;
  }
  const char* after = SkipJsonValue(p, end, nesting);
  if (after == nullptr) return nullptr;
  v->kind = *p == 'n' ? Kind::kNull : *p == '{' ? Kind::kObject : Kind::kOther;
  return after;
}

// Whether the raw member name [name, name + length) is `key`'s. REQUIRES: the name's
// closing quote is before `end` (so name + length < end).
inline bool NameIs(const JsonPlanNode::ChildKey& key, const std::string& key_name, const char* name, size_t length,
                   const char* end) {
  if (key.length != length) return false;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (end - name >= 8) {
    const uint64_t head = Load8(name);
    if (length <= 8) return (length == 8 ? head : head & ((uint64_t{1} << (8 * length)) - 1)) == key.head;
    if (head != key.head) return false;
    if (length <= 16) return Load8(name + length - 8) == key.tail;
  }
#else
  (void)end;
#endif
  return std::memcmp(name, key_name.data(), length) == 0;
}

// The first element of an array the reader has checked ('[' ws (']' | value ...)), as a
// string slot: "" for []. False when the first element is not a string.
bool FirstArrayString(const JsonSlot& array, JsonSlot* first) {
  const char* p = SkipJsonWs(array.begin + 1, array.end);
  JsonSlot element;
  element.kind = Kind::kString;
  if (*p == ']') {
    element.begin = element.end = p;
  } else if (*p == '"') {
    element.begin = p + 1;
    element.end = ScanJsonString(element.begin, array.end, &element.escaped, &element.printable);
  } else {
    return false;
  }
  *first = element;
  return true;
}

// Skips a value no path needs, with the common kinds (strings, numbers) inline.
inline const char* SkipUnneededValue(const char* p, const char* end, std::string* nesting) {
  if (*p == '"') {
    bool escaped = false, printable = true;  // not used
    p = ScanJsonStringInline(p + 1, end, &escaped, &printable);
    return p == nullptr ? nullptr : p + 1;
  }
  if (*p == '-' || IsDigit(*p)) return ScanJsonNumber(p, end);
  return SkipJsonValue(p, end, nesting);
}

}  // namespace

// p is at a value on a path that ends at `slot`.
const char* LogParser::ReadJsonSlot(const char* p, const char* end, int16_t slot) {
  JsonSlot& v = json_slots_[static_cast<size_t>(slot)];
  if (*p != '[') return ReadScalar(p, end, &nesting_, &v);
  const char* after = SkipJsonValue(p, end, &nesting_);
  if (after == nullptr) return nullptr;
  v.kind = Kind::kArray;
  v.begin = p;
  v.end = after;
  return after;
}

// p is just past a '{'. Reads the members against plan node `node`; returns just past
// the closing '}', or null when the text is not valid JSON. Compact JSON (no whitespace
// between tokens, what servers write) takes the first branch of every check.
const char* LogParser::ReadJsonObject(const char* p, const char* end, uint16_t node) {
  const JsonPlanNode& n = json_plan_.nodes[node];
  if (p < end && *p != '"') {
    p = SkipJsonWs(p, end);
    if (p < end && *p == '}') return p + 1;
  }
  for (;;) {
    if (p == end || *p != '"') return nullptr;
    bool name_escaped = false, name_printable = true;
    const char* name = p + 1;
    const char* name_end = ScanJsonStringInline(name, end, &name_escaped, &name_printable);
    if (name_end == nullptr) return nullptr;
    const JsonPlanNode* child = nullptr;
    uint16_t child_index = 0;
    if (!name_escaped) {
      const size_t length = static_cast<size_t>(name_end - name);
      if ((n.child_lengths >> (length < 63 ? length : 63)) & 1) {
        for (const JsonPlanNode::ChildKey& key : n.keys) {
          if (NameIs(key, json_plan_.nodes[key.node].name, name, length, end)) {
            child = &json_plan_.nodes[key.node];
            child_index = key.node;
            break;
          }
        }
      }
    } else if (DecodeJsonString(name, name_end, &name_scratch_)) {  // else a lone surrogate: matches no name
      for (uint16_t c : n.children) {
        if (json_plan_.nodes[c].name == name_scratch_) {
          child = &json_plan_.nodes[c];
          child_index = c;
          break;
        }
      }
    }
    p = name_end + 1;
    if (p < end && *p == ':') {
      ++p;
    } else {
      p = SkipJsonWs(p, end);
      if (p == end || *p != ':') return nullptr;
      ++p;
    }
    if (p < end && static_cast<unsigned char>(*p) <= ' ') p = SkipJsonWs(p, end);
    if (p == end) return nullptr;

    if (child == nullptr) {
      p = SkipUnneededValue(p, end, &nesting_);
    } else {
      // Met before on this line: the last one wins, whole (the slots start the line empty).
      if (json_node_line_[child_index] == json_line_) {
        for (uint16_t s = child->slot_begin; s < child->slot_end; ++s) json_slots_[s] = JsonSlot();
      }
      json_node_line_[child_index] = json_line_;
      if (*p == '{' && !child->children.empty()) {
        if (child->slot >= 0) json_slots_[static_cast<size_t>(child->slot)].kind = Kind::kObject;
        p = ReadJsonObject(p + 1, end, child_index);
      } else if (child->slot >= 0) {
        p = ReadJsonSlot(p, end, child->slot);
      } else {
        p = SkipJsonValue(p, end, &nesting_);
      }
    }
    if (p == nullptr || p == end) return nullptr;
    if (*p == ',') {
      ++p;
    } else if (*p == '}') {
      return p + 1;
    } else {
      p = SkipJsonWs(p, end);
      if (p == end) return nullptr;
      if (*p == '}') return p + 1;
      if (*p != ',') return nullptr;
      ++p;
    }
    if (p < end && *p != '"') p = SkipJsonWs(p, end);
  }
}

// The value a role takes: its first path with a value that is not null or ""; else
// its first path present at all (so "" and null keep their own reason); null if none.
const JsonSlot* LogParser::PickJsonSlot(JsonRole role) const {
  const JsonSlot* empty = nullptr;
  for (uint16_t s : json_plan_.candidates[static_cast<size_t>(role)]) {
    const JsonSlot& v = json_slots_[s];
    if (v.kind == Kind::kMissing) continue;
    if (!IsEmptyValue(v)) return &v;
    if (empty == nullptr) empty = &v;
  }
  return empty;
}

// A forwarded-for list's first address (keys.h), in place; "" when it names no client
// (so the next path is tried). An escaped list is decoded into forwarded_scratch_ first;
// one with a lone surrogate is left whole (its key is then bad-encoding).
void LogParser::TakeForwardedAddress(JsonSlot* v) {
  std::string_view text(v->begin, v->end - v->begin);
  if (v->escaped) {
    if (!DecodeJsonString(v->begin, v->end, &forwarded_scratch_)) return;
    text = forwarded_scratch_;
    v->escaped = false;
    v->printable = false;  // not known: the key is checked whole
  }
  text = FirstForwardedAddress(text);
  if (IsUnknownAddress(text)) text = std::string_view();
  v->begin = text.data();
  v->end = text.data() + text.size();
}

// The value a user or page takes, read as a string where it can be: an array's first
// element (Caddy's header values; [] is ""), and for a user path named like
// X-Forwarded-For the list's first address. Then chosen as PickJsonSlot does. False when
// no path is present.
bool LogParser::PickJsonText(JsonRole role, JsonSlot* out) {
  const std::vector<uint16_t>& slots = json_plan_.candidates[static_cast<size_t>(role)];
  bool found = false;
  for (size_t i = 0; i < slots.size(); ++i) {
    JsonSlot v = json_slots_[slots[i]];
    if (v.kind == Kind::kMissing) continue;
    if (v.kind == Kind::kArray) FirstArrayString(v, &v);  // else it stays an array: not a string
    if (role == JsonRole::kUser && v.kind == Kind::kString && json_plan_.user_forwarded[i]) TakeForwardedAddress(&v);
    if (!IsEmptyValue(v)) {
      *out = v;
      return true;
    }
    if (!found) *out = v;
    found = true;
  }
  return found;
}

RejectReason LogParser::ParseJsonLine(const char* p, const char* end, ParsedView* out) {
  for (JsonSlot& v : json_slots_) v = JsonSlot();
  if (++json_line_ == 0) {  // wrapped: no stamp may look current
    std::fill(json_node_line_.begin(), json_node_line_.end(), 0);
    json_line_ = 1;
  }
  p = SkipJsonWs(p, end);
  if (p == end || *p != '{') return RejectReason::kMalformed;
  p = ReadJsonObject(p + 1, end, 0);
  if (p == nullptr || SkipJsonWs(p, end) != end) return RejectReason::kMalformed;

  JsonSlot user, page;
  const bool has_user = PickJsonText(JsonRole::kUser, &user);
  const bool has_page = PickJsonText(JsonRole::kPage, &page);
  const JsonSlot* ts = PickJsonSlot(JsonRole::kTs);
  const bool reads_status = !json_plan_.candidates[static_cast<size_t>(JsonRole::kStatus)].empty();
  const JsonSlot* status = reads_status ? PickJsonSlot(JsonRole::kStatus) : nullptr;
  if (!has_user || user.kind != Kind::kString || !has_page || page.kind != Kind::kString || ts == nullptr ||
      (reads_status && status == nullptr)) {
    return RejectReason::kMalformed;
  }
  if (reads_status) {
    // Three digits, as a number or a string (nginx's JSON log_formats quote $status).
    std::string_view text(status->begin, status->end - status->begin);
    if (status->kind == Kind::kString && status->escaped) {
      DecodeJsonString(status->begin, status->end, &ts_scratch_);  // ts_scratch_ is free until JsonTime
      text = ts_scratch_;
    }
    const bool digits = (status->kind == Kind::kNumber || status->kind == Kind::kString) && text.size() == 3 &&
                        IsDigit(text[0]) && IsDigit(text[1]) && IsDigit(text[2]);
    if (!digits) return RejectReason::kBadStatus;
    const unsigned code = static_cast<unsigned>((text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0'));
    if (code < 100 || code > 599) return RejectReason::kBadStatus;
    if (!StatusAccepted(code)) return RejectReason::kFiltered;
  }
  const RejectReason time = JsonTime(*ts, out);
  if (time != RejectReason::kNone) return time;

  // Without escapes a key is the raw bytes, which the scan has seen; with escapes it is
  // decoded into scratch and checked whole.
  auto take = [](const JsonSlot& v, std::string* scratch, std::string_view* key, KeyHint* hint) {
    if (v.escaped) {
      *hint = DecodeJsonString(v.begin, v.end, scratch) ? KeyHint::kUnchecked : KeyHint::kLoneSurrogate;
      *key = *scratch;
    } else {
      *hint = HintFor(v.printable);
      *key = std::string_view(v.begin, v.end - v.begin);
    }
  };
  KeyHint user_hint, page_hint;
  take(user, &user_scratch_, &out->user, &user_hint);
  take(page, &page_scratch_, &out->page, &page_hint);
  if (json_page_is_target_) {
    const std::string_view target = out->page;
    bool printable = true;
    const RejectReason r = ParseTarget(target.data(), target.data() + target.size(), options_.keep_query,
                                       &target_scratch_, &out->page, &printable);
    if (r != RejectReason::kNone) return r;
    if (page_hint != KeyHint::kLoneSurrogate) page_hint = HintFor(printable);
  }
  const RejectReason keys = CheckKeys(out->user, user_hint, out->page, page_hint, options_.max_key_bytes);
  if (keys != RejectReason::kNone) return keys;
  out->method = JsonMethod();
  out->agent = JsonAgent();
  return RejectReason::kNone;
}

namespace {

constexpr char kEmptyText[] = "";
// An empty value with a non-null data(): logged, and empty.
constexpr std::string_view kEmpty(kEmptyText, 0);

// The text of a string slot ScanJsonString accepted, decoded into *scratch if escaped.
std::string_view StringText(const JsonSlot& v, std::string* scratch) {
  if (!v.escaped) return std::string_view(v.begin, v.end - v.begin);
  DecodeJsonString(v.begin, v.end, scratch);
  return *scratch;
}

}  // namespace

// The method the line logs: a string value, decoded. Absent or not a string: none
// (a null view; the method rule passes).
std::string_view LogParser::JsonMethod() {
  if (json_plan_.candidates[static_cast<size_t>(JsonRole::kMethod)].empty()) return std::string_view();
  const JsonSlot* v = PickJsonSlot(JsonRole::kMethod);
  if (v == nullptr || v->kind != Kind::kString) return std::string_view();
  return StringText(*v, &method_scratch_);
}

// The user agent the line logs (docs/semantics.md, "What counts as a page view"):
//   a string          itself, decoded ("" and "-" are then crawlers, as in combined);
//   an array          (Caddy's header values) its first element if that is a string;
//                     [] is "" (the header logged with no value);
//   null              "" (logged as none);
//   absent            "" when the agent scope (Caddy's request.headers) is present: the
//                     client sent no User-Agent; otherwise unknown (Traefik drops
//                     headers unless told to keep them);
//   any other value   unknown (a number, an object, an array of non-strings).
// Unknown is a null view: the crawler rule's agent part passes.
std::string_view LogParser::JsonAgent() {
  if (json_plan_.candidates[static_cast<size_t>(JsonRole::kAgent)].empty()) return std::string_view();
  const JsonSlot* v = PickJsonSlot(JsonRole::kAgent);
  if (v == nullptr) {
    const bool scoped = !json_plan_.candidates[static_cast<size_t>(JsonRole::kAgentScope)].empty();
    const JsonSlot* scope = scoped ? PickJsonSlot(JsonRole::kAgentScope) : nullptr;
    return scope != nullptr && scope->kind == Kind::kObject ? kEmpty : std::string_view();
  }
  switch (v->kind) {
    case Kind::kString: return StringText(*v, &agent_scratch_);
    case Kind::kNull: return kEmpty;
    case Kind::kArray: {
      JsonSlot first;
      if (!FirstArrayString(*v, &first)) return std::string_view();
      return first.begin == first.end ? kEmpty : StringText(first, &agent_scratch_);
    }
    default: return std::string_view();
  }
}

// A number in the ts unit, or an ISO-8601 string; anything else is bad-time.
RejectReason LogParser::JsonTime(const JsonSlot& ts, ParsedView* out) {
  switch (ts.kind) {
    case Kind::kNumber:
      return JsonNumberToMs(ts.begin, ts.end, ts_unit_shift_, ts_fraction_ok_, &out->ts_ms) ? RejectReason::kNone
                                                                                         : RejectReason::kBadTime;
    case Kind::kString: {
      std::string_view text(ts.begin, ts.end - ts.begin);
      if (ts.escaped) {
        if (!DecodeJsonString(ts.begin, ts.end, &ts_scratch_)) return RejectReason::kBadTime;
        text = ts_scratch_;
      }
      return ParseIsoTime(text, &out->ts_ms) ? RejectReason::kNone : RejectReason::kBadTime;
    }
    default:
      return RejectReason::kBadTime;
  }
}

}  // namespace skiptrail
