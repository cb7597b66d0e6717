// The Node-API side of log ingestion (SPEC section 5):
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

#include "ingest-session.h"
#include "log-parser.h"

namespace skiptrail {

class Engine;

// Reads the facade's normalized options object: { format, user, keepQuery, statusMin,
// statusMax, statuses (number[]), userField, pageField, tsField, maxKeyBytes,
// maxLineBytes }. Returns false with a pending TypeError on a malformed object.
bool ReadParserOptions(Napi::Env env, Napi::Value value, ParserOptions* options);

// { lines, accepted, rejected, late, reasons: { reason: count }, samples: [{ line, reason, text }] }
Napi::Object ReportToJs(Napi::Env env, const IngestReport& report);

// Feeds `data` through `session` into `engine`.
void FeedEngine(IngestSession& session, Engine& engine, const char* data, size_t size);
void FinishEngine(IngestSession& session, Engine& engine);

class IngestSessionWrap : public Napi::ObjectWrap<IngestSessionWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  // new NativeIngestSession(index: NativeActivityIndex, options)
  explicit IngestSessionWrap(const Napi::CallbackInfo& info);

 private:
  // feed(chunk: Uint8Array): parses and indexes the chunk's whole lines.
  Napi::Value JS_feed(const Napi::CallbackInfo& info);
  // finish(): flushes the last line without "\n".
  Napi::Value JS_finish(const Napi::CallbackInfo& info);
  // report(): the report so far.
  Napi::Value JS_report(const Napi::CallbackInfo& info);

  // The index's engine, or nullptr (with a pending Error) when it was closed.
  Engine* OpenEngine(Napi::Env env);

  Napi::ObjectReference index_;  // keeps the index alive while the stream is
  std::unique_ptr<IngestSession> session_;
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_INGEST_WRAP_H_
