#include "ingest-wrap.h"

#include <string>

#include "activity-index-wrap.h"
#include "engine.h"
#include "parse/field-list.h"

namespace skiptrail {

namespace {

bool ReadString(Napi::Object object, const char* key, std::string* out) {
  Napi::Value value = object.Get(key);
  if (!value.IsString()) return false;
  *out = value.As<Napi::String>().Utf8Value();
  return true;
}

bool ReadUint(Napi::Object object, const char* key, uint32_t min, uint32_t max, uint32_t* out) {
  Napi::Value value = object.Get(key);
  if (!value.IsNumber()) return false;
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= min && number <= max) || number != static_cast<double>(static_cast<uint32_t>(number))) return false;
  *out = static_cast<uint32_t>(number);
  return true;
}

// A string[] member; false unless it is an array of strings.
bool ReadStringList(Napi::Object object, const char* key, std::vector<std::string>* out) {
  Napi::Value value = object.Get(key);
  if (!value.IsArray()) return false;
  Napi::Array list = value.As<Napi::Array>();
  out->clear();
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Value item = list.Get(i);
    if (!item.IsString()) return false;
    std::string text = item.As<Napi::String>().Utf8Value();
    if (text.empty()) return false;
    out->push_back(std::move(text));
  }
  return true;
}

Napi::Array StringList(Napi::Env env, const std::vector<std::string>& list) {
  Napi::Array array = Napi::Array::New(env, list.size());
  for (size_t i = 0; i < list.size(); ++i) array.Set(static_cast<uint32_t>(i), list[i]);
  return array;
}

// Compiles the (dialect, format, userList) arguments of checkLogFormat and
// logFormatTraits; false with a pending TypeError when they are not three strings.
bool CompileFormatArguments(const Napi::CallbackInfo& info, FormatPlan* plan, std::string* error, bool* ok) {
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsString()) {
    Napi::TypeError::New(info.Env(), "(dialect, format, userList): three strings").ThrowAsJavaScriptException();
    return false;
  }
  const std::string dialect = info[0].As<Napi::String>().Utf8Value();
  if (dialect == "w3c") {  // the fields come with the log; only the user list is known now
    const std::string user_list = info[2].As<Napi::String>().Utf8Value();
    *ok = user_list.empty() || CheckW3cUserList(user_list, error);
    return true;
  }
  *ok = CompileFormat(dialect == "nginx" ? FormatDialect::kNginx : FormatDialect::kApache,
                      dialect == "vhost_combined" ? std::string(kVhostCombinedFormat) : info[1].As<Napi::String>().Utf8Value(),
                      info[2].As<Napi::String>().Utf8Value(), plan, error);
  return true;
}

}  // namespace

bool ReadMaxTs(const Napi::CallbackInfo& info, size_t index, int64_t* max_ts) {
  *max_ts = kMaxSafeInteger;
  if (info.Length() <= index || info[index].IsUndefined()) return true;
  double value = 0;
  if (napi_get_value_double(info.Env(), info[index], &value) != napi_ok) {
    Napi::TypeError::New(info.Env(), "maxTs must be a number").ThrowAsJavaScriptException();
    return false;
  }
  // NaN compares false both ways and keeps the default.
  if (value < static_cast<double>(kMaxSafeInteger)) *max_ts = value < 0 ? -1 : static_cast<int64_t>(value);
  return true;
}

Napi::Value JS_checkLogFormat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  FormatPlan plan;
  std::string error;
  bool ok = false;
  if (!CompileFormatArguments(info, &plan, &error, &ok)) return env.Undefined();
  return ok ? env.Null() : Napi::String::New(env, error);
}

Napi::Value JS_logFormatTraits(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  FormatPlan plan;
  std::string error;
  bool ok = false;
  if (!CompileFormatArguments(info, &plan, &error, &ok)) return env.Undefined();
  Napi::Object traits = Napi::Object::New(env);
  traits.Set("method", ok && plan.has_method);
  traits.Set("agent", ok && plan.has_agent);
  return traits;
}

Napi::Value JS_defaultViewRules(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object rules = Napi::Object::New(env);
  rules.Set("staticExtensions", StringList(env, DefaultStaticExtensions()));
  rules.Set("crawlers", StringList(env, DefaultCrawlerTokens()));
  return rules;
}

Napi::Value JS_checkJsonField(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "checkJsonField(spec): a string").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::vector<std::vector<std::string>> paths;
  std::string error;
  if (ParseJsonFieldSpec(info[0].As<Napi::String>().Utf8Value(), &paths, &error)) return env.Null();
  return Napi::String::New(env, error);
}

