// Per-load state of the addon (Node-API instance data): one per env, that is per
// main thread or worker that loads the addon. Holds the class constructors, so that
// native code can check what JavaScript hands it (InstanceOf) without any static
// JavaScript reference.
#ifndef SKIPTRAIL_ADDON_STATE_H_
#define SKIPTRAIL_ADDON_STATE_H_

#include <napi.h>

namespace skiptrail {

struct AddonState {
  Napi::FunctionReference activity_index;
  Napi::FunctionReference ingest_session;

  static AddonState* Of(Napi::Env env) { return env.GetInstanceData<AddonState>(); }
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_ADDON_STATE_H_
