#include "ranked-index.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "ensure-index.h"

#if defined(__SSE2__) && !defined(SKIPTRAIL_NO_SIMD)
#define SKIPTRAIL_RANKED_SSE2 1
#include <emmintrin.h>
#endif

namespace skiptrail {

namespace {
constexpr uint32_t kFirstSmallCapacity = 2;
constexpr size_t kSmallEntryBytes = sizeof(int64_t) + sizeof(uint32_t);
constexpr size_t kMallocOverhead = sizeof(size_t);

// Small arrays come from a NodePool, one size class per capacity step: capacities
// double from kFirstSmallCapacity, clamped to the index's largest small list.
int SmallClass(uint32_t capacity) { return capacity <= 2 ? 0 : 31 - __builtin_clz(capacity - 1); }
size_t SmallBytes(uint32_t capacity) { return (capacity * kSmallEntryBytes + 7) & ~size_t{7}; }
}  // namespace

RankedIndex::RankedIndex(Interner* owners, Interner* members, uint32_t cap, bool track_activity,
                         uint32_t small_max)
    : owners_(owners),
      members_(members),
      cap_(cap),
      small_max_(std::min(small_max, kSmallMaxLimit)),
      small_limit_(std::max(1u, std::min(cap, small_max_))),
      track_activity_(track_activity),
      less_(LowestFirst{members}),
      node_context_(LowestFirst{members}) {}

RankedIndex::~RankedIndex() { Clear(); }

bool RankedIndex::Record(uint32_t owner, uint32_t member, int64_t ts, int64_t expired_before, LatestView* latest) {
  if (ts < expired_before) return false;
  EnsureIndex(states_, owner);
  OwnerState& state = states_[owner];
  const bool had_entries = state.size > 0;
  const SmallEntry latest_before = had_entries ? Highest(state) : SmallEntry{0, Interner::kNoId};

  BigList::Node* kept_node = nullptr;
  int kept_index = -1;
  if (Big(state)) {
    kept_node = big_nodes_.Find(PackPair(owner, member));
  } else {
    kept_index = FindSmall(state, member);
  }
  if (kept_node != nullptr) {
    if (ts <= kept_node->key.ts) return false;
    Big(state)->Update(kept_node, NodeKey{ts, owner, member});
  } else if (kept_index >= 0) {
    if (ts <= Times(state)[kept_index]) return false;
    RaiseSmall(state, kept_index, ts);
  } else {
    // Expired entries rank below every live one: trim them before judging room.
    while (state.size > 0 && Lowest(state).ts < expired_before) RemoveLowest(owner, state);
    if (state.size >= cap_) {
      const SmallEntry lowest = Lowest(state);
      if (!less_(lowest.ts, lowest.member, ts, member)) return false;  // would not make the top
      // The new entry takes the lowest one's place (and, in a skiplist, its node): one
      // shift of the array, no count or owner bookkeeping.
      ReplaceLowest(owner, state, ts, member);
      members_->Ref(member);
      members_->Unref(lowest.member);
    } else {
      if (Big(state) == nullptr && state.size >= small_max_) ConvertToBig(owner, state);
      if (Big(state)) {
        big_nodes_.Insert(Big(state)->Insert(NodeKey{ts, owner, member}));
      } else {
        InsertSmall(state, ts, member);
      }
      ++state.size;
      ++entry_count_;
      owners_->Ref(owner);
      members_->Ref(member);
      if (state.size == 1) {
        ++owner_count_;
        if (track_activity_ && !state.queued) Queue(owner, state, ts);
      }
    }
  }

  const SmallEntry latest_now = Highest(state);
  if (had_entries && latest_now.ts == latest_before.ts && latest_now.member == latest_before.member) return false;
  *latest = LatestView{latest_now.ts, latest_now.member};
  return true;
}

uint32_t RankedIndex::Query(uint32_t owner, int64_t from, int64_t to, uint32_t limit, uint32_t* members,
                            double* times) const {
  if (owner >= states_.size() || from > to) return 0;
  const OwnerState& state = states_[owner];
  uint32_t count = 0;
  if (Big(state)) {
    // Start at the highest-ranked entry with ts <= to: just before the first with ts > to.
    const BigList::Node* node = Big(state)->Last();
    if (node != nullptr && node->key.ts > to) {
      const BigList::Node* newer = Big(state)->LowerBound(NodeKey{to + 1, owner, Interner::kNoId});
      node = newer != nullptr ? newer->prev() : Big(state)->Last();
    }
    for (; node != nullptr && count < limit && node->key.ts >= from; node = node->prev()) {
      members[count] = node->key.member;
      times[count] = static_cast<double>(node->key.ts);
      ++count;
    }
  } else {
    const int64_t* entry_times = Times(state);
    const uint32_t* entry_members = Members(state);
    int index = static_cast<int>(state.size) - 1;
    while (index >= 0 && entry_times[index] > to) --index;
    for (; index >= 0 && count < limit && entry_times[index] >= from; --index) {
      members[count] = entry_members[index];
      times[count] = static_cast<double>(entry_times[index]);
      ++count;
    }
  }
  return count;
}

int RankedIndex::FindSmall(const OwnerState& state, uint32_t member) const {
  SKIPTRAIL_DCHECK(Big(state) == nullptr);
  // Newest entries are the likeliest to be seen again: scan from the end. With SSE2,
  // eight ids a step in two vector compares, then the rest one by one.
  const uint32_t* entry_members = Members(state);
  int index = static_cast<int>(state.size);
#if defined(SKIPTRAIL_RANKED_SSE2)
  const __m128i wanted = _mm_set1_epi32(static_cast<int>(member));
  while (index >= 8) {
    index -= 8;
    const __m128i low = _mm_loadu_si128(reinterpret_cast<const __m128i*>(entry_members + index));
    const __m128i high = _mm_loadu_si128(reinterpret_cast<const __m128i*>(entry_members + index + 4));
    const int mask = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(low, wanted))) |
                     (_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(high, wanted))) << 4);
    // Members are distinct: at most one bit is set.
    if (mask != 0) return index + __builtin_ctz(static_cast<unsigned>(mask));
  }
