// IngestSession: splits a byte stream into lines, parses each with a LogParser, hands
// accepted events to a sink and keeps the report of contract section 5.
//
// Chunks may be cut anywhere (mid-line, mid-"\r\n", mid-UTF-8 character). A line whole
// inside a chunk is parsed in place; only a line cut by a chunk boundary is copied, into
// one buffer of at most max_line_bytes + 1 bytes (+1: a "\r" may still precede the
// "\n"). A line longer than max_line_bytes (not counting "\n" or "\r\n") is rejected as
// line-too-long as soon as that is known, and the rest of it is skipped without being
// buffered.
//
// Lines: a line ends at "\n"; a final line without "\n" is flushed by Finish(). A line
// that is empty or only "\r" is skipped and not counted. Every counted line is accepted
// or rejected: report().lines == accepted + rejected, and the sum of reasons[] is
// rejected.
//
// Thread safety: none; one session per stream.
#ifndef SKIPTRAIL_INGEST_SESSION_H_
#define SKIPTRAIL_INGEST_SESSION_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "parse/log-parser.h"
#include "partition.h"

namespace skiptrail {

struct RejectedSample {
  uint64_t line_number;  // 1-based physical line in the stream, empty lines included
  RejectReason reason;
  // The first kSampleBytes bytes of the line (without "\n"/"\r\n"), as raw bytes. When
  // the cut falls inside a UTF-8 sequence it moves back to the sequence's start, so a
  // valid line gives a valid sample; a bad-encoding line still holds invalid bytes (the
  // JS side decodes with U+FFFD replacement). The same whatever the chunking.
  std::string text;
};

struct IngestReport {
  static constexpr size_t kMaxSamples = 10;    // first rejected lines kept, IsFilterReason() excluded
  static constexpr size_t kSampleBytes = 200;  // bytes of each sample's text

  uint64_t lines = 0;     // counted (non-empty) lines
  uint64_t accepted = 0;  // handed to the sink
  uint64_t rejected = 0;  // lines - accepted, filtered included
  uint64_t late = 0;      // accepted lines for which the sink returned true
  uint64_t reasons[static_cast<int>(RejectReason::kCount)] = {};  // reasons[kNone] == 0
  std::vector<RejectedSample> samples;
};

// A non-owning reference to a callable `bool(const ParsedView&)` that returns true when
// the event was late. One indirect call per accepted line, no allocation (unlike
// std::function). The callable must outlive the Feed()/Finish() call it is passed to,
// which a lambda written in the call's argument list does.
class ViewSink {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same<std::decay_t<F>, ViewSink>::value>>
  ViewSink(F&& f)  // NOLINT(google-explicit-constructor): passed as a lambda
      : context_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* context, const ParsedView& view) -> bool {
          return (*static_cast<std::remove_reference_t<F>*>(context))(view);
        }) {}

  bool operator()(const ParsedView& view) const { return call_(context_, view); }

 private:
  void* context_;
  bool (*call_)(void*, const ParsedView&);
};

class IngestSession {
 public:
  explicit IngestSession(const ParserOptions& options);

  IngestSession(const IngestSession&) = delete;
  IngestSession& operator=(const IngestSession&) = delete;

  // Consumes [data, data + len), calling sink for each accepted line that ends in it.
  // The view passed to sink is valid only during that call.
  void Feed(const char* data, size_t len, ViewSink sink);

  // Lines that came before the stream's input ('\n'-separated; a last line without one
  // counts): each goes to LogParser::ReadContextLine, which sets the parser's state (a
  // W3C file's last "#Fields:" before the offset a reader starts at), and nothing is
  // counted or accepted. REQUIRES: no line is pending (buffered_bytes() == 0): the
  // context comes before the input's first byte.
  void ReadContext(const char* data, size_t len);

  // Ends the stream: the pending line, if any, is parsed as a last line without "\n".
  // Feeding again afterwards starts a new line; line numbers keep counting.
  void Finish(ViewSink sink);

  // Lines whose time is later than max_ts are rejected as kFuture, whatever their
  // format (docs/semantics.md, "Time"). Default: none is. Set before each Feed() or
  // Finish(), as the wall clock moves.
  void set_max_ts(int64_t max_ts) { max_ts_ = max_ts; }

  const IngestReport& report() const { return report_; }

  // The latest time of the other-partition lines seen since the last call, if any:
  // stream time that the shard's engine must follow (Engine::AdvanceWatermark) for its
  // windows to match one index fed every line. Resets it.
  bool TakeOtherPartitionTime(int64_t* ts) {
    if (!other_partition_seen_) return false;
    *ts = other_partition_ts_;
    other_partition_seen_ = false;
    return true;
  }
  const ParserOptions& options() const { return parser_.options(); }

  // Bytes of the pending partial line held between Feed() calls: at most
  // max_line_bytes + 1.
  size_t buffered_bytes() const { return partial_.size(); }

 private:
  // line: without its "\n"; a trailing "\r" is still there.
  void ProcessLine(const char* line, size_t len, ViewSink sink);
  // Counts a rejected line; content excludes the "\n" or "\r\n".
  void Reject(RejectReason reason, const char* content, size_t len);
  // Counts a new line known to be too long before its end is seen, and starts skipping
  // it; [head, head + head_len) are its first bytes.
  void RejectTooLongAndSkip(const char* head, size_t head_len);
  // While skipping: more bytes of the skipped line; then its end.
  void ExtendOpenSample(const char* data, size_t len);
  void CloseOpenSample();

  LogParser parser_;
  size_t max_line_bytes_;
  std::string partial_;     // the start of a line cut by a chunk boundary, never empty
                            // while a line is pending
  bool skipping_ = false;   // inside a line already rejected as too long
  // The skipped line's sample (report_.samples.back()) still collects raw bytes, up to
  // kSampleBytes + 1, to be cut like any other sample once the line ends.
  bool sample_open_ = false;
  size_t sample_open_seen_ = 0;  // raw bytes of that line seen so far
  uint64_t physical_line_ = 0;
  uint32_t partitions_;  // 0: no partition filter
  uint32_t partition_;
  bool other_partition_seen_ = false;
  int64_t other_partition_ts_ = 0;
  int64_t max_ts_ = kMaxSafeInteger;
  IngestReport report_;
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_INGEST_SESSION_H_
