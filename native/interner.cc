#include "interner.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>


namespace skiptrail {

namespace {
constexpr size_t kInitialSlots = 64;
// Bookkeeping glibc's malloc keeps beside each allocation.
constexpr size_t kMallocOverhead = sizeof(size_t);
}  // namespace

Interner::Interner() : table_(kInitialSlots, kNoId) {}

Interner::~Interner() { Clear(); }


uint32_t Interner::Find(std::string_view key, uint32_t hash) const {
  const size_t mask = table_.size() - 1;
  for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    const uint32_t id = table_[slot];
    if (id == kNoId) return kNoId;
    if (Matches(entries_[id], key, hash)) return id;
  }
}

uint32_t Interner::InternProbing(std::string_view key, uint32_t hash) {
  SKIPTRAIL_DCHECK(hash == Hash(key));
  size_t mask = table_.size() - 1;
  size_t slot = hash & mask;
  for (;; slot = (slot + 1) & mask) {
    const uint32_t id = table_[slot];
    if (id == kNoId) break;
    if (Matches(entries_[id], key, hash)) return id;
  }
  if ((live_ + 1) * 4 > table_.size() * 3) {
    Grow();
    mask = table_.size() - 1;
    for (slot = hash & mask; table_[slot] != kNoId; slot = (slot + 1) & mask) {
    }
  }
  uint32_t id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
  } else {
    id = static_cast<uint32_t>(entries_.size());
    entries_.push_back(Entry{kFreeSize, 0, 0, {}});
    if ((id >> 6) >= exported_.size()) exported_.push_back(0);
  }
  Entry& entry = entries_[id];
  entry.size = static_cast<uint32_t>(key.size());
  entry.hash = hash;
  entry.refs = 0;
  if (IsInline(entry)) {
    if (!key.empty()) std::memcpy(entry.bytes, key.data(), key.size());
  } else {
    char* heap = static_cast<char*>(std::malloc(key.size()));
    if (heap == nullptr) std::abort();
    std::memcpy(heap, key.data(), key.size());
    std::memcpy(entry.bytes, &heap, sizeof heap);
    key_bytes_ += malloc_usable_size(heap) + kMallocOverhead;
  }
  exported_[id >> 6] &= ~(uint64_t{1} << (id & 63));
  table_[slot] = id;
  ++live_;
  return id;
}

bool Interner::Less(uint32_t a, uint32_t b) const {
  SKIPTRAIL_DCHECK(live(a) && live(b));
  if (a == b) return false;
  const Entry& x = entries_[a];
  const Entry& y = entries_[b];
  const size_t common = x.size < y.size ? x.size : y.size;
  const int order = std::memcmp(Data(x), Data(y), common);
  return order != 0 ? order < 0 : x.size < y.size;
}

void Interner::Free(uint32_t id) {
  Entry& entry = entries_[id];
  const size_t mask = table_.size() - 1;
  size_t hole = SlotOf(entry.hash);
  while (table_[hole] != id) hole = (hole + 1) & mask;
  // Backward-shift deletion: move later members of the probe run into the hole when
  // their home slot does not lie cyclically in (hole, slot].
  for (size_t slot = (hole + 1) & mask; table_[slot] != kNoId; slot = (slot + 1) & mask) {
    const size_t home = SlotOf(entries_[table_[slot]].hash);
    const bool home_in_range = hole <= slot ? (hole < home && home <= slot) : (hole < home || home <= slot);
    if (!home_in_range) {
      table_[hole] = table_[slot];
      hole = slot;
    }
  }
  table_[hole] = kNoId;
  if (!IsInline(entry)) {
    char* heap = HeapBytes(entry);
    key_bytes_ -= malloc_usable_size(heap) + kMallocOverhead;
    std::free(heap);
  }
  entry.size = kFreeSize;
  exported_[id >> 6] &= ~(uint64_t{1} << (id & 63));
  free_ids_.push_back(id);
  --live_;
  if (freed_log_.size() < kMaxFreedLog) {
    freed_log_.push_back(id);
  } else {
    freed_log_overflowed_ = true;
  }
}

void Interner::Grow() {
  std::vector<uint32_t> table(table_.size() * 2, kNoId);
  table_.swap(table);
  const size_t mask = table_.size() - 1;
  for (uint32_t id : table) {
    if (id == kNoId) continue;
    size_t slot = SlotOf(entries_[id].hash);
    while (table_[slot] != kNoId) slot = (slot + 1) & mask;
    table_[slot] = id;
  }
}

size_t Interner::memory_bytes() const {
  return key_bytes_ + table_.capacity() * sizeof(uint32_t) + entries_.capacity() * sizeof(Entry) +
         (free_ids_.capacity() + freed_log_.capacity()) * sizeof(uint32_t) + exported_.capacity() * sizeof(uint64_t);
}

void Interner::Clear() {
  for (const Entry& entry : entries_) {
    if (entry.size != kFreeSize && !IsInline(entry)) std::free(HeapBytes(entry));
  }
  entries_.clear();
  entries_.shrink_to_fit();
  free_ids_.clear();
  free_ids_.shrink_to_fit();
  exported_.clear();
  exported_.shrink_to_fit();
  table_.assign(kInitialSlots, kNoId);
  table_.shrink_to_fit();
  live_ = 0;
  key_bytes_ = 0;
  std::vector<uint32_t>().swap(freed_log_);
  freed_log_overflowed_ = true;
}

bool Interner::Validate() const {
  size_t found = 0;
  for (size_t slot = 0; slot < table_.size(); ++slot) {
    const uint32_t id = table_[slot];
    if (id == kNoId) continue;
    if (!live(id)) return false;
    if (Find(View(id)) != id) return false;
    ++found;
  }
  return found == live_ && live_ + free_ids_.size() == entries_.size();
}

}  // namespace skiptrail