bool ReadParserOptions(Napi::Env env, Napi::Value value, ParserOptions* options) {
  auto fail = [&]() {
    Napi::TypeError::New(env, "ingest: malformed native options").ThrowAsJavaScriptException();
    return false;
  };
  if (!value.IsObject()) return fail();
  Napi::Object object = value.As<Napi::Object>();
  std::string format, user, ts_unit;
  uint32_t status_min, status_max, max_key_bytes, max_line_bytes;
  if (!ReadString(object, "format", &format) || !ReadString(object, "user", &user) ||
      !ReadUint(object, "statusMin", 0, 999, &status_min) || !ReadUint(object, "statusMax", 0, 999, &status_max) ||
      !ReadUint(object, "maxKeyBytes", 1, 65535, &max_key_bytes) ||
      !ReadUint(object, "maxLineBytes", 1, 1u << 30, &max_line_bytes) ||
      !ReadString(object, "userField", &options->json_fields.user) ||
      !ReadString(object, "pageField", &options->json_fields.page) ||
      !ReadString(object, "tsField", &options->json_fields.ts) ||
      !ReadString(object, "statusField", &options->json_fields.status) ||
      !ReadString(object, "methodField", &options->json_fields.method) ||
      !ReadString(object, "agentField", &options->json_fields.agent) || !ReadString(object, "tsUnit", &ts_unit) ||
      !object.Get("keepQuery").IsBoolean() || !object.Get("syslog").IsBoolean() ||
      !ReadStringList(object, "methods", &options->rules.methods) ||
      !ReadStringList(object, "staticExtensions", &options->rules.static_extensions) ||
      !ReadStringList(object, "crawlers", &options->rules.crawler_tokens)) {
    return fail();
  }
  if (format == "combined") {
    options->format = LogFormat::kCombined;
  } else if (format == "common") {
    options->format = LogFormat::kCommon;
  } else if (format == "ndjson") {
    options->format = LogFormat::kNdjson;
  } else if (format == "caddy") {
    options->format = LogFormat::kCaddy;
  } else if (format == "traefik") {
    options->format = LogFormat::kTraefik;
  } else if (format == "apache" || format == "nginx" || format == "vhost_combined") {
    options->format = LogFormat::kCompiled;
    options->dialect = format == "nginx" ? FormatDialect::kNginx : FormatDialect::kApache;
    if (!ReadString(object, "formatText", &options->format_text) ||
        !ReadString(object, "userList", &options->user_list)) {
      return fail();
    }
    if (format == "vhost_combined") options->format_text = std::string(kVhostCombinedFormat);
    FormatPlan plan;
    std::string error;
    if (!CompileFormat(options->dialect, options->format_text, options->user_list, &plan, &error)) {
      Napi::RangeError::New(env, "ingest: " + error).ThrowAsJavaScriptException();
      return false;
    }
  } else if (format == "w3c") {
    options->format = LogFormat::kW3c;
    std::string error;
    if (!ReadString(object, "userList", &options->user_list)) return fail();
    if (!options->user_list.empty() && !CheckW3cUserList(options->user_list, &error)) {
      Napi::RangeError::New(env, "ingest: " + error).ThrowAsJavaScriptException();
      return false;
    }
  } else if (format == "alb") {
    options->format = LogFormat::kAlb;
  } else {
    return fail();
  }
  if (options->format == LogFormat::kCompiled || options->format == LogFormat::kW3c ||
      options->format == LogFormat::kAlb) {
    // the user list (userList) replaces `user`
  } else if (user == "host") {
    options->user = UserField::kHost;
  } else if (user == "authuser") {
    options->user = UserField::kAuthuser;
  } else if (user == "authuser|host") {
    options->user = UserField::kAuthuserOrHost;
  } else {
    return fail();
  }
  if (ts_unit.empty()) {
    options->ts_unit = TimeUnit::kFormatDefault;
  } else if (ts_unit == "ms") {
    options->ts_unit = TimeUnit::kMilliseconds;
  } else if (ts_unit == "s") {
    options->ts_unit = TimeUnit::kSeconds;
  } else if (ts_unit == "us") {
    options->ts_unit = TimeUnit::kMicroseconds;
  } else if (ts_unit == "ns") {
    options->ts_unit = TimeUnit::kNanoseconds;
  } else {
    return fail();
  }
  options->keep_query = object.Get("keepQuery").As<Napi::Boolean>().Value();
  options->syslog = object.Get("syslog").As<Napi::Boolean>().Value();
  options->status_min = static_cast<uint16_t>(status_min);
  options->status_max = static_cast<uint16_t>(status_max);
  options->max_key_bytes = max_key_bytes;
  options->max_line_bytes = max_line_bytes;
  options->partitions = 0;
  options->partition = 0;
  if (!object.Get("partitions").IsUndefined()) {
    uint32_t partitions, partition;
    if (!ReadUint(object, "partitions", 1, kMaxPartitions, &partitions) ||
        !ReadUint(object, "partition", 0, partitions - 1, &partition)) {
      return fail();
    }
    options->partitions = partitions;
    options->partition = partition;
  }
  JsonFieldPlan plan;
  std::string error;
  if (IsJsonFormat(options->format)) {
    if (!CompileJsonFields(JsonFieldsOf(*options), &plan, &error)) {
      Napi::RangeError::New(env, "ingest: fields: " + error).ThrowAsJavaScriptException();
      return false;
    }
  }
  options->statuses.clear();
  Napi::Value statuses = object.Get("statuses");
  if (statuses.IsArray()) {
    Napi::Array list = statuses.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); ++i) {
      Napi::Value code = list.Get(i);
      if (!code.IsNumber()) return fail();
      const double number = code.As<Napi::Number>().DoubleValue();
      if (!(number >= 0 && number <= 999)) return fail();
      options->statuses.push_back(static_cast<uint16_t>(number));
    }
  }
  return true;
}

