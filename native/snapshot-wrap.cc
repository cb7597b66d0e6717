#include "snapshot-wrap.h"

#include <memory>
#include <string>

#include "activity-index-wrap.h"
#include "snapshot-reader.h"

namespace skiptrail {

namespace {

Napi::Value ThrowType(Napi::Env env, const char* message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Object ErrorObject(Napi::Env env, const snapshot::Error& error) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("code", snapshot::ErrorCodeName(error.code));
  result.Set("message", error.message);
  return result;
}

bool ReadString(Napi::Env env, Napi::Value value, std::string* out) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, nullptr, 0, &length) != napi_ok) return false;
  out->resize(length + 1);
  napi_get_value_string_utf8(env, value, out->data(), out->size(), &length);
  out->resize(length);
  return true;
}

class RestoreWorker : public Napi::AsyncWorker {
 public:
  RestoreWorker(Napi::Function callback, Napi::Object index, ActivityIndexWrap* wrap, Napi::Uint8Array data)
      : Napi::AsyncWorker(callback, "skiptrail:restoreSnapshot"),
        wrap_(wrap),
        options_(wrap->engine()->options()),
        bytes_(static_cast<const char*>(data.ArrayBuffer().Data()) + data.ByteOffset()),
        size_(data.ByteLength()) {
    index_ = Napi::Persistent(index);
    data_ = Napi::Persistent(data);
  }

  void Execute() override {
    snapshot::FileView view;
    error_ = snapshot::ParseFile(bytes_, size_, true, &view);
    if (!error_.ok()) return;
    engine_ = std::make_unique<Engine>(options_);
    error_ = snapshot::Restore(view, engine_.get());
    if (!error_.ok()) engine_.reset();
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (!error_.ok()) {
      Callback().Call({ErrorObject(env, error_)});
      return;
    }
    if (wrap_->engine() == nullptr) {
      Callback().Call({ErrorObject(env, snapshot::Error{snapshot::ErrorCode::kChecksum, "the index was closed while loading"})});
      return;
    }
    wrap_->AdoptEngine(env, std::move(engine_));
    Callback().Call({env.Null()});
  }

 private:
  ActivityIndexWrap* wrap_;  // kept alive by index_
  EngineOptions options_;
  const char* bytes_;  // kept alive by data_
  size_t size_;
  Napi::ObjectReference index_;
  Napi::Reference<Napi::Uint8Array> data_;
  snapshot::Error error_;
  std::unique_ptr<Engine> engine_;
};

bool IsBytes(Napi::Value value) {
  return value.IsTypedArray() && value.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array;
}

}  // namespace

Napi::Value BeginSnapshot(const Napi::CallbackInfo& info, ActivityIndexWrap* wrap) {
  Napi::Env env = info.Env();
  std::string options_json, facade_json;
  if (info.Length() < 3 || !info[0].IsNumber() || !ReadString(env, info[1], &options_json) ||
      !ReadString(env, info[2], &facade_json)) {
    return ThrowType(env, "beginSnapshot(createdAt, optionsJson, facadeJson): wrong argument types");
  }
  if (wrap->snapshot_writer() != nullptr) {
    Napi::Error::New(env, "beginSnapshot: a snapshot is already being made").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const auto created_at = static_cast<int64_t>(info[0].As<Napi::Number>().DoubleValue());
  wrap->snapshot_writer() =
      std::make_unique<snapshot::SnapshotWriter>(wrap->engine(), created_at, options_json, facade_json);
  return env.Undefined();
}

Napi::Value StepSnapshot(const Napi::CallbackInfo& info, ActivityIndexWrap* wrap) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowType(env, "stepSnapshot(budgetMs): budgetMs must be a number");
  if (wrap->snapshot_writer() == nullptr) {
    Napi::Error::New(env, "stepSnapshot: no snapshot is being made").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const double budget_ms = info[0].As<Napi::Number>().DoubleValue();
  const int64_t budget_ns = budget_ms > 0 && budget_ms < 1e9 ? static_cast<int64_t>(budget_ms * 1e6) : 0;
  return Napi::Boolean::New(env, wrap->snapshot_writer()->Step(budget_ns));
}

Napi::Value FinishSnapshot(const Napi::CallbackInfo& info, ActivityIndexWrap* wrap) {
  Napi::Env env = info.Env();
  std::unique_ptr<snapshot::SnapshotWriter>& writer = wrap->snapshot_writer();
  if (writer == nullptr || !writer->Step(0)) {
    Napi::Error::New(env, "finishSnapshot: no finished snapshot").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto* image = new std::string(writer->Finish());
  writer.reset();
  return Napi::Buffer<char>::NewOrCopy(env, image->data(), image->size(),
                                       [](Napi::Env, char*, std::string* owned) { delete owned; }, image);
}

Napi::Value InspectSnapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !IsBytes(info[0])) return ThrowType(env, "inspectSnapshot(data): data must be a Uint8Array");
  Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
  snapshot::FileView view;
  const snapshot::Error error = snapshot::ParseFile(
      static_cast<const char*>(data.ArrayBuffer().Data()) + data.ByteOffset(), data.ByteLength(), false, &view);
  if (!error.ok()) return ErrorObject(env, error);
  Napi::Object result = Napi::Object::New(env);
  result.Set("version", static_cast<double>(view.version));
  result.Set("createdAt", static_cast<double>(view.created_at));
  const std::string_view options = view.sections[snapshot::kOptions];
  const std::string_view facade = view.sections[snapshot::kFacade];
  result.Set("options", Napi::String::New(env, options.data(), options.size()));
  result.Set("facade", Napi::String::New(env, facade.data(), facade.size()));
  return result;
}

Napi::Value RestoreSnapshot(const Napi::CallbackInfo& info, ActivityIndexWrap* wrap) {
  Napi::Env env = info.Env();
  if (wrap->MutableEngine(env) == nullptr) return env.Undefined();
  if (info.Length() < 2 || !IsBytes(info[0]) || !info[1].IsFunction()) {
    return ThrowType(env, "restoreSnapshot(data, callback): data must be a Uint8Array and callback a function");
  }
  auto* worker = new RestoreWorker(info[1].As<Napi::Function>(), info.This().As<Napi::Object>(), wrap,
                                   info[0].As<Napi::Uint8Array>());
  worker->Queue();
  return env.Undefined();
}

}  // namespace skiptrail
