#include "activity-index-wrap.h"

#include "ingest-wrap.h"
#include "snapshot-wrap.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string_view>
#include <utility>

namespace skiptrail {

namespace {

constexpr double kMaxSafeNumber = 9007199254740991.0;

// Marks the objects whose native half is an ActivityIndexWrap (napi_type_tag_object).
constexpr napi_type_tag kActivityIndexTag = {0x5c1b7a3e0d2f4e61ull, 0x9a8c4f27b3e1d605ull};

// True when `value` is an integer in [min, kMaxSafeInteger].
bool IsSafeInteger(double value, double min) {
  return std::isfinite(value) && value >= min && value <= kMaxSafeNumber && std::trunc(value) == value;
}

Napi::Value ThrowType(Napi::Env env, const std::string& message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowRange(Napi::Env env, const std::string& message) {
  Napi::RangeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

// Reads argument `index` as a safe integer >= min; on failure throws naming `name`.
// (napi_get_value_double checks the type itself: no separate napi_typeof per call.)
bool ReadInteger(const Napi::CallbackInfo& info, size_t index, const char* name, double min, int64_t* out) {
  Napi::Env env = info.Env();
  double value = 0;
  if (info.Length() <= index || napi_get_value_double(env, info[index], &value) != napi_ok) {
    ThrowType(env, std::string(name) + " must be a number");
    return false;
  }
  if (!IsSafeInteger(value, min)) {
    ThrowRange(env, std::string(name) + " must be a safe integer >= " + std::to_string(static_cast<int64_t>(min)));
    return false;
  }
  *out = static_cast<int64_t>(value);
  return true;
}

// Reads argument 8, the engine tuning for tests ({ smallListMax, tombstoneSlack,
// queueSlack }, each optional; see EngineOptions::small_list_max), into *options.
// Absent or undefined: the defaults. Returns false with a pending exception when malformed.
bool ReadTuning(const Napi::CallbackInfo& info, EngineOptions* options) {
  Napi::Env env = info.Env();
  if (info.Length() <= 8 || info[8].IsUndefined()) return true;
  if (!info[8].IsObject()) {
    ThrowType(env, "tuning must be an object");
    return false;
  }
  const Napi::Object tuning = info[8].As<Napi::Object>();
  const std::pair<const char*, uint32_t*> fields[] = {{"smallListMax", &options->small_list_max},
                                                      {"tombstoneSlack", &options->tombstone_slack},
                                                      {"queueSlack", &options->queue_slack}};
  for (const auto& [name, out] : fields) {
    const Napi::Value value = tuning.Get(name);
    if (env.IsExceptionPending()) return false;
    if (value.IsUndefined()) continue;
    if (!value.IsNumber()) {
      ThrowType(env, std::string("tuning.") + name + " must be a number");
      return false;
    }
    const double number = value.As<Napi::Number>().DoubleValue();
    if (!IsSafeInteger(number, 0) || number > UINT32_MAX) {
      ThrowRange(env, std::string("tuning.") + name + " must be an integer from 0 to 4294967295");
      return false;
    }
    *out = static_cast<uint32_t>(number);
  }
  return true;
}

// Appends the UTF-8 form of UTF-16 `units` to `out`. Returns false, having appended
// part of it, if `units` holds a lone surrogate.
bool AppendUtf8(const char16_t* units, size_t count, std::string* out) {
  for (size_t i = 0; i < count; ++i) {
    uint32_t c = units[i];
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
      continue;
    }
    if (c >= 0xD800 && c <= 0xDFFF) {
      if (c > 0xDBFF || i + 1 == count || units[i + 1] < 0xDC00 || units[i + 1] > 0xDFFF) return false;
      c = 0x10000 + ((c - 0xD800) << 10) + (units[i + 1] - 0xDC00);
      ++i;
    }
    if (c < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    } else if (c < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (c >> 12)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (c >> 18)));
      out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    }
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
  return true;
}

// The number of UTF-16 units of valid UTF-8 `key`: one per character, two for those
// beyond U+FFFF (4-byte sequences).
uint32_t Utf16Length(std::string_view key) {
  uint32_t units = 0;
  for (const char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    units += (byte & 0xC0) != 0x80;
    units += byte >= 0xF0;
  }
  return units;
}

}  // namespace

Napi::Function ActivityIndexWrap::Init(Napi::Env env) {
  return DefineClass(env, "NativeActivityIndex",
                     {
                         InstanceMethod<&ActivityIndexWrap::JS_bindResults>("bindResults"),
                         InstanceMethod<&ActivityIndexWrap::JS_recordMany>("recordMany"),
                         InstanceMethod<&ActivityIndexWrap::JS_takeFreedIds>("takeFreedIds"),
                         InstanceMethod<&ActivityIndexWrap::JS_advanceWatermark>("advanceWatermark"),
                         InstanceMethod<&ActivityIndexWrap::JS_stats>("stats"),
                         InstanceMethod<&ActivityIndexWrap::JS_clear>("clear"),
                         InstanceMethod<&ActivityIndexWrap::JS_close>("close"),
                         InstanceMethod<&ActivityIndexWrap::JS_validate>("validate"),
                         InstanceMethod<&ActivityIndexWrap::JS_ingest>("ingest"),
                         InstanceMethod<&ActivityIndexWrap::JS_beginSnapshot>("beginSnapshot"),
                         InstanceMethod<&ActivityIndexWrap::JS_stepSnapshot>("stepSnapshot"),
                         InstanceMethod<&ActivityIndexWrap::JS_finishSnapshot>("finishSnapshot"),
                         InstanceMethod<&ActivityIndexWrap::JS_abortSnapshot>("abortSnapshot"),
                         InstanceMethod<&ActivityIndexWrap::JS_restoreSnapshot>("restoreSnapshot"),
                     });
}

ActivityIndexWrap::ActivityIndexWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ActivityIndexWrap>(info) {
  int64_t users_per_page, pages_per_user, user_window, page_window, presence_window, max_pages, max_users,
      max_key_bytes;
  if (!ReadInteger(info, 0, "usersPerPage", 1, &users_per_page) ||
      !ReadInteger(info, 1, "pagesPerUser", 1, &pages_per_user) ||
      !ReadInteger(info, 2, "userWindow", 1, &user_window) || !ReadInteger(info, 3, "pageWindow", -1, &page_window) ||
      !ReadInteger(info, 4, "presenceWindow", 1, &presence_window) ||
      !ReadInteger(info, 5, "maxPages", -1, &max_pages) || !ReadInteger(info, 6, "maxUsers", -1, &max_users) ||
      !ReadInteger(info, 7, "maxKeyBytes", 1, &max_key_bytes)) {
    return;
  }
  if (users_per_page > UINT32_MAX || pages_per_user > UINT32_MAX || max_key_bytes > 65535 ||
      presence_window > user_window || page_window == 0 || max_pages == 0 || max_users == 0) {
    ThrowRange(info.Env(), "option out of range");
    return;
  }
  EngineOptions options;
  options.users_per_page = static_cast<uint32_t>(users_per_page);
  options.pages_per_user = static_cast<uint32_t>(pages_per_user);
  options.user_window = user_window;
  options.page_window = page_window < 0 ? kNoWindow : page_window;
  options.presence_window = presence_window;
  options.max_pages = max_pages < 0 ? kNoCap : static_cast<uint64_t>(max_pages);
  options.max_users = max_users < 0 ? kNoCap : static_cast<uint64_t>(max_users);
  if (!ReadTuning(info, &options)) return;
  engine_ = std::make_unique<Engine>(options);
  max_key_bytes_ = static_cast<uint32_t>(max_key_bytes);
  // One byte more than allowed (and one for the terminator napi writes): a longer key
  // shows as a full buffer. Sized once; ReadKey never resizes (no per-call fill).
  key_a_.resize(max_key_bytes_ + 2);
  key_b_.resize(max_key_bytes_ + 2);
  ReportMemory(info.Env());
  BindHotMethods(info.Env(), info.This().As<Napi::Object>());
  napi_type_tag_object(info.Env(), info.This(), &kActivityIndexTag);
}

ActivityIndexWrap* ActivityIndexWrap::FromValue(Napi::Env env, Napi::Value value) {
  bool tagged = false;
  void* wrap = nullptr;
  if (!value.IsObject() || napi_check_object_type_tag(env, value, &kActivityIndexTag, &tagged) != napi_ok || !tagged ||
      napi_unwrap(env, value, &wrap) != napi_ok) {
    return nullptr;
  }
  return static_cast<ActivityIndexWrap*>(wrap);
}

template <Napi::Value (ActivityIndexWrap::*Method)(const Napi::CallbackInfo&)>
Napi::Value ActivityIndexWrap::CallBound(const Napi::CallbackInfo& info) {
  return (static_cast<ActivityIndexWrap*>(info.Data())->*Method)(info);
}

void ActivityIndexWrap::BindHotMethods(Napi::Env env, Napi::Object self) {
  const auto bind = [&](const char* name, Napi::Function method) {
    // The function keeps `self` (and so this wrap) alive: its data pointer stays valid.
    method.DefineProperty(Napi::PropertyDescriptor::Value("owner", self));
    self.DefineProperty(Napi::PropertyDescriptor::Value(name, method));
  };
  bind("record", Napi::Function::New<CallBound<&ActivityIndexWrap::JS_record>>(env, "record", this));
  bind("lastUsers", Napi::Function::New<CallBound<&ActivityIndexWrap::JS_lastUsers>>(env, "lastUsers", this));
  bind("userPages", Napi::Function::New<CallBound<&ActivityIndexWrap::JS_userPages>>(env, "userPages", this));
  bind("onlineUsers", Napi::Function::New<CallBound<&ActivityIndexWrap::JS_onlineUsers>>(env, "onlineUsers", this));
  bind("onlineCount", Napi::Function::New<CallBound<&ActivityIndexWrap::JS_onlineCount>>(env, "onlineCount", this));
  // Read before every userPages and onlineUsers (the facade's clock).
  bind("watermark", Napi::Function::New<CallBound<&ActivityIndexWrap::JS_watermark>>(env, "watermark", this));
}

bool ActivityIndexWrap::CheckOpen(Napi::Env env) {
  if (engine_ != nullptr) return true;
  Napi::Error::New(env, "ActivityIndex is closed").ThrowAsJavaScriptException();
  return false;
}

bool ActivityIndexWrap::ReadKey(Napi::Env env, Napi::Value value, const char* name, std::string* buffer,
                                std::string_view* key, bool* too_long) {
  // napi_get_value_string_utf8 checks the type itself (napi_string_expected).
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, buffer->data(), buffer->size(), &length) != napi_ok) {
    ThrowType(env, std::string(name) + " must be a string");
    return false;
  }
  *key = std::string_view(buffer->data(), length);
  *too_long = length > max_key_bytes_;
  return true;
}

