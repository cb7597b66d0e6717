#include "partition-splitter-wrap.h"

#include <cmath>

#include "ingest-wrap.h"
#include "partition.h"

namespace skiptrail {

Napi::Function PartitionSplitterWrap::Init(Napi::Env env) {
  return DefineClass(env, "NativePartitionSplitter",
                     {
                         InstanceMethod<&PartitionSplitterWrap::JS_feed>("feed"),
                         InstanceMethod<&PartitionSplitterWrap::JS_finish>("finish"),
                         InstanceMethod<&PartitionSplitterWrap::JS_readContext>("readContext"),
                         InstanceMethod<&PartitionSplitterWrap::JS_report>("report"),
                         InstanceMethod<&PartitionSplitterWrap::JS_watermark>("watermark"),
                     });
}

PartitionSplitterWrap::PartitionSplitterWrap(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<PartitionSplitterWrap>(info) {
  Napi::Env env = info.Env();
  ParserOptions options;
  if (info.Length() < 2 || !ReadParserOptions(env, info[0], &options)) {
    if (!env.IsExceptionPending()) {
      Napi::TypeError::New(env, "NativePartitionSplitter(options, partitions): bad options").ThrowAsJavaScriptException();
    }
    return;
  }
  const double partitions = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : 0;
  if (!(partitions >= 1 && partitions <= kMaxPartitions && std::floor(partitions) == partitions) ||
      options.partitions != 0) {
    Napi::TypeError::New(env, "NativePartitionSplitter(options, partitions): partitions must be an integer in 1 .. 65536")
        .ThrowAsJavaScriptException();
    return;
  }
  splitter_ = std::make_unique<PartitionSplitter>(options, static_cast<uint32_t>(partitions));
}

Napi::Value PartitionSplitterWrap::TakeOutputs(Napi::Env env) {
  const std::vector<std::string>& outputs = splitter_->outputs();
  Napi::Array result = Napi::Array::New(env, outputs.size());
  for (uint32_t p = 0; p < outputs.size(); ++p) {
    if (outputs[p].empty()) {
      result.Set(p, env.Undefined());
    } else {
      result.Set(p, Napi::Buffer<char>::Copy(env, outputs[p].data(), outputs[p].size()));
    }
  }
  splitter_->ClearOutputs();
  return result;
}

Napi::Value PartitionSplitterWrap::JS_feed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (splitter_ == nullptr) return env.Undefined();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    Napi::TypeError::New(env, "feed(chunk): chunk must be a Uint8Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::TypedArray chunk = info[0].As<Napi::TypedArray>();
  splitter_->Feed(static_cast<const char*>(chunk.ArrayBuffer().Data()) + chunk.ByteOffset(), chunk.ByteLength());
  return TakeOutputs(env);
}

Napi::Value PartitionSplitterWrap::JS_readContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (splitter_ == nullptr) return env.Undefined();
  const char* data;
  size_t size;
  if (!ReadContextArgument(info, &data, &size)) return env.Undefined();
  splitter_->ReadContext(data, size);
  return env.Undefined();
}

Napi::Value PartitionSplitterWrap::JS_finish(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (splitter_ == nullptr) return env.Undefined();
  splitter_->Finish();
  return TakeOutputs(env);
}

Napi::Value PartitionSplitterWrap::JS_report(const Napi::CallbackInfo& info) {
  if (splitter_ == nullptr) return info.Env().Undefined();
  return ReportToJs(info.Env(), splitter_->report(), 0);
}

Napi::Value PartitionSplitterWrap::JS_watermark(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (splitter_ == nullptr || !splitter_->has_watermark()) return Napi::Number::New(env, -INFINITY);
  return Napi::Number::New(env, static_cast<double>(splitter_->watermark()));
}

}  // namespace skiptrail
