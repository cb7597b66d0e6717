// The snapshot functions as JavaScript sees them (the facade is src/snapshot.ts):
//
//   index.beginSnapshot(createdAt, optionsJson, facadeJson)
//   index.stepSnapshot(budgetMs) -> done: boolean
//   index.finishSnapshot() -> Buffer
//       the whole file image (snapshot-writer.h), made in steps of about budgetMs
//       (<= 0: to the end) that the facade runs on successive event-loop turns. From
//       begin to finish the index refuses every change (MutableEngine), so the image
//       is of the moment begin was called; abortSnapshot() drops it. Writing the
//       image to disk is the facade's job (src/snapshot.ts).
//   inspectSnapshot(data: Uint8Array)
//       -> { version, createdAt, options: string, facade: string } | { code, message }
//       checks the header and the small sections only (snapshot-reader.h ParseFile).
//   index.restoreSnapshot(data: Uint8Array, callback(error | null))
//       checks every checksum and builds a new engine from `data` on a worker thread
//       (the index's own engine is untouched meanwhile), then, back on the JS thread,
//       puts it in place of the index's engine. error: { code, message }.
//       REQUIRES: the caller neither uses the index nor changes `data` until the
//       callback; the index was made with the options the file names.
#ifndef SKIPTRAIL_SNAPSHOT_WRAP_H_
#define SKIPTRAIL_SNAPSHOT_WRAP_H_

#include <napi.h>

namespace skiptrail {

class ActivityIndexWrap;

Napi::Value BeginSnapshot(const Napi::CallbackInfo& info, ActivityIndexWrap* wrap);
Napi::Value StepSnapshot(const Napi::CallbackInfo& info, ActivityIndexWrap* wrap);
Napi::Value FinishSnapshot(const Napi::CallbackInfo& info, ActivityIndexWrap* wrap);
Napi::Value InspectSnapshot(const Napi::CallbackInfo& info);
Napi::Value RestoreSnapshot(const Napi::CallbackInfo& info, ActivityIndexWrap* wrap);

}  // namespace skiptrail

#endif  // SKIPTRAIL_SNAPSHOT_WRAP_H_