Napi::Value ActivityIndexWrap::JS_bindResults(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsTypedArray()) {
    return ThrowType(env, "bindResults(ids, times, keyLengths) needs three typed arrays");
  }
  Napi::TypedArray ids = info[0].As<Napi::TypedArray>();
  Napi::TypedArray times = info[1].As<Napi::TypedArray>();
  Napi::TypedArray key_lengths = info[2].As<Napi::TypedArray>();
  if (ids.TypedArrayType() != napi_uint32_array || times.TypedArrayType() != napi_float64_array ||
      key_lengths.TypedArrayType() != napi_uint32_array || ids.ElementLength() != times.ElementLength() ||
      key_lengths.ElementLength() != ids.ElementLength() + 1) {
    return ThrowType(env,
                     "bindResults(ids, times, keyLengths) needs a Uint32Array and a Float64Array of one length n "
                     "and a Uint32Array of n + 1");
  }
  result_ids_ref_ = Napi::Persistent(ids.As<Napi::Uint32Array>());
  result_times_ref_ = Napi::Persistent(times.As<Napi::Float64Array>());
  result_key_lengths_ref_ = Napi::Persistent(key_lengths.As<Napi::Uint32Array>());
  result_ids_ = result_ids_ref_.Value().Data();
  result_times_ = result_times_ref_.Value().Data();
  result_key_lengths_ = result_key_lengths_ref_.Value().Data();
  result_capacity_ = static_cast<uint32_t>(ids.ElementLength());
  return env.Undefined();
}

