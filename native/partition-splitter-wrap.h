// PartitionSplitterWrap: `new NativePartitionSplitter(options, partitions)` for
// `skiptrail publish` (src/cluster/publisher.ts). feed(chunk) and finish() return an
// array of `partitions` entries: a Buffer of NDJSON views for each partition that got
// some, else undefined. readContext(lines) gives the lines before the input
// (IngestSession::ReadContext), before the first feed(). report() is the IngestSession's report; watermark() the
// latest accepted time, or -Infinity.
#ifndef SKIPTRAIL_PARTITION_SPLITTER_WRAP_H_
#define SKIPTRAIL_PARTITION_SPLITTER_WRAP_H_

#include <napi.h>

#include <memory>

#include "partition-splitter.h"

namespace skiptrail {

class PartitionSplitterWrap : public Napi::ObjectWrap<PartitionSplitterWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit PartitionSplitterWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value JS_feed(const Napi::CallbackInfo& info);
  Napi::Value JS_finish(const Napi::CallbackInfo& info);
  Napi::Value JS_readContext(const Napi::CallbackInfo& info);
  Napi::Value JS_report(const Napi::CallbackInfo& info);
  Napi::Value JS_watermark(const Napi::CallbackInfo& info);
  // The outputs as the array described above; clears them.
  Napi::Value TakeOutputs(Napi::Env env);

  std::unique_ptr<PartitionSplitter> splitter_;
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_PARTITION_SPLITTER_WRAP_H_