Napi::Object ReportToJs(Napi::Env env, const IngestReport& report, uint64_t late) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("lines", static_cast<double>(report.lines));
  result.Set("accepted", static_cast<double>(report.accepted));
  result.Set("rejected", static_cast<double>(report.rejected));
  result.Set("late", static_cast<double>(late));
  Napi::Object reasons = Napi::Object::New(env);
  for (int reason = 1; reason < static_cast<int>(RejectReason::kCount); ++reason) {
    if (report.reasons[reason] == 0) continue;
    reasons.Set(RejectReasonName(static_cast<RejectReason>(reason)), static_cast<double>(report.reasons[reason]));
  }
  result.Set("reasons", reasons);
  Napi::Array samples = Napi::Array::New(env, report.samples.size());
  for (size_t i = 0; i < report.samples.size(); ++i) {
    const RejectedSample& sample = report.samples[i];
    Napi::Object row = Napi::Object::New(env);
    row.Set("line", static_cast<double>(sample.line_number));
    row.Set("reason", RejectReasonName(sample.reason));
    // Invalid UTF-8 (a bad-encoding line) decodes with U+FFFD replacement.
    row.Set("text", Napi::String::New(env, sample.text.data(), sample.text.size()));
    samples.Set(static_cast<uint32_t>(i), row);
  }
  result.Set("samples", samples);
  return result;
}

bool EngineFeeder::Add(const ParsedView& view) {
  bytes_.append(view.user.data(), view.user.size());
  ends_.push_back(bytes_.size());
  bytes_.append(view.page.data(), view.page.size());
  ends_.push_back(bytes_.size());
  times_.push_back(view.ts_ms);
  return false;  // lateness is counted at Flush(), by the engine
}

void EngineFeeder::Flush(Engine& engine) {
  const size_t count = times_.size();
  events_.resize(count);
  size_t begin = 0;
  for (size_t i = 0; i < count; ++i) {
    const size_t user_end = ends_[2 * i], page_end = ends_[2 * i + 1];
    events_[i] = Engine::EventView{std::string_view(bytes_.data() + begin, user_end - begin),
                                   std::string_view(bytes_.data() + user_end, page_end - user_end), times_[i]};
    begin = page_end;
  }
  late_ += engine.RecordBatch(events_.data(), count);
  bytes_.clear();
  ends_.clear();
  times_.clear();
}

void EngineFeeder::Feed(IngestSession& session, Engine& engine, const char* data, size_t size) {
  // Cut the input so that a batch fills up about once per piece: the sink itself
  // cannot flush, since Flush would have to run between two lines.
  constexpr size_t kPiece = 64 * 1024;
  for (size_t offset = 0; offset < size; offset += kPiece) {
    const size_t piece = size - offset < kPiece ? size - offset : kPiece;
    session.Feed(data + offset, piece, [this](const ParsedView& view) { return Add(view); });
    if (times_.size() >= kBatch || offset + piece >= size) {
      Flush(engine);
      FollowOtherPartitions(session, engine);
    }
  }
}