Napi::Value ActivityIndexWrap::JS_record(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (MutableEngine(env) == nullptr) return env.Undefined();
  bool user_too_long, page_too_long;
  std::string_view user, page;
  if (!ReadKey(env, info[0], "user", &key_a_, &user, &user_too_long)) return env.Undefined();
  if (!ReadKey(env, info[1], "page", &key_b_, &page, &page_too_long)) return env.Undefined();
  if (user_too_long || user.empty()) return ThrowRange(env, "user must be 1 to maxKeyBytes UTF-8 bytes");
  if (page_too_long || page.empty()) return ThrowRange(env, "page must be 1 to maxKeyBytes UTF-8 bytes");
  int64_t ts;
  if (!ReadInteger(info, 2, "ts", 0, &ts)) return env.Undefined();
  const bool late = engine_->Record(user, page, ts);
  if (++records_since_report_ == 4096) ReportMemory(env);
  return Napi::Boolean::New(env, late);
}

Napi::Value ActivityIndexWrap::JS_recordMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (MutableEngine(env) == nullptr) return env.Undefined();
  if (info.Length() < 5 || !info[0].IsString() || !info[1].IsTypedArray() || !info[2].IsTypedArray() ||
      !info[3].IsNumber() || !info[4].IsTypedArray()) {
    return ThrowType(env, "recordMany(keys, lengths, times, count, ids): wrong argument types");
  }
  Napi::TypedArray lengths_array = info[1].As<Napi::TypedArray>();
  Napi::TypedArray times_array = info[2].As<Napi::TypedArray>();
  Napi::TypedArray ids_array = info[4].As<Napi::TypedArray>();
  if (lengths_array.TypedArrayType() != napi_uint32_array || times_array.TypedArrayType() != napi_float64_array ||
      ids_array.TypedArrayType() != napi_uint32_array) {
    return ThrowType(env, "recordMany: lengths and ids must be Uint32Arrays and times a Float64Array");
  }
  const double count_value = info[3].As<Napi::Number>().DoubleValue();
  if (!IsSafeInteger(count_value, 0) || count_value > times_array.ElementLength() ||
      count_value * 2 > lengths_array.ElementLength() || count_value * 2 > ids_array.ElementLength()) {
    return ThrowRange(env, "recordMany: count exceeds the arrays");
  }
  const size_t count = static_cast<size_t>(count_value);
  const uint32_t* lengths = lengths_array.As<Napi::Uint32Array>().Data();
  const double* times = times_array.As<Napi::Float64Array>().Data();
  uint32_t* ids = ids_array.As<Napi::Uint32Array>().Data();
  Interner* interners[2] = {&engine_->users(), &engine_->pages()};

  size_t total_units = 0;
  if (napi_get_value_string_utf16(env, info[0], nullptr, 0, &total_units) != napi_ok) {
    return ThrowType(env, "recordMany: keys must be a string");
  }

  // Check the whole batch before indexing any of it.
  size_t units = 0;
  for (size_t i = 0; i < count; ++i) {
    if (!IsSafeInteger(times[i], 0)) {
      return ThrowRange(env, "events[" + std::to_string(i) + "].ts must be a safe integer >= 0");
    }
    for (size_t side = 0; side < 2; ++side) {
      const size_t key = 2 * i + side;
      if (ids[key] != Interner::kNoId) {
        // A cached id must name a live key; the facade forgets freed ids first.
        if (lengths[key] != 0 || !interners[side]->live(ids[key])) {
          return ThrowRange(env, "recordMany: ids[" + std::to_string(key) + "] names no key");
        }
      } else if (lengths[key] == 0 || lengths[key] > max_key_bytes_) {
        return ThrowRange(env, "events[" + std::to_string(i) + "]: key length out of range");
      }
      units += lengths[key];
    }
  }
  if (units != total_units) return ThrowRange(env, "recordMany: key lengths do not add up to the keys");
  batch_offsets_.resize(2 * count);

  // Convert every key to UTF-8 first, then index the batch in one engine call.
  if (!SplitUtf8Keys(env, info[0], lengths, count, total_units)) {
    batch_keys_.resize(total_units + 1);
    napi_get_value_string_utf16(env, info[0], batch_keys_.data(), batch_keys_.size(), &total_units);
    batch_utf8_.clear();
    const char16_t* cursor = batch_keys_.data();
    for (size_t i = 0; i < 2 * count; ++i) {
      // The facade leaves this check to us: it then validates the batch itself and
      // throws its own error, naming the event.
      if (!AppendUtf8(cursor, lengths[i], &batch_utf8_)) return Napi::Number::New(env, -1.0 - static_cast<double>(i / 2));
      cursor += lengths[i];
      batch_offsets_[i] = batch_utf8_.size();  // end of key i
    }
  }
  batch_events_.resize(count);
  size_t begin = 0;
  for (size_t i = 0; i < count; ++i) {
    const size_t user_end = batch_offsets_[2 * i], page_end = batch_offsets_[2 * i + 1];
    batch_events_[i] = Engine::EventView{std::string_view(batch_utf8_.data() + begin, user_end - begin),
                                         std::string_view(batch_utf8_.data() + user_end, page_end - user_end),
                                         static_cast<int64_t>(times[i]), ids[2 * i], ids[2 * i + 1]};
    begin = page_end;
  }
  // Pin the cached ids for the batch (RecordBatch's REQUIRES): an event may drop the
  // last entry of a key that a later event names by id.
  for (size_t key = 0; key < 2 * count; ++key) {
    if (ids[key] != Interner::kNoId) interners[key & 1]->Ref(ids[key]);
  }
  batch_ids_.resize(2 * count);
  const uint64_t late = engine_->RecordBatch(batch_events_.data(), count, batch_ids_.data());
  for (size_t key = 0; key < 2 * count; ++key) {
    if (ids[key] != Interner::kNoId) interners[key & 1]->Unref(ids[key]);
  }
  // Hand back the ids of the keys that came as strings, where the id still names that
  // key (a later event may have freed it, and another key taken it): JavaScript then
  // caches key -> id and id -> key, so the key never crosses again while it lives.
  begin = 0;
  for (size_t key = 0; key < 2 * count; ++key) {
    const size_t end = batch_offsets_[key];
    if (ids[key] == Interner::kNoId) {
      Interner& keys = *interners[key & 1];
      const uint32_t id = batch_ids_[key];
      if (keys.live(id) && keys.View(id) == std::string_view(batch_utf8_.data() + begin, end - begin)) {
        ids[key] = id;
        keys.set_exported(id);
      }
    }
    begin = end;
  }
  ReportMemory(env);
  return Napi::Number::New(env, static_cast<double>(late));
}