#endif
  while (index-- > 0) {
    if (entry_members[index] == member) return index;
  }
  return -1;
}

void RankedIndex::RaiseSmall(OwnerState& state, int index, int64_t ts) {
  SKIPTRAIL_DCHECK(Big(state) == nullptr && index >= 0 && static_cast<uint32_t>(index) < state.size && ts > Times(state)[index]);
  int64_t* entry_times = Times(state);
  uint32_t* entry_members = Members(state);
  const uint32_t member = entry_members[index];
  int slot = index;
  while (slot + 1 < static_cast<int>(state.size) &&
         less_(entry_times[slot + 1], entry_members[slot + 1], ts, member)) {
    entry_times[slot] = entry_times[slot + 1];
    entry_members[slot] = entry_members[slot + 1];
    ++slot;
  }
  entry_times[slot] = ts;
  entry_members[slot] = member;
}

// REQUIRES: the member is not in the list; the caller counts the entry.
void RankedIndex::InsertSmall(OwnerState& state, int64_t ts, uint32_t member) {
  SKIPTRAIL_DCHECK(FindSmall(state, member) < 0);
  if (state.size == state.small_capacity) {
    ResizeSmall(state, std::min(state.small_capacity == 0 ? kFirstSmallCapacity : 2 * state.small_capacity,
                                small_limit_));
  }
  int64_t* entry_times = Times(state);
  uint32_t* entry_members = Members(state);
  const uint32_t slot = SmallPosition(state, 0, ts, member);
  const uint32_t after = state.size - slot;
  if (after > 0) {
    std::memmove(entry_times + slot + 1, entry_times + slot, after * sizeof(int64_t));
    std::memmove(entry_members + slot + 1, entry_members + slot, after * sizeof(uint32_t));
  }
  entry_times[slot] = ts;
  entry_members[slot] = member;
}

uint32_t RankedIndex::SmallBisect(const OwnerState& state, uint32_t from, int64_t ts, uint32_t member) const {
  const int64_t* entry_times = Times(state);
  const uint32_t* entry_members = Members(state);
  uint32_t low = from, high = state.size;
  while (low < high) {
    const uint32_t mid = (low + high) / 2;
    if (less_(ts, member, entry_times[mid], entry_members[mid])) {
      high = mid;
    } else {
      low = mid + 1;
    }
  }
  return low;
}

void RankedIndex::ReplaceLowest(uint32_t owner, OwnerState& state, int64_t ts, uint32_t member) {
  SKIPTRAIL_DCHECK(state.size > 0);
  if (Big(state)) {
    BigList::Node* node = Big(state)->First();
    big_nodes_.Erase(node);
    Big(state)->Update(node, NodeKey{ts, owner, member});
    big_nodes_.Insert(node);
    return;
  }
  SKIPTRAIL_DCHECK(FindSmall(state, member) < 0);
  // Entries [1, slot) move down one; the new entry lands just below the first entry
  // that outranks it.
  int64_t* entry_times = Times(state);
  uint32_t* entry_members = Members(state);
  const uint32_t slot = SmallPosition(state, 1, ts, member);
  std::memmove(entry_times, entry_times + 1, (slot - 1) * sizeof(int64_t));
  std::memmove(entry_members, entry_members + 1, (slot - 1) * sizeof(uint32_t));
  entry_times[slot - 1] = ts;
  entry_members[slot - 1] = member;
}

