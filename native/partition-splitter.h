// PartitionSplitter: the publisher's side of a partitioned cluster. It parses log lines
// with an IngestSession (any format, chunks cut anywhere, the same report) and writes
// each accepted view, as one NDJSON line {"user":…,"page":…,"ts":…}, to the output of
// the partition that owns its user (partition.h). The shards of partition p then read
// only p's views, already parsed, in the format every shard reads alike.
//
// Outputs hold the views of the lines completed since the last TakeOutputs(); the
// caller (the publisher) sends each non-empty one to its partition's subject.
//
// Thread safety: none; one splitter per stream.
#ifndef SKIPTRAIL_PARTITION_SPLITTER_H_
#define SKIPTRAIL_PARTITION_SPLITTER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ingest-session.h"

namespace skiptrail {

class PartitionSplitter {
 public:
  // REQUIRES: 1 <= partitions <= kMaxPartitions; options.partitions == 0 (no filter).
  PartitionSplitter(const ParserOptions& options, uint32_t partitions);

  // Consumes a chunk cut anywhere; the views of its whole lines go to the outputs.
  void Feed(const char* data, size_t len);
  // Lines that came before the input (IngestSession::ReadContext), before the first Feed().
  void ReadContext(const char* data, size_t len) { session_.ReadContext(data, len); }
  // Ends the stream: a last line without "\n" is parsed.
  void Finish();

  uint32_t partitions() const { return static_cast<uint32_t>(outputs_.size()); }
  // outputs()[p]: NDJSON of partition p's views since the last ClearOutputs().
  const std::vector<std::string>& outputs() const { return outputs_; }
  void ClearOutputs();

  const IngestReport& report() const { return session_.report(); }
  // The latest time of any accepted view so far; valid when has_watermark().
  bool has_watermark() const { return has_watermark_; }
  int64_t watermark() const { return watermark_; }

 private:
  void Add(const ParsedView& view);

  IngestSession session_;
  std::vector<std::string> outputs_;
  bool has_watermark_ = false;
  int64_t watermark_ = 0;
};

// Appends `text` as a JSON string (quotes included). REQUIRES: valid UTF-8 with no
// control byte below 0x20, which the parser guarantees for every user and page.
void AppendJsonString(std::string* out, std::string_view text);

}  // namespace skiptrail

#endif  // SKIPTRAIL_PARTITION_SPLITTER_H_