Napi::Value ActivityIndexWrap::JS_takeFreedIds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  Interner& users = engine_->users();
  Interner& pages = engine_->pages();
  if (users.freed_log().empty() && pages.freed_log().empty() && !users.freed_log_overflowed() &&
      !pages.freed_log_overflowed()) {
    return env.Null();
  }
  const size_t user_count = users.freed_log().size(), page_count = pages.freed_log().size();
  Napi::Uint32Array freed = Napi::Uint32Array::New(env, 2 + user_count + page_count);
  uint32_t* out = freed.Data();
  out[0] = static_cast<uint32_t>(user_count);
  out[1] = (users.freed_log_overflowed() ? 1 : 0) | (pages.freed_log_overflowed() ? 2 : 0);
  std::copy(users.freed_log().begin(), users.freed_log().end(), out + 2);
  std::copy(pages.freed_log().begin(), pages.freed_log().end(), out + 2 + user_count);
  users.ClearFreedLog();
  pages.ClearFreedLog();
  return freed;
}

bool ActivityIndexWrap::SplitUtf8Keys(Napi::Env env, Napi::Value keys, const uint32_t* lengths, size_t count,
                                      size_t total_units) {
  // At most 3 UTF-8 bytes per UTF-16 unit (a pair's 4 bytes stand for 2 units), and
  // napi's terminator.
  // Grown, never shrunk: no fill per call. Bytes past `written` are garbage.
  if (batch_utf8_.size() < 3 * total_units + 1) batch_utf8_.resize(3 * total_units + 1);
  size_t written = 0;
  if (napi_get_value_string_utf8(env, keys, batch_utf8_.data(), batch_utf8_.size(), &written) != napi_ok) return false;
  const char* bytes = batch_utf8_.data();
  // V8 writes a lone surrogate as U+FFFD: such a batch (or one that honestly holds
  // U+FFFD) takes the exact path.
  if (std::string_view(bytes, written).find("\xEF\xBF\xBD") != std::string_view::npos) return false;
  size_t at = 0;
  for (size_t i = 0; i < 2 * count; ++i) {
    size_t units = lengths[i];
    // Eight ASCII bytes at a time, then one character at a time.
    while (units >= 8 && at + 8 <= written) {
      uint64_t word;
      std::memcpy(&word, bytes + at, 8);
      if ((word & 0x8080808080808080ull) != 0) break;
      at += 8;
      units -= 8;
    }
    while (units > 0) {
      if (at >= written) return false;
      const auto lead = static_cast<unsigned char>(bytes[at]);
      if (lead < 0x80) {
        at += 1;
      } else if (lead < 0xE0) {
        at += 2;
      } else if (lead < 0xF0) {
        at += 3;
      } else {
        // A pair: two units. One left means the pair straddles two keys, each of
        // which then holds a lone surrogate.
        if (units < 2) return false;
        at += 4;
        --units;
      }
      --units;
    }
    batch_offsets_[i] = at;  // end of key i
  }
  return at == written;
}

