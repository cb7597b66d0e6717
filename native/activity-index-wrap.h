// ActivityIndexWrap: the JavaScript class `NativeActivityIndex` around one Engine.
//
// The TypeScript facade (src/activity-index.ts) validates every argument first and
// calls these methods with plain numbers, strings and typed arrays. Here we re-check
// only what keeps C++ safe: argument kinds, array bounds, integer ranges, closed state.
//
// Results cross back flat: a query writes ids to a Uint32Array and times to a
// Float64Array that the facade bound once with bindResults(), and returns the count.
// When a result mentions ids whose strings JavaScript has not seen yet (or whose ids
// were reused for other keys since), it returns those keys instead, concatenated in
// row order into one string (or, past kKeyChunkBytes, an array of such strings, each
// holding whole keys), and writes to the bound keyLengths array: [0] the count, [1 + i]
// the UTF-16 length of row i's key when it is in the string, else 0. So the facade
// keeps an id -> string cache, hot keys are never rebuilt, and a cold result costs one
// string, not one per key.
#ifndef SKIPTRAIL_ACTIVITY_INDEX_WRAP_H_
#define SKIPTRAIL_ACTIVITY_INDEX_WRAP_H_

#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine.h"
#include "snapshot-writer.h"

namespace skiptrail {

class ActivityIndexWrap : public Napi::ObjectWrap<ActivityIndexWrap> {
 public:
  // New keys of one result are returned in strings of at most this many UTF-8 bytes
  // (or one key, if longer).
  static constexpr size_t kKeyChunkBytes = size_t{1} << 20;

  static Napi::Function Init(Napi::Env env);

  // new NativeActivityIndex(usersPerPage, pagesPerUser, userWindow, pageWindow,
  //                         presenceWindow, maxPages, maxUsers, maxKeyBytes[, tuning])
  // pageWindow, maxPages and maxUsers are -1 for "none". tuning, for tests only:
  // { smallListMax?, tombstoneSlack?, queueSlack? } (EngineOptions::small_list_max).
  explicit ActivityIndexWrap(const Napi::CallbackInfo& info);

  // The wrap of `value` when it is a NativeActivityIndex this addon constructed (its
  // type tag says so: a prototype chain alone proves nothing), else nullptr.
  static ActivityIndexWrap* FromValue(Napi::Env env, Napi::Value value);

  // The engine, or nullptr once closed.
  Engine* engine() { return engine_.get(); }
  // The engine for a call that changes it; nullptr, with an Error thrown, when the
  // index is closed or a snapshot image is being made (snapshot-wrap.h: the facade
  // finishes the image before any change).
  Engine* MutableEngine(Napi::Env env);
  // The snapshot image being made, if any (snapshot-wrap.cc owns its steps).
  std::unique_ptr<snapshot::SnapshotWriter>& snapshot_writer() { return snapshot_writer_; }
  // Reports the engine's memory change to V8's garbage collector.
  void ReportMemory(Napi::Env env);
  // Replaces the engine with `engine` (a restored snapshot, snapshot-wrap.h), dropping
  // the JavaScript key caches' claims. REQUIRES: the index is open.
  void AdoptEngine(Napi::Env env, std::unique_ptr<Engine> engine);

 private:
  // bindResults(ids: Uint32Array, times: Float64Array, keyLengths: Uint32Array): result
  // arrays, ids and times of one length n, keyLengths of n + 1.
  Napi::Value JS_bindResults(const Napi::CallbackInfo& info);
  // record(user, page, ts) -> late: boolean
  Napi::Value JS_record(const Napi::CallbackInfo& info);
  // recordMany(keys: string, lengths: Uint32Array, times: Float64Array, count, ids:
  // Uint32Array) -> late count. Key 2i is event i's user, 2i + 1 its page. ids[k] is
  // key k's id when JavaScript has it cached (lengths[k] is then 0), else 0xFFFFFFFF
  // and the key is in `keys`: the keys sent, concatenated in order, lengths[k] their
  // UTF-16 lengths. On return ids[k] holds the id of every key sent whose id still
  // names it (else stays 0xFFFFFFFF); those ids are marked exported.
  // If a key holds a lone surrogate, indexes nothing and returns -1 - its event's index.
  Napi::Value JS_recordMany(const Napi::CallbackInfo& info);
  // takeFreedIds() -> null | Uint32Array [userCount, overflowed (bit 0 users, bit 1
  // pages), ...freed user ids, ...freed page ids]: the ids freed since the last call
  // (see Interner::freed_log), for the facade's key -> id caches.
  Napi::Value JS_takeFreedIds(const Napi::CallbackInfo& info);
  // lastUsers(page, k) -> count | new keys (see the top of this file)
  Napi::Value JS_lastUsers(const Napi::CallbackInfo& info);
  // userPages(user, from, to, limit) -> count | new keys (see the top of this file)
  Napi::Value JS_userPages(const Napi::CallbackInfo& info);
  // onlineUsers(page, k, now) -> count | new keys (see the top of this file); now may be -Infinity.
  Napi::Value JS_onlineUsers(const Napi::CallbackInfo& info);
  // onlineCount(page | undefined, now) -> number
  Napi::Value JS_onlineCount(const Napi::CallbackInfo& info);
  Napi::Value JS_watermark(const Napi::CallbackInfo& info);
  Napi::Value JS_advanceWatermark(const Napi::CallbackInfo& info);
  Napi::Value JS_stats(const Napi::CallbackInfo& info);
  Napi::Value JS_clear(const Napi::CallbackInfo& info);
  Napi::Value JS_close(const Napi::CallbackInfo& info);
  Napi::Value JS_validate(const Napi::CallbackInfo& info);
  // ingest(data: Uint8Array, options, maxTs?: number) -> report (see ingest-wrap.h);
  // a line later than maxTs is rejected as future.
  Napi::Value JS_ingest(const Napi::CallbackInfo& info);
  // beginSnapshot, stepSnapshot, finishSnapshot, abortSnapshot, restoreSnapshot:
  // see snapshot-wrap.h.
  Napi::Value JS_beginSnapshot(const Napi::CallbackInfo& info);
  Napi::Value JS_stepSnapshot(const Napi::CallbackInfo& info);
  Napi::Value JS_finishSnapshot(const Napi::CallbackInfo& info);
  Napi::Value JS_abortSnapshot(const Napi::CallbackInfo& info);
  Napi::Value JS_restoreSnapshot(const Napi::CallbackInfo& info);

