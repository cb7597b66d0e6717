// The addon's entry point. Node-API addons are context-aware: this runs once per
// load (main thread or worker), and everything it makes lives in that load's env.
#include <napi.h>

#include "activity-index-wrap.h"
#include "addon-state.h"
#include "ingest-wrap.h"
#include "partition-splitter-wrap.h"
#include "snapshot-wrap.h"

namespace skiptrail {

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  auto* state = new AddonState();
  Napi::Function activity_index = ActivityIndexWrap::Init(env);
  Napi::Function ingest_session = IngestSessionWrap::Init(env);
  state->activity_index = Napi::Persistent(activity_index);
  state->ingest_session = Napi::Persistent(ingest_session);
  env.SetInstanceData<AddonState>(state);
  exports.Set("NativeActivityIndex", activity_index);
  exports.Set("NativeIngestSession", ingest_session);
  exports.Set("NativePartitionSplitter", PartitionSplitterWrap::Init(env));
  exports.Set("inspectSnapshot", Napi::Function::New<InspectSnapshot>(env, "inspectSnapshot"));
  exports.Set("checkLogFormat", Napi::Function::New(env, JS_checkLogFormat, "checkLogFormat"));
  exports.Set("checkJsonField", Napi::Function::New(env, JS_checkJsonField, "checkJsonField"));
  exports.Set("logFormatTraits", Napi::Function::New(env, JS_logFormatTraits, "logFormatTraits"));
  exports.Set("defaultViewRules", Napi::Function::New(env, JS_defaultViewRules, "defaultViewRules"));
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  return exports;
}

}  // namespace skiptrail

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return skiptrail::InitAddon(env, exports); }

NODE_API_MODULE(skiptrail, Init)