Napi::Value ActivityIndexWrap::ResultsFor(Napi::Env env, Interner& keys, uint32_t count) {
  uint32_t fresh = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t id = result_ids_[i];
    if (keys.exported(id)) continue;
    keys.PrefetchEntryOf(id);
    ++fresh;
  }
  if (fresh == 0) return Napi::Number::New(env, count);
  if (fresh > 1) {
    for (uint32_t i = 0; i < count; ++i) {
      if (!keys.exported(result_ids_[i])) keys.PrefetchKeyOf(result_ids_[i]);
    }
  }
  // One string per chunk of about kKeyChunkBytes (whole keys): one napi string per
  // result instead of one per key, and never near V8's string length limit.
  result_key_lengths_[0] = count;
  Napi::Array chunks;
  export_utf8_.clear();
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t id = result_ids_[i];
    if (keys.exported(id)) {
      result_key_lengths_[1 + i] = 0;
      continue;
    }
    const std::string_view key = keys.View(id);
    if (!export_utf8_.empty() && export_utf8_.size() + key.size() > kKeyChunkBytes) {
      if (chunks.IsEmpty()) chunks = Napi::Array::New(env);
      chunks.Set(chunks.Length(), Napi::String::New(env, export_utf8_.data(), export_utf8_.size()));
      export_utf8_.clear();
    }
    export_utf8_.append(key.data(), key.size());
    result_key_lengths_[1 + i] = Utf16Length(key);
    keys.set_exported(id);
  }
  Napi::String last = Napi::String::New(env, export_utf8_.data(), export_utf8_.size());
  if (chunks.IsEmpty()) return last;
  chunks.Set(chunks.Length(), last);
  return chunks;
}

