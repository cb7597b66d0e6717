// The Node-API side of log ingestion (contract section 5):
//   - ReadParserOptions / ReportToJs translate options and reports;
//   - IngestSessionWrap is the JavaScript class `NativeIngestSession`: one
//     IngestSession feeding one ActivityIndex, chunk by chunk, for
//     index.createIngestStream(). (One-shot index.ingest() is
//     ActivityIndexWrap::JS_ingest.)
// The facade (src/ingest.ts) validates the options first; here they are re-checked
// only as far as C++ safety needs.
#ifndef SKIPTRAIL_INGEST_WRAP_H_
#define SKIPTRAIL_INGEST_WRAP_H_

#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "engine.h"
#include "ingest-session.h"
#include "parse/log-parser.h"

namespace skiptrail {


// Reads the facade's normalized options object: { format, user, keepQuery, statusMin,
// statusMax, statuses (number[]), userField, pageField, tsField, statusField, methodField,
// agentField (JSON
// field specs, '' for the format's default), tsUnit ('' for the format's default),
// syslog, methods, staticExtensions, crawlers (string[]; [] turns the rule off),
// maxKeyBytes, maxLineBytes }. Returns false with a pending TypeError on a malformed object.
bool ReadParserOptions(Napi::Env env, Napi::Value value, ParserOptions* options);

// checkLogFormat(dialect: 'apache' | 'nginx' | 'vhost_combined' | 'w3c', format, userList):
// null when the format compiles (CompileFormat; for 'w3c' the user list is valid,
// CheckW3cUserList), else the compiler's message. The facade
// calls it while reading the options, so a bad format is a RangeError there.
Napi::Value JS_checkLogFormat(const Napi::CallbackInfo& info);

// checkJsonField(spec): null when a JSON field spec ("request.uri", "a|b\\.c") parses
// (ParseJsonFieldSpec), else the message. The facade calls it while reading options.fields.
Napi::Value JS_checkJsonField(const Napi::CallbackInfo& info);
// logFormatTraits(dialect, format, userList): { method, agent }, whether the compiled
// format logs what the view rules read (view-rules.h). REQUIRES (else both false):
// checkLogFormat() returned null for the same arguments.
Napi::Value JS_logFormatTraits(const Napi::CallbackInfo& info);

// defaultViewRules(): { staticExtensions, crawlers }, the library's default lists.
Napi::Value JS_defaultViewRules(const Napi::CallbackInfo& info);

// readContext(lines)'s argument: the bytes of a Uint8Array info[0]. Returns false with a
// pending TypeError otherwise.
bool ReadContextArgument(const Napi::CallbackInfo& info, const char** data, size_t* size);

// Reads the optional argument `index`, the latest event time a call accepts (the
// facade's wall clock plus maxFutureSkew): undefined or absent means no limit. Returns
// false with a pending TypeError when it is not a number.
bool ReadMaxTs(const Napi::CallbackInfo& info, size_t index, int64_t* max_ts);

// { lines, accepted, rejected, late, reasons: { reason: count }, samples: [{ line, reason, text }] }
// `late` is counted by the EngineFeeder, not by the session.
Napi::Object ReportToJs(Napi::Env env, const IngestReport& report, uint64_t late);

// Feeds an IngestSession's accepted views into an Engine in batches of kBatch, so that
// Engine::RecordBatch can prefetch (the views only live during the sink call, so their
// bytes are copied into one buffer first). Events keep their order; a batch is always
// flushed before Feed()/Finish() return.
class EngineFeeder {
 public:
  static constexpr size_t kBatch = 1024;

  void Feed(IngestSession& session, Engine& engine, const char* data, size_t size);
  void Finish(IngestSession& session, Engine& engine);
  uint64_t late() const { return late_; }

 private:
  bool Add(const ParsedView& view);
  void Flush(Engine& engine);
  // Advances the engine to the latest other-partition time the session saw.
  static void FollowOtherPartitions(IngestSession& session, Engine& engine);

  std::string bytes_;           // user0 page0 user1 page1 ...
  std::vector<size_t> ends_;    // end offset of each key in bytes_
  std::vector<int64_t> times_;
  std::vector<Engine::EventView> events_;
  uint64_t late_ = 0;
};

class ActivityIndexWrap;

class IngestSessionWrap : public Napi::ObjectWrap<IngestSessionWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  // new NativeIngestSession(index: NativeActivityIndex, options)
  explicit IngestSessionWrap(const Napi::CallbackInfo& info);

 private:
  // feed(chunk: Uint8Array, maxTs?: number): parses and indexes the chunk's whole
  // lines; a line later than maxTs is rejected as future.
  Napi::Value JS_feed(const Napi::CallbackInfo& info);
  // finish(maxTs?: number): flushes the last line without "\n".
  Napi::Value JS_finish(const Napi::CallbackInfo& info);
  // readContext(lines: Uint8Array): the lines before the input (IngestSession::
  // ReadContext); an Error when a line is pending.
  Napi::Value JS_readContext(const Napi::CallbackInfo& info);
  // report(): the report so far.
  Napi::Value JS_report(const Napi::CallbackInfo& info);

  // The index's engine, or nullptr (with a pending Error) when it was closed.
  Engine* OpenEngine(Napi::Env env);

  Napi::ObjectReference index_;  // keeps the index alive while the stream is
  ActivityIndexWrap* index_wrap_ = nullptr;  // index_'s native half, set with session_
  std::unique_ptr<IngestSession> session_;
  EngineFeeder feeder_;
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_INGEST_WRAP_H_