void EngineFeeder::Finish(IngestSession& session, Engine& engine) {
  session.Finish([this](const ParsedView& view) { return Add(view); });
  Flush(engine);
  FollowOtherPartitions(session, engine);
}

void EngineFeeder::FollowOtherPartitions(IngestSession& session, Engine& engine) {
  int64_t ts;
  if (session.TakeOtherPartitionTime(&ts)) engine.AdvanceWatermark(ts);
}

Napi::Function IngestSessionWrap::Init(Napi::Env env) {
  return DefineClass(env, "NativeIngestSession",
                     {
                         InstanceMethod<&IngestSessionWrap::JS_feed>("feed"),
                         InstanceMethod<&IngestSessionWrap::JS_finish>("finish"),
                         InstanceMethod<&IngestSessionWrap::JS_readContext>("readContext"),
                         InstanceMethod<&IngestSessionWrap::JS_report>("report"),
                     });
}

IngestSessionWrap::IngestSessionWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<IngestSessionWrap>(info) {
  Napi::Env env = info.Env();
  // An object made with the class's prototype but not by its constructor (or another
  // wrap given that prototype) passes instanceof but has no engine: only the type tag
  // tells.
  ActivityIndexWrap* index = info.Length() < 2 ? nullptr : ActivityIndexWrap::FromValue(env, info[0]);
  if (index == nullptr || index->engine() == nullptr) {
    Napi::TypeError::New(env, index == nullptr
                                  ? "NativeIngestSession(index, options): index must be a NativeActivityIndex"
                                  : "NativeIngestSession(index, options): index is closed")
        .ThrowAsJavaScriptException();
    return;
  }
  ParserOptions options;
  if (!ReadParserOptions(env, info[1], &options)) return;
  index_ = Napi::Persistent(info[0].As<Napi::Object>());
  index_wrap_ = index;
  session_ = std::make_unique<IngestSession>(options);
}

Engine* IngestSessionWrap::OpenEngine(Napi::Env env) {
  if (session_ == nullptr) {
    Napi::Error::New(env, "ActivityIndex is closed").ThrowAsJavaScriptException();
    return nullptr;
  }
  return index_wrap_->MutableEngine(env);
}

Napi::Value IngestSessionWrap::JS_feed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) {
    Napi::TypeError::New(env, "feed(chunk): chunk must be a Uint8Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::TypedArray chunk = info[0].As<Napi::TypedArray>();
  if (chunk.TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(env, "feed(chunk): chunk must be a Uint8Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int64_t max_ts;
  if (!ReadMaxTs(info, 1, &max_ts)) return env.Undefined();
  Engine* engine = OpenEngine(env);
  if (engine == nullptr) return env.Undefined();
  session_->set_max_ts(max_ts);
  const char* data = static_cast<const char*>(chunk.ArrayBuffer().Data()) + chunk.ByteOffset();
  feeder_.Feed(*session_, *engine, data, chunk.ByteLength());
  index_wrap_->ReportMemory(env);
  return env.Undefined();
}

bool ReadContextArgument(const Napi::CallbackInfo& info, const char** data, size_t* size) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(env, "readContext(lines): lines must be a Uint8Array").ThrowAsJavaScriptException();
    return false;
  }
  Napi::TypedArray lines = info[0].As<Napi::TypedArray>();
  *data = static_cast<const char*>(lines.ArrayBuffer().Data()) + lines.ByteOffset();
  *size = lines.ByteLength();
  return true;
}

Napi::Value IngestSessionWrap::JS_readContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* data;
  size_t size;
  if (!ReadContextArgument(info, &data, &size)) return env.Undefined();
  if (session_ == nullptr) {
    Napi::Error::New(env, "ActivityIndex is closed").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (session_->buffered_bytes() != 0) {
    Napi::Error::New(env, "readContext(lines): a line is pending: the context comes before the input").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  session_->ReadContext(data, size);
  return env.Undefined();
}

Napi::Value IngestSessionWrap::JS_finish(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t max_ts;
  if (!ReadMaxTs(info, 0, &max_ts)) return env.Undefined();
  Engine* engine = OpenEngine(env);
  if (engine == nullptr) return env.Undefined();
  session_->set_max_ts(max_ts);
  feeder_.Finish(*session_, *engine);
  index_wrap_->ReportMemory(env);
  return env.Undefined();
}

Napi::Value IngestSessionWrap::JS_report(const Napi::CallbackInfo& info) {
  if (session_ == nullptr) return info.Env().Undefined();
  return ReportToJs(info.Env(), session_->report(), feeder_.late());
}

}  // namespace skiptrail
