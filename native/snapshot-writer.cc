#include "snapshot-writer.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "crc32c.h"
#include "dcheck.h"
#include "snapshot-format.h"

namespace skiptrail {
namespace snapshot {

namespace {
constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();
// Items (keys or owners) written between two looks at the clock.
constexpr int kItemsPerClockCheck = 256;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

SnapshotWriter::SnapshotWriter(const Engine* engine, int64_t created_at, std::string_view options_json,
                               std::string_view facade_json)
    : engine_(engine) {
  const EngineStats stats = engine->Stats();
  // Keys plus ~5 bytes an entry: one allocation in the common case.
  out_.reserve(kHeaderSize + (engine->users().size() + engine->pages().size()) * 24 + stats.entries * 6 +
               options_json.size() + facade_json.size() + (1 << 16));
  out_.resize(kHeaderSize);
  std::memcpy(&out_[0], kMagic, sizeof(kMagic));
  PutFixed32(&out_[8], kVersion);
  PutFixed64(&out_[16], static_cast<uint64_t>(created_at));

  const Engine::State state = engine->state();
  BeginSection(kMeta);
  Encoder meta(&out_);
  meta.Varint(state.has_watermark ? 1 : 0);
  meta.Varint(static_cast<uint64_t>(state.has_watermark ? state.watermark : 0));
  const bool has_clock = state.presence_clock != kMinTime;
  meta.Varint(has_clock ? 1 : 0);
  meta.Varint(ZigZag(has_clock ? state.presence_clock : 0));
  meta.Varint(state.events);
  meta.Varint(state.late);
  meta.Varint(state.evicted);
  EndSection();
  BeginSection(kOptions);
  out_.append(options_json.data(), options_json.size());
  EndSection();
  BeginSection(kFacade);
  out_.append(facade_json.data(), facade_json.size());
  EndSection();

  user_ids_.assign(engine->users().id_limit(), Interner::kNoId);
  page_ids_.assign(engine->pages().id_limit(), Interner::kNoId);
  BeginSection(kUserKeys);
  Encoder(&out_).Varint(engine->users().size());
}

void SnapshotWriter::BeginSection(uint32_t tag) {
  frame_ = out_.size();
  out_.resize(frame_ + kFrameSize);
  PutFixed32(&out_[frame_], tag);
}

void SnapshotWriter::EndSection() {
  const size_t payload = frame_ + kFrameSize;
  const size_t length = out_.size() - payload;
  PutFixed32(&out_[frame_ + 4], crc32c::Value(out_.data() + payload, length));
  PutFixed64(&out_[frame_ + 8], length);
  ++sections_;
}

bool SnapshotWriter::WriteKey(const Interner& keys, std::vector<uint32_t>* file_ids) {
  while (cursor_ < keys.id_limit() && !keys.live(cursor_)) ++cursor_;
  if (cursor_ == keys.id_limit()) return false;
  const std::string_view key = keys.View(cursor_);
  Encoder out(&out_);
  out.Varint(key.size());
  out.Bytes(key.data(), key.size());
  // Live keys get file ids 0, 1, 2, ... in id order.
  (*file_ids)[cursor_] = next_file_id_++;
  ++cursor_;
  return true;
}

// Writes one owner's list, lowest-ranked entry first (the order a reader inserts
// fastest in).
bool SnapshotWriter::WriteOwner(const RankedIndex& index, const Interner& owners,
                                const std::vector<uint32_t>& owner_ids, const std::vector<uint32_t>& member_ids) {
  while (cursor_ < owners.id_limit() && index.Size(cursor_) == 0) ++cursor_;
  if (cursor_ == owners.id_limit()) return false;
  const uint32_t size = index.Size(cursor_);
  if (members_.size() < size) {
    members_.resize(size);
    times_.resize(size);
  }
  const uint32_t count = index.Query(cursor_, kMinTime, kMaxTime, size, members_.data(), times_.data());
  Encoder out(&out_);
  out.Varint(owner_ids[cursor_]);
  out.Varint(count);
  int64_t previous = 0;
  for (uint32_t i = count; i-- > 0;) {
    const auto ts = static_cast<int64_t>(times_[i]);
    out.Varint(member_ids[members_[i]]);
    out.Varint(ZigZag(ts - previous));
    previous = ts;
  }
  ++cursor_;
  return true;
}

// Gathers the present users, a user id per call; false when past the last.
bool SnapshotWriter::CollectPresent() {
  if (cursor_ >= engine_->users().id_limit()) return false;
  uint32_t page;
  int64_t ts;
  if (engine_->presence().Find(cursor_, &page, &ts)) present_.push_back(Present{ts, user_ids_[cursor_], page_ids_[page]});
  ++cursor_;
  return true;
}

// Present users by time, so the reader's presence queue fills in order.
void SnapshotWriter::WritePresence() {
  std::sort(present_.begin(), present_.end(), [](const Present& a, const Present& b) { return a.ts < b.ts; });
  Encoder out(&out_);
  out.Varint(present_.size());
  int64_t previous = 0;
  for (const Present& entry : present_) {
    out.Varint(entry.user);
    out.Varint(entry.page);
    out.Varint(ZigZag(entry.ts - previous));
    previous = entry.ts;
  }
  std::vector<Present>().swap(present_);
}

void SnapshotWriter::NextPhase() {
  if (phase_ != Phase::kPresence) EndSection();
  cursor_ = 0;
  next_file_id_ = 0;
  switch (phase_) {
    case Phase::kUserKeys:
      phase_ = Phase::kPageKeys;
      BeginSection(kPageKeys);
      Encoder(&out_).Varint(engine_->pages().size());
      break;
    case Phase::kPageKeys:
      phase_ = Phase::kPageIndex;
      BeginSection(kPageIndex);
      Encoder(&out_).Varint(engine_->page_index().owners());
      break;
    case Phase::kPageIndex:
      phase_ = Phase::kUserIndex;
      BeginSection(kUserIndex);
      Encoder(&out_).Varint(engine_->user_index().owners());
      break;
    case Phase::kUserIndex:
      phase_ = Phase::kPresence;
      BeginSection(kPresence);
      present_.reserve(engine_->presence().OnlineCount());
      break;
    case Phase::kPresence:
      WritePresence();
      EndSection();
      phase_ = Phase::kDone;
      break;
    case Phase::kDone:
      break;
  }
}

bool SnapshotWriter::Step(int64_t budget_ns) {
  const int64_t deadline = budget_ns > 0 ? NowNs() + budget_ns : kMaxTime;
  while (phase_ != Phase::kDone) {
    bool more = true;
    for (int i = 0; i < kItemsPerClockCheck && more; ++i) {
      switch (phase_) {
        case Phase::kUserKeys: more = WriteKey(engine_->users(), &user_ids_); break;
        case Phase::kPageKeys: more = WriteKey(engine_->pages(), &page_ids_); break;
        case Phase::kPageIndex:
          more = WriteOwner(engine_->page_index(), engine_->pages(), page_ids_, user_ids_);
          break;
        case Phase::kUserIndex:
          more = WriteOwner(engine_->user_index(), engine_->users(), user_ids_, page_ids_);
          break;
        case Phase::kPresence: more = CollectPresent(); break;
        case Phase::kDone: more = false; break;
      }
    }
    if (!more) NextPhase();
    if (phase_ != Phase::kDone && NowNs() >= deadline) return false;
  }
  return true;
}

std::string SnapshotWriter::Finish() {
  SKIPTRAIL_DCHECK(phase_ == Phase::kDone);
  PutFixed32(&out_[12], sections_);
  PutFixed64(&out_[24], out_.size() + kTrailerSize);
  PutFixed32(&out_[32], 0);
  PutFixed32(&out_[kHeaderCrcOffset], crc32c::Value(out_.data(), kHeaderCrcOffset));
  char trailer[kTrailerSize];
  PutFixed32(trailer, crc32c::Value(out_.data(), out_.size()));
  PutFixed32(trailer + 4, kEndMagic);
  out_.append(trailer, kTrailerSize);
  return std::move(out_);
}

}  // namespace snapshot
}  // namespace skiptrail