  // Defines record, lastUsers, userPages, onlineUsers, onlineCount and watermark on `self` (the JS
  // object of this wrap) as functions whose data is this wrap, so a call needs no
  // napi_unwrap (a private-property lookup, ~80 ns, more than the rest of the call's
  // overhead). Each function holds `self`, so the pointer cannot outlive the wrap.
  void BindHotMethods(Napi::Env env, Napi::Object self);
  template <Napi::Value (ActivityIndexWrap::*Method)(const Napi::CallbackInfo&)>
  static Napi::Value CallBound(const Napi::CallbackInfo& info);

  // Throws and returns false when the index is closed.
  bool CheckOpen(Napi::Env env);
  // Moves the presence clock to `now` if that changes it (a change: MutableEngine).
  // Returns false with an exception pending.
  bool AdvancePresenceClock(Napi::Env env, int64_t now);
  // Reads a string argument as UTF-8 into `buffer` (sized once to maxKeyBytes + 2)
  // and points *key at it. Returns false (with a pending exception) if it is not a
  // string; a key longer than maxKeyBytes sets *too_long.
  bool ReadKey(Napi::Env env, Napi::Value value, const char* name, std::string* buffer, std::string_view* key,
               bool* too_long);
  // recordMany's fast conversion: has V8 write `keys` (total_units UTF-16 units) as
  // UTF-8 into batch_utf8_ and sets batch_offsets_[i] to the end of key i, whose
  // UTF-16 length is lengths[i]. Returns false when the exact UTF-16 path must decide
  // (a lone surrogate may be present).
  bool SplitUtf8Keys(Napi::Env env, Napi::Value keys, const uint32_t* lengths, size_t count, size_t total_units);
  // The count, or the new keys (see the top of this file) when some ids are new to
  // JavaScript; marks those exported.
  Napi::Value ResultsFor(Napi::Env env, Interner& keys, uint32_t count);

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<snapshot::SnapshotWriter> snapshot_writer_;  // reads engine_; set while an image is made
  uint32_t max_key_bytes_ = 1024;
  Napi::Reference<Napi::Uint32Array> result_ids_ref_;
  Napi::Reference<Napi::Float64Array> result_times_ref_;
  Napi::Reference<Napi::Uint32Array> result_key_lengths_ref_;
  uint32_t* result_ids_ = nullptr;
  double* result_times_ = nullptr;
  uint32_t* result_key_lengths_ = nullptr;  // result_capacity_ + 1 elements
  uint32_t result_capacity_ = 0;
  int64_t reported_memory_ = 0;
  uint32_t records_since_report_ = 0;
  std::string key_a_, key_b_;  // scratch UTF-8 key buffers, maxKeyBytes + 2 bytes each
  std::string export_utf8_;    // scratch: the new keys of one result, concatenated
  // Scratch for recordMany: the keys as UTF-8 with each key's end offset (through
  // UTF-16 in batch_keys_ when SplitUtf8Keys cannot decide), then as events.
  std::u16string batch_keys_;
  std::string batch_utf8_;
  std::vector<size_t> batch_offsets_;
  std::vector<Engine::EventView> batch_events_;
  std::vector<uint32_t> batch_ids_;  // the ids RecordBatch used, two per event
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_ACTIVITY_INDEX_WRAP_H_
