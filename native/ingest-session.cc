#include "ingest-session.h"

#include <cstring>

namespace skiptrail {

IngestSession::IngestSession(const ParserOptions& options)
    : parser_(options), max_line_bytes_(options.max_line_bytes) {}

void IngestSession::Feed(const char* data, size_t len, ViewSink sink) {
  const char* p = data;
  const char* const end = data + len;
  // A line may hold max_line_bytes plus the "\r" of a "\r\n" terminator.
  const size_t max_pending = max_line_bytes_ + 1;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
    if (skipping_) {
      if (nl == nullptr) return;
      skipping_ = false;
      p = nl + 1;
      continue;
    }
    const size_t piece = (nl != nullptr ? nl : end) - p;
    if (!partial_.empty()) {
      if (partial_.size() + piece > max_pending) {
        RejectTooLong(partial_.data(), partial_.size(), p, piece);
        partial_.clear();
        if (nl == nullptr) {
          skipping_ = true;
          return;
        }
        p = nl + 1;
        continue;
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
        RejectTooLong(p, piece, nullptr, 0);
        skipping_ = true;
      } else {
        partial_.assign(p, piece);
      }
      return;
    }
    ProcessLine(p, piece, sink);
    p = nl + 1;
  }
}

void IngestSession::Finish(ViewSink sink) {
  skipping_ = false;  // that line was counted when it became too long
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
    Reject(RejectReason::kLineTooLong, line, content, nullptr, 0);
    return;
  }
  ParsedView view;
  const RejectReason reason = parser_.Parse(std::string_view(line, content), &view);
  if (reason != RejectReason::kNone) {
    Reject(reason, line, content, nullptr, 0);
    return;
  }
  ++report_.accepted;
  if (sink(view)) ++report_.late;
}

void IngestSession::RejectTooLong(const char* head, size_t head_len, const char* tail,
                                  size_t tail_len) {
  ++physical_line_;
  ++report_.lines;
  Reject(RejectReason::kLineTooLong, head, head_len, tail, tail_len);
}

void IngestSession::Reject(RejectReason reason, const char* head, size_t head_len,
                           const char* tail, size_t tail_len) {
  ++report_.rejected;
  ++report_.reasons[static_cast<int>(reason)];
  if (reason == RejectReason::kFiltered || report_.samples.size() >= IngestReport::kMaxSamples) {
    return;
  }
  RejectedSample sample{physical_line_, reason, std::string()};
  std::string& text = sample.text;
  const size_t limit = IngestReport::kSampleBytes;
  text.assign(head, head_len < limit ? head_len : limit);
  if (text.size() < limit && tail_len > 0) {
    const size_t more = limit - text.size();
    text.append(tail, tail_len < more ? tail_len : more);
  }
  // Cut inside a UTF-8 sequence? Move back to its lead byte (at most 3 bytes).
  const size_t total = head_len + tail_len;
  if (total > text.size()) {
    const size_t next = text.size();
    const unsigned char after =
        static_cast<unsigned char>(next < head_len ? head[next] : tail[next - head_len]);
    if ((after & 0xC0) == 0x80) {
      size_t cut = text.size();
      while (cut > 0 && text.size() - cut < 3 &&
             (static_cast<unsigned char>(text[cut - 1]) & 0xC0) == 0x80) {
        --cut;
      }
      if (cut > 0 && static_cast<unsigned char>(text[cut - 1]) >= 0xC0) text.resize(cut - 1);
    }
  }
  report_.samples.push_back(std::move(sample));
}

}  // namespace skiptrail