Napi::Value ActivityIndexWrap::JS_lastUsers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  bool too_long;
  std::string_view key;
  if (!ReadKey(env, info[0], "page", &key_a_, &key, &too_long)) return env.Undefined();
  int64_t k;
  if (!ReadInteger(info, 1, "k", 1, &k)) return env.Undefined();
  if (too_long) return Napi::Number::New(env, 0);
  const uint32_t limit = static_cast<uint32_t>(std::min<int64_t>(k, result_capacity_));
  const uint32_t count = engine_->LastUsers(key, limit, result_ids_, result_times_);
  return ResultsFor(env, engine_->users(), count);
}

Napi::Value ActivityIndexWrap::JS_userPages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  bool too_long;
  std::string_view key;
  if (!ReadKey(env, info[0], "user", &key_a_, &key, &too_long)) return env.Undefined();
  int64_t from, to, limit;
  if (!ReadInteger(info, 1, "from", -kMaxSafeNumber, &from) || !ReadInteger(info, 2, "to", 0, &to) ||
      !ReadInteger(info, 3, "limit", 1, &limit)) {
    return env.Undefined();
  }
  if (too_long) return Napi::Number::New(env, 0);
  const uint32_t capped = static_cast<uint32_t>(std::min<int64_t>(limit, result_capacity_));
  const uint32_t count = engine_->UserPages(key, from, to, capped, result_ids_, result_times_);
  return ResultsFor(env, engine_->pages(), count);
}