// Removes entry 0; the caller counts the entry.
void RankedIndex::RemoveSmallFirst(OwnerState& state) {
  SKIPTRAIL_DCHECK(Big(state) == nullptr && state.size > 0);
  const uint32_t rest = state.size - 1;
  std::memmove(Times(state), Times(state) + 1, rest * sizeof(int64_t));
  std::memmove(Members(state), Members(state) + 1, rest * sizeof(uint32_t));
}

void RankedIndex::ResizeSmall(OwnerState& state, uint32_t capacity) {
  SKIPTRAIL_DCHECK(capacity == 0 || capacity >= state.size);
  char* old = Small(state);
  char* memory = nullptr;
  if (capacity > 0) {
    memory = static_cast<char*>(small_pool_.Allocate(SmallClass(capacity), SmallBytes(capacity)));
    if (old != nullptr) {
      std::memcpy(memory, old, state.size * sizeof(int64_t));
      std::memcpy(memory + capacity * sizeof(int64_t), old + state.small_capacity * sizeof(int64_t),
                  state.size * sizeof(uint32_t));
    }
  }
  if (old != nullptr) small_pool_.Free(SmallClass(state.small_capacity), old);
  state.list = memory;
  state.small_capacity = static_cast<uint16_t>(capacity);
}

void RankedIndex::ConvertToBig(uint32_t owner, OwnerState& state) {
  SKIPTRAIL_DCHECK(Big(state) == nullptr);
  std::unique_ptr<BigList> big = std::make_unique<BigList>(&node_context_);
  const int64_t* entry_times = Times(state);
  const uint32_t* entry_members = Members(state);
  for (uint32_t index = 0; index < state.size; ++index) {
    big_nodes_.Insert(big->Insert(NodeKey{entry_times[index], owner, entry_members[index]}));
  }
  ResizeSmall(state, 0);
  state.list = big.release();
  state.small_capacity = kBigList;
  ++big_lists_;
}

RankedIndex::SmallEntry RankedIndex::Lowest(const OwnerState& state) const {
  SKIPTRAIL_DCHECK(state.size > 0);
  if (Big(state)) {
    const BigList::Node* node = Big(state)->First();
    return SmallEntry{node->key.ts, node->key.member};
  }
  return SmallEntry{Times(state)[0], Members(state)[0]};
}

RankedIndex::SmallEntry RankedIndex::Highest(const OwnerState& state) const {
  SKIPTRAIL_DCHECK(state.size > 0);
  if (Big(state)) {
    const BigList::Node* node = Big(state)->Last();
    return SmallEntry{node->key.ts, node->key.member};
  }
  return SmallEntry{Times(state)[state.size - 1], Members(state)[state.size - 1]};
}

void RankedIndex::RemoveLowest(uint32_t owner, OwnerState& state) {
  uint32_t member;
  if (Big(state)) {
    BigList::Node* node = Big(state)->First();
    member = node->key.member;
    big_nodes_.Erase(node);
    Big(state)->Erase(node);
  } else {
    member = Members(state)[0];
    RemoveSmallFirst(state);
  }
  EntryRemoved(owner, state, member);
}


void RankedIndex::EntryRemoved(uint32_t owner, OwnerState& state, uint32_t member) {
  --state.size;
  --entry_count_;
  if (state.size == 0) {
    OwnerEmptied(state);
  } else if (Big(state) == nullptr && state.small_capacity > 2 * kFirstSmallCapacity && state.size * 4 <= state.small_capacity) {
    // One step down: the power of two below the capacity (which may be clamped).
    ResizeSmall(state, uint32_t{1} << SmallClass(state.small_capacity));
  }
  members_->Unref(member);
  owners_->Unref(owner);  // may free the owner id: `state` must not be used after
}

void RankedIndex::OwnerEmptied(OwnerState& state) {
  --owner_count_;
  if (BigList* big = Big(state)) {
    delete big;
    state.list = nullptr;
    state.small_capacity = 0;
    --big_lists_;
  }
  ResizeSmall(state, 0);
}

