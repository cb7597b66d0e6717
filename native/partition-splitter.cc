#include "partition-splitter.h"

#include "dcheck.h"
#include "partition.h"

namespace skiptrail {

void AppendJsonString(std::string* out, std::string_view text) {
  out->push_back('"');
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"' || c == '\\') {
      out->append(text.data() + start, i - start);
      out->push_back('\\');
      out->push_back(c);
      start = i + 1;
    }
  }
  out->append(text.data() + start, text.size() - start);
  out->push_back('"');
}

PartitionSplitter::PartitionSplitter(const ParserOptions& options, uint32_t partitions)
    : session_(options), outputs_(partitions) {
  SKIPTRAIL_DCHECK(partitions >= 1 && partitions <= kMaxPartitions && options.partitions == 0);
}

void PartitionSplitter::Feed(const char* data, size_t len) {
  session_.Feed(data, len, [this](const ParsedView& view) {
    Add(view);
    return false;
  });
}

void PartitionSplitter::Finish() {
  session_.Finish([this](const ParsedView& view) {
    Add(view);
    return false;
  });
}

void PartitionSplitter::ClearOutputs() {
  for (std::string& output : outputs_) output.clear();
}

void PartitionSplitter::Add(const ParsedView& view) {
  std::string& out = outputs_[PartitionOf(view.user, partitions())];
  out.append("{\"user\":");
  AppendJsonString(&out, view.user);
  out.append(",\"page\":");
  AppendJsonString(&out, view.page);
  out.append(",\"ts\":");
  out.append(std::to_string(view.ts_ms));
  out.append("}\n");
  if (!has_watermark_ || view.ts_ms > watermark_) watermark_ = view.ts_ms;
  has_watermark_ = true;
}

}  // namespace skiptrail