Napi::Value ActivityIndexWrap::JS_onlineUsers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  bool too_long;
  std::string_view key;
  if (!ReadKey(env, info[0], "page", &key_a_, &key, &too_long)) return env.Undefined();
  int64_t k, now;
  if (!ReadInteger(info, 1, "k", 1, &k) || !ReadInteger(info, 2, "now", -kMaxSafeNumber, &now)) {
    return env.Undefined();
  }
  if (too_long) return Napi::Number::New(env, 0);
  if (!AdvancePresenceClock(env, now)) return env.Undefined();
  const uint32_t limit = static_cast<uint32_t>(std::min<int64_t>(k, result_capacity_));
  const uint32_t count = engine_->OnlineUsers(key, limit, result_ids_, result_times_);
  return ResultsFor(env, engine_->users(), count);
}

Napi::Value ActivityIndexWrap::JS_onlineCount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  int64_t now;
  if (!ReadInteger(info, 1, "now", -kMaxSafeNumber, &now)) return env.Undefined();
  if (!AdvancePresenceClock(env, now)) return env.Undefined();
  if (info[0].IsUndefined()) return Napi::Number::New(env, static_cast<double>(engine_->OnlineCount()));
  bool too_long;
  std::string_view key;
  if (!ReadKey(env, info[0], "page", &key_a_, &key, &too_long)) return env.Undefined();
  if (too_long) return Napi::Number::New(env, 0);
  return Napi::Number::New(env, static_cast<double>(engine_->OnlineCount(key)));
}

Napi::Value ActivityIndexWrap::JS_watermark(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  if (!engine_->has_watermark()) return Napi::Number::New(env, -INFINITY);
  return Napi::Number::New(env, static_cast<double>(engine_->watermark()));
}

// advanceWatermark(ts): ts is a safe integer >= 0, checked by the facade.
Napi::Value ActivityIndexWrap::JS_advanceWatermark(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (MutableEngine(env) == nullptr) return env.Undefined();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowType(env, "advanceWatermark(ts): ts must be a number");
  const double ts = info[0].As<Napi::Number>().DoubleValue();
  if (!(ts >= 0 && ts <= static_cast<double>(kMaxSafeInteger))) {
    return ThrowType(env, "advanceWatermark(ts): ts must be a safe integer >= 0");
  }
  engine_->AdvanceWatermark(static_cast<int64_t>(ts));
  ReportMemory(env);
  return env.Undefined();
}

Napi::Value ActivityIndexWrap::JS_stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  const EngineStats stats = engine_->Stats();
  Napi::Object result = Napi::Object::New(env);
  result.Set("events", static_cast<double>(stats.events));
  result.Set("pages", static_cast<double>(stats.pages));
  result.Set("users", static_cast<double>(stats.users));
  result.Set("entries", static_cast<double>(stats.entries));
  result.Set("late", static_cast<double>(stats.late));
  result.Set("evicted", static_cast<double>(stats.evicted));
  result.Set("online", static_cast<double>(stats.online));
  result.Set("watermark", engine_->has_watermark() ? static_cast<double>(engine_->watermark()) : -INFINITY);
  result.Set("memoryBytes", static_cast<double>(stats.memory_bytes));
  return result;
}

Napi::Value ActivityIndexWrap::JS_clear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (MutableEngine(env) == nullptr) return env.Undefined();
  engine_->Clear();
  ReportMemory(env);
  return env.Undefined();
}