uint32_t RankedIndex::TakeLowestRanked() {
  SKIPTRAIL_DCHECK(track_activity_ && owner_count_ > 0);
  // Settle the queue's head: items behind their owner's latest time move up to it,
  // until the oldest items are exact. Collect every exact item of that oldest time.
  ties_.clear();
  int64_t tie_ts = 0;
  while (const OwnerTime* oldest = expiry_.Oldest()) {
    if (!ties_.empty() && oldest->ts != tie_ts) break;
    const OwnerTime item = *oldest;
    expiry_.PopOldest();
    OwnerState& state = states_[item.owner];
    state.queued = false;
    if (state.size == 0) continue;  // dropped since it was queued
    const int64_t latest = Highest(state).ts;
    if (latest != item.ts) {
      Queue(item.owner, state, latest);
      continue;
    }
    tie_ts = item.ts;
    ties_.push_back(item.owner);
  }
  SKIPTRAIL_DCHECK(!ties_.empty());
  // On equal times the byte-wise larger key ranks lower; the others keep their items.
  uint32_t lowest = ties_[0];
  for (size_t i = 1; i < ties_.size(); ++i) {
    if (owners_->Less(lowest, ties_[i])) lowest = ties_[i];
  }
  for (const uint32_t owner : ties_) {
    if (owner != lowest) Queue(owner, states_[owner], tie_ts);
  }
  return lowest;
}

void RankedIndex::DropOwner(uint32_t owner) {
  owners_->Ref(owner);  // keeps the owner's state valid while its last entries go
  while (states_[owner].size > 0) RemoveLowest(owner, states_[owner]);
  owners_->Unref(owner);
}

size_t RankedIndex::memory_bytes() const {
  return small_pool_.allocated_bytes() + node_context_.allocated_bytes() + expiry_.memory_bytes() +
         ties_.capacity() * sizeof(uint32_t) + big_nodes_.memory_bytes() + states_.capacity() * sizeof(OwnerState) +
         big_lists_ * (sizeof(BigList) + kMallocOverhead);
}

void RankedIndex::Clear() {
  for (OwnerState& state : states_) {
    if (BigList* big = Big(state)) {
      big->Abandon();  // its nodes go with the pool below
      delete big;
    }
  }
  states_.clear();
  states_.shrink_to_fit();
  expiry_.Clear();
  big_nodes_.Clear();
  node_context_.pool().Reset();
  small_pool_.Reset();
  owner_count_ = entry_count_ = 0;
  big_lists_ = 0;
}

bool RankedIndex::Validate(std::string* error) const {
  if (!expiry_.Validate()) return *error = "owner expiry queue out of order", false;
  // With track_activity: one item per queued owner, no later than its latest time.
  std::vector<bool> item_seen(states_.size());
  bool items_ok = true;
  expiry_.ForEach([&](const OwnerTime& item) {
    if (item.owner >= states_.size() || item_seen[item.owner] || !states_[item.owner].queued) {
      items_ok = false;
      return;
    }
    item_seen[item.owner] = true;
    const OwnerState& state = states_[item.owner];
    if (state.size > 0 && item.ts > Highest(state).ts) items_ok = false;
  });
  if (!items_ok) return *error = "owner expiry queue disagrees with the owners", false;
  uint64_t entries = 0, owners = 0, big_entries = 0;
  for (uint32_t owner = 0; owner < states_.size(); ++owner) {
    const OwnerState& state = states_[owner];
    if (state.size > cap_) return *error = "a list holds more than its cap", false;
    if (state.size == 0) {
      if (state.list != nullptr) return *error = "an empty list holds memory", false;
      continue;
    }
    ++owners;
    entries += state.size;
    if (!owners_->live(owner)) return *error = "entries on a freed owner id", false;
    if (track_activity_ && !item_seen[owner]) return *error = "an owner with entries is not queued", false;
    if (Big(state)) {
      if (!Big(state)->Validate()) return *error = "big list out of order", false;
      if (Big(state)->size() != state.size) return *error = "big list size wrong", false;
      for (const BigList::Node* node = Big(state)->First(); node != nullptr; node = node->next()) {
        ++big_entries;
        if (node->key.owner != owner || !members_->live(node->key.member)) return *error = "big entry ids wrong", false;
        if (big_nodes_.Find(PackPair(owner, node->key.member)) != node) return *error = "big entry not in map", false;
      }
    } else {
      if (state.size > small_max_ || state.size > state.small_capacity) return *error = "small list size wrong", false;
      const int64_t* entry_times = Times(state);
      const uint32_t* entry_members = Members(state);
      for (uint32_t index = 0; index < state.size; ++index) {
        if (!members_->live(entry_members[index])) return *error = "small entry on a freed member id", false;
        if (index > 0 && !less_(entry_times[index - 1], entry_members[index - 1], entry_times[index], entry_members[index])) {
          return *error = "small list out of order", false;
        }
      }
    }
  }
  if (entries != entry_count_ || owners != owner_count_ || big_entries != big_nodes_.size()) {
    return *error = "list counts disagree", false;
  }
  return true;
}

}  // namespace skiptrail
