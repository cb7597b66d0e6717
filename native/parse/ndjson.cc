// The ndjson format: one flat JSON object per line (docs/ingest.md, "'ndjson'").
#include <string_view>

#include "calendar.h"
#include "json.h"
#include "keys.h"
#include "log-parser.h"
#include "scan.h"

namespace skiptrail {

// One JSON object per line. Members other than the three named ones are skipped (but
// must be valid JSON). A duplicated member name takes its last value, as JSON.parse
// does. user and page must be strings; ts a number or a string.
RejectReason LogParser::ParseNdjson(const char* p, const char* end, ParsedView* out) {
  enum class KeyState : uint8_t { kMissing, kString, kNotString };
  KeyState user_state = KeyState::kMissing, page_state = KeyState::kMissing;
  KeyHint user_hint = KeyHint::kUnchecked, page_hint = KeyHint::kUnchecked;
  ts_kind_ = TsKind::kMissing;

  p = SkipJsonWs(p, end);
  if (p == end || *p != '{') return RejectReason::kMalformed;
  p = SkipJsonWs(p + 1, end);
  if (p < end && *p == '}') {
    ++p;
  } else {
    for (;;) {
      if (p == end || *p != '"') return RejectReason::kMalformed;
      bool name_escaped = false, name_printable = true;
      const char* name = p + 1;
      const char* name_end = ScanJsonString(name, end, &name_escaped, &name_printable);
      if (name_end == nullptr) return RejectReason::kMalformed;
      std::string_view key(name, name_end - name);
      bool matchable = true;
      if (name_escaped) {
        matchable = DecodeJsonString(name, name_end, &name_scratch_);
        key = name_scratch_;
      }
      const bool is_user = matchable && key == options_.ndjson_user_field;
      const bool is_page = matchable && key == options_.ndjson_page_field;
      const bool is_ts = matchable && key == options_.ndjson_ts_field;

      p = SkipJsonWs(name_end + 1, end);
      if (p == end || *p != ':') return RejectReason::kMalformed;
      p = SkipJsonWs(p + 1, end);
      if (p == end) return RejectReason::kMalformed;

      if (!(is_user || is_page || is_ts)) {
        p = SkipJsonValue(p, end, &nesting_);
        if (p == nullptr) return RejectReason::kMalformed;
      } else if (*p == '"') {
        bool escaped = false, printable = true;
        const char* s = p + 1;
        const char* s_end = ScanJsonString(s, end, &escaped, &printable);
        if (s_end == nullptr) return RejectReason::kMalformed;
        // Without escapes the key is the raw bytes, which the scan has seen; with
        // escapes it is decoded into scratch and checked whole.
        auto take = [&](std::string* scratch, std::string_view* key, KeyHint* hint) {
          if (escaped) {
            *hint = DecodeJsonString(s, s_end, scratch) ? KeyHint::kUnchecked : KeyHint::kLoneSurrogate;
            *key = *scratch;
          } else {
            *hint = HintFor(printable);
            *key = std::string_view(s, s_end - s);
          }
        };
        if (is_user) {
          user_state = KeyState::kString;
          take(&user_scratch_, &out->user, &user_hint);
        }
        if (is_page) {
          page_state = KeyState::kString;
          take(&page_scratch_, &out->page, &page_hint);
        }
        if (is_ts) {
          ts_kind_ = TsKind::kString;
          ts_begin_ = s;
          ts_end_ = s_end;
          ts_escaped_ = escaped;
        }
        p = s_end + 1;
      } else {
        const char* value = p;
        p = SkipJsonValue(p, end, &nesting_);
        if (p == nullptr) return RejectReason::kMalformed;
        if (is_user) user_state = KeyState::kNotString;
        if (is_page) page_state = KeyState::kNotString;
        if (is_ts) {
          ts_kind_ = (*value == '-' || IsDigit(*value)) ? TsKind::kNumber : TsKind::kOther;
          ts_begin_ = value;
          ts_end_ = p;
        }
      }

      p = SkipJsonWs(p, end);
      if (p == end) return RejectReason::kMalformed;
      if (*p == ',') {
        p = SkipJsonWs(p + 1, end);
        continue;
      }
      if (*p == '}') {
        ++p;
        break;
      }
      return RejectReason::kMalformed;
    }
  }
  if (SkipJsonWs(p, end) != end) return RejectReason::kMalformed;
  if (user_state != KeyState::kString || page_state != KeyState::kString ||
      ts_kind_ == TsKind::kMissing) {
    return RejectReason::kMalformed;
  }
  const RejectReason r = NdjsonTime(out);
  if (r != RejectReason::kNone) return r;
  return CheckKeys(out->user, user_hint, out->page, page_hint, options_.max_key_bytes);
}

RejectReason LogParser::NdjsonTime(ParsedView* out) {
  switch (ts_kind_) {
    case TsKind::kNumber:
      return JsonNumberToMs(ts_begin_, ts_end_, ts_unit_shift_, options_.ts_unit == TimeUnit::kSeconds,
                            &out->ts_ms)
                 ? RejectReason::kNone
                 : RejectReason::kBadTime;
    case TsKind::kString: {
      std::string_view text(ts_begin_, ts_end_ - ts_begin_);
      if (ts_escaped_) {
        if (!DecodeJsonString(ts_begin_, ts_end_, &ts_scratch_)) return RejectReason::kBadTime;
        text = ts_scratch_;
      }
      return ParseIsoTime(text, &out->ts_ms) ? RejectReason::kNone : RejectReason::kBadTime;
    }
    default:
      return RejectReason::kBadTime;
  }
}

}  // namespace skiptrail