Napi::Value ActivityIndexWrap::JS_close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  snapshot_writer_.reset();
  engine_.reset();
  ReportMemory(env);
  result_ids_ref_.Reset();
  result_times_ref_.Reset();
  result_key_lengths_ref_.Reset();
  result_ids_ = nullptr;
  result_times_ = nullptr;
  result_key_lengths_ = nullptr;
  result_capacity_ = 0;
  return env.Undefined();
}

Napi::Value ActivityIndexWrap::JS_validate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  std::string error;
  if (!engine_->Validate(&error)) {
    Napi::Error::New(env, "skiptrail invariant broken: " + error).ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

Napi::Value ActivityIndexWrap::JS_ingest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (MutableEngine(env) == nullptr) return env.Undefined();
  if (info.Length() < 2 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    return ThrowType(env, "ingest(data, options): data must be a Uint8Array");
  }
  ParserOptions options;
  if (!ReadParserOptions(env, info[1], &options)) return env.Undefined();
  int64_t max_ts;
  if (!ReadMaxTs(info, 2, &max_ts)) return env.Undefined();
  Napi::TypedArray data = info[0].As<Napi::TypedArray>();
  IngestSession session(options);
  session.set_max_ts(max_ts);
  EngineFeeder feeder;
  feeder.Feed(session, *engine_, static_cast<const char*>(data.ArrayBuffer().Data()) + data.ByteOffset(),
              data.ByteLength());
  feeder.Finish(session, *engine_);
  ReportMemory(env);
  return ReportToJs(env, session.report(), feeder.late());
}

Engine* ActivityIndexWrap::MutableEngine(Napi::Env env) {
  if (!CheckOpen(env)) return nullptr;
  if (snapshot_writer_ != nullptr) {
    Napi::Error::New(env, "ActivityIndex: a snapshot is being made; the index cannot change until it is finished")
        .ThrowAsJavaScriptException();
    return nullptr;
  }
  return engine_.get();
}

Napi::Value ActivityIndexWrap::JS_beginSnapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  return BeginSnapshot(info, this);
}

Napi::Value ActivityIndexWrap::JS_stepSnapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  return StepSnapshot(info, this);
}

Napi::Value ActivityIndexWrap::JS_finishSnapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  return FinishSnapshot(info, this);
}

Napi::Value ActivityIndexWrap::JS_abortSnapshot(const Napi::CallbackInfo& info) {
  snapshot_writer_.reset();
  return info.Env().Undefined();
}

Napi::Value ActivityIndexWrap::JS_restoreSnapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  return RestoreSnapshot(info, this);
}

bool ActivityIndexWrap::AdvancePresenceClock(Napi::Env env, int64_t now) {
  if (now <= engine_->state().presence_clock) return true;  // nothing would change
  if (snapshot_writer_ != nullptr && !engine_->has_watermark()) {
    // The stream clock's `now` (the facade passes -2^53) moves only a clock no event
    // has set yet, and an index without events has no presence to expire: skip it
    // rather than refuse the query while an image is made.
    return true;
  }
  Engine* engine = MutableEngine(env);
  if (engine == nullptr) return false;
  engine->AdvancePresenceClock(now);
  return true;
}

void ActivityIndexWrap::AdoptEngine(Napi::Env env, std::unique_ptr<Engine> engine) {
  SKIPTRAIL_DCHECK(engine_ != nullptr);
  // Ids of the new engine are new to JavaScript: every exported flag starts clear, so
  // the facade's id -> key caches (which it clears too) are refilled as keys appear.
  engine_ = std::move(engine);
  ReportMemory(env);
}

void ActivityIndexWrap::ReportMemory(Napi::Env env) {
  records_since_report_ = 0;
  const int64_t now = engine_ != nullptr ? static_cast<int64_t>(engine_->Stats().memory_bytes) : 0;
  if (now != reported_memory_) {
    Napi::MemoryManagement::AdjustExternalMemory(env, now - reported_memory_);
    reported_memory_ = now;
  }
}

}  // namespace skiptrail
