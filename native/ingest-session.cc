#include "ingest-session.h"

#include <cstring>

namespace skiptrail {

namespace {

constexpr size_t kSampleBytes = IngestReport::kSampleBytes;

// The sample text of a line's content [content, content + len): the first kSampleBytes
// bytes, cut back to the lead byte of a UTF-8 sequence the cut would split. Reads at
// most kSampleBytes + 1 bytes, so a caller that holds only that many gets the same text.
std::string SampleText(const char* content, size_t len) {
  if (len <= kSampleBytes) return std::string(content, len);
  size_t cut = kSampleBytes;
  if ((static_cast<unsigned char>(content[cut]) & 0xC0) == 0x80) {  // a continuation byte
    size_t lead = cut;
    while (lead > 0 && cut - lead < 3 && (static_cast<unsigned char>(content[lead - 1]) & 0xC0) == 0x80) {
      --lead;
    }
    if (lead > 0 && static_cast<unsigned char>(content[lead - 1]) >= 0xC0) cut = lead - 1;
  }
  return std::string(content, cut);
}

}  // namespace

IngestSession::IngestSession(const ParserOptions& options)
    : parser_(options),
      max_line_bytes_(options.max_line_bytes),
      partitions_(options.partitions),
      partition_(options.partition) {
  SKIPTRAIL_DCHECK(partitions_ == 0 || (partition_ < partitions_ && partitions_ <= kMaxPartitions));
}

void IngestSession::Feed(const char* data, size_t len, ViewSink sink) {
  const char* p = data;
  const char* const end = data + len;
  // A line may hold max_line_bytes plus the "\r" of a "\r\n" terminator.
  const size_t max_pending = max_line_bytes_ + 1;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    const size_t piece = (nl != nullptr ? nl : end) - p;
    if (skipping_) {
      if (sample_open_) ExtendOpenSample(p, piece);
      if (nl == nullptr) return;
      if (sample_open_) CloseOpenSample();
      skipping_ = false;
      p = nl + 1;
      continue;
    }
    if (!partial_.empty()) {
      if (partial_.size() + piece > max_pending) {
        RejectTooLongAndSkip(partial_.data(), partial_.size());
        partial_.clear();
        continue;  // the skipping branch consumes this piece and the rest of the line
      }
      partial_.append(p, piece);
      if (nl == nullptr) return;
      ProcessLine(partial_.data(), partial_.size(), sink);
      partial_.clear();
      p = nl + 1;
      continue;
    }
    if (nl == nullptr) {  // the start of a line the next chunk continues
      if (piece > max_pending) {
        RejectTooLongAndSkip(p, piece);
      } else {
        partial_.assign(p, piece);
      }
      return;
    }
    ProcessLine(p, piece, sink);
    p = nl + 1;
  }
}

void IngestSession::ReadContext(const char* data, size_t len) {
  SKIPTRAIL_DCHECK(partial_.empty() && !skipping_);
  const char* p = data;
  const char* end = data + len;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    const char* line_end = nl == nullptr ? end : nl;
    parser_.ReadContextLine(std::string_view(p, line_end - p));
    p = line_end + 1;
  }
}

void IngestSession::Finish(ViewSink sink) {
  if (skipping_) {  // that line was counted when it became too long
    if (sample_open_) CloseOpenSample();
    skipping_ = false;
  }
  if (!partial_.empty()) {
    ProcessLine(partial_.data(), partial_.size(), sink);
    partial_.clear();
  }
}

void IngestSession::ProcessLine(const char* line, size_t len, ViewSink sink) {
  ++physical_line_;
  const size_t content = (len > 0 && line[len - 1] == '\r') ? len - 1 : len;
  if (content == 0) return;
  ++report_.lines;
  if (content > max_line_bytes_) {
    Reject(RejectReason::kLineTooLong, line, content);
    return;
  }
  ParsedView view;
  // The parser drops the one "\r" itself: give it the line with it, or a line ending
  // "\r\r" would lose both.
  const RejectReason reason = parser_.Parse(std::string_view(line, len), &view);
  if (reason != RejectReason::kNone) {
    Reject(reason, line, content);
    return;
  }
  // Before the partition filter: a future line must not move any shard's watermark.
  if (view.ts_ms > max_ts_) {
    Reject(RejectReason::kFuture, line, content);
    return;
  }
  if (partitions_ != 0 && PartitionOf(view.user, partitions_) != partition_) {
    Reject(RejectReason::kOtherPartition, line, content);
    if (!other_partition_seen_ || view.ts_ms > other_partition_ts_) other_partition_ts_ = view.ts_ms;
    other_partition_seen_ = true;
    return;
  }
  ++report_.accepted;
  if (sink(view)) ++report_.late;
}

void IngestSession::Reject(RejectReason reason, const char* content, size_t len) {
  ++report_.rejected;
  ++report_.reasons[static_cast<int>(reason)];
  // Filtered, other-partition, method, static and crawler lines are expected, not
  // errors: counted, not sampled.
  if (!IsFilterReason(reason) && report_.samples.size() < IngestReport::kMaxSamples) {
    report_.samples.push_back({physical_line_, reason, SampleText(content, len)});
  }
}

void IngestSession::RejectTooLongAndSkip(const char* head, size_t head_len) {
  ++physical_line_;
  ++report_.lines;
  ++report_.rejected;
  ++report_.reasons[static_cast<int>(RejectReason::kLineTooLong)];
  skipping_ = true;
  if (report_.samples.size() < IngestReport::kMaxSamples) {
    report_.samples.push_back({physical_line_, RejectReason::kLineTooLong, std::string()});
    sample_open_ = true;
    sample_open_seen_ = 0;
    ExtendOpenSample(head, head_len);
  }
}

void IngestSession::ExtendOpenSample(const char* data, size_t len) {
  std::string& text = report_.samples.back().text;
  const size_t room = kSampleBytes + 1 - text.size();
  text.append(data, len < room ? len : room);
  sample_open_seen_ += len;
}

void IngestSession::CloseOpenSample() {
  std::string& text = report_.samples.back().text;
  // Whole line held: drop the "\r" of its "\r\n", as ProcessLine does.
  if (sample_open_seen_ == text.size() && !text.empty() && text.back() == '\r') text.pop_back();
  text = SampleText(text.data(), text.size());
  sample_open_ = false;
}

}  // namespace skiptrail
