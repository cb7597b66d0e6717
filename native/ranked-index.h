// RankedIndex: for every owner, its top `cap` distinct members by rank, each with
// the time of the owner's latest event with that member (max semantics). The engine
// holds three:
//   - the page index (Q1, contract section 3): owner = page, member = user;
//   - the user index (Q2, contract section 4): owner = user, member = page;
//   - presence's users per page (Q3): owner = page, member = user, no cap.
// Rank is contract section 2's: larger ts first, on equal ts the byte-wise smaller member.
//
// A list has two encodings, as Redis's sorted sets do (listpack, then skiplist +
// dict): a small list is one block of the index's NodePool (a size class per capacity
// step, no malloc per resize) holding its times, then its members (two parallel
// arrays, 12 bytes an entry: a lookup scans only the 4-byte members), which
// a query reads back to front; past kSmallMax entries it becomes a skiplist whose
// nodes are found through a PairMap keyed by (owner, member). Both keep the
// lowest-ranked entry first, so the newest view lands at the end and the entry to
// drop is at the front.
//
// With `track_activity`, owners are dropped whole by time expiry and cap eviction,
// lowest-ranked first by their latest entry (oldest first, ties: byte-wise larger key
// first). No order is kept per event: each owner with entries has one item (ts, owner)
// in an ExpiryQueue, ts at most its latest time, queued when it gains its first entry.
// A popped item whose owner has a later latest time is queued again at that time. So
// an event costs nothing here, where keeping owners sorted moved a skiplist node on
// every event; an active owner is re-queued about once per window, and the queue holds
// one item per owner. The oldest item is exact once its owner's latest time equals it:
// then no owner is older (every item is at most its owner's latest). Expiry drops such
// owners while they are before the cutoff; eviction collects every exact item of that
// time and drops the tie's byte-wise largest key.
//
// Every entry holds one reference on its owner id and one on its member id.
//
// Thread safety: none.
#ifndef SKIPTRAIL_RANKED_INDEX_H_
#define SKIPTRAIL_RANKED_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dcheck.h"
#include "expiry-queue.h"
#include "interner.h"
#include "pair-map.h"
#include "skiplist.h"

namespace skiptrail {

// An owner's highest-ranked entry.
struct LatestView {
  int64_t ts;
  uint32_t member;
};

class RankedIndex {
 public:
  // Lists longer than this use the skiplist encoding (unless the engine says otherwise:
  // EngineOptions::small_list_max).
  static constexpr uint32_t kSmallMax = 128;

  // The largest small_max honoured (OwnerState::small_capacity is 16 bits).
  static constexpr uint32_t kSmallMaxLimit = uint32_t{1} << 14;

  RankedIndex(Interner* owners, Interner* members, uint32_t cap, bool track_activity,
              uint32_t small_max = kSmallMax);
  ~RankedIndex();
  RankedIndex(const RankedIndex&) = delete;
  RankedIndex& operator=(const RankedIndex&) = delete;

  // Records an event of `owner` with `member` at `ts`: a kept member's time only
  // rises; a new member enters while the list has room, or when it ranks above the
  // lowest entry, which it then replaces. Entries with ts < `expired_before` are
  // skipped, and trimmed from the list first. Returns true when the owner's latest
  // entry changed (or appeared), and then sets *latest.
  bool Record(uint32_t owner, uint32_t member, int64_t ts, int64_t expired_before, LatestView* latest);

  // How many entries the owner's list holds.
  uint32_t Size(uint32_t owner) const { return owner < states_.size() ? states_[owner].size : 0; }

  // Writes, in rank order, up to `limit` entries with from <= ts <= to to
  // members[i]/times[i]; returns how many.
  uint32_t Query(uint32_t owner, int64_t from, int64_t to, uint32_t limit, uint32_t* members, double* times) const;

  // REQUIRES: track_activity. Drops every owner whose latest entry is older than
  // `cutoff`, calling on_drop(owner) before each one goes.
  template <typename OnDrop>
  void ExpireBefore(int64_t cutoff, OnDrop on_drop) {
    SKIPTRAIL_DCHECK(track_activity_);
    while (const OwnerTime* oldest = expiry_.Oldest()) {
      if (oldest->ts >= cutoff) break;
      const uint32_t owner = oldest->owner;
      expiry_.PopOldest();
      OwnerState& state = states_[owner];
      state.queued = false;
      if (state.size == 0) continue;  // dropped since it was queued
      const int64_t latest = Highest(state).ts;
      if (latest >= cutoff) {
        Queue(owner, state, latest);
        continue;
      }
      on_drop(owner);
      DropOwner(owner);
    }
  }
  // REQUIRES: track_activity. Drops lowest-ranked owners until at most `max_owners`
  // remain, calling on_drop(owner) before each one goes; returns how many.
  template <typename OnDrop>
  uint64_t EvictOver(uint64_t max_owners, OnDrop on_drop) {
    SKIPTRAIL_DCHECK(track_activity_);
    uint64_t evicted = 0;
    while (owner_count_ > max_owners) {
      const uint32_t owner = TakeLowestRanked();
      on_drop(owner);
      DropOwner(owner);
      ++evicted;
    }
    return evicted;
  }

  // Prefetch hints for batches: the owner's state, then its small array. Any id is
  // safe (out-of-range ids are ignored).
  void PrefetchState(uint32_t owner) const {
    if (owner < states_.size()) __builtin_prefetch(&states_[owner]);
  }
  void PrefetchEntries(uint32_t owner) const {
    if (owner >= states_.size() || Small(states_[owner]) == nullptr) return;
    const OwnerState& state = states_[owner];
    // A lookup scans the members from the newest; an update then reads the times.
    __builtin_prefetch(Members(state) + state.size - 1);
    __builtin_prefetch(Times(state) + state.size - 1);
  }

  uint64_t owners() const { return owner_count_; }
  uint64_t entries() const { return entry_count_; }
  size_t memory_bytes() const;
  void Clear();
  bool Validate(std::string* error) const;

 private:
  struct SmallEntry {
    int64_t ts;
    uint32_t member;
  };
  struct NodeKey {
    int64_t ts;
    uint32_t owner;
    uint32_t member;
  };
  // contract section 2's rank, reversed: oldest first, on equal ts the byte-wise larger
  // member first.
  struct LowestFirst {
    const Interner* members = nullptr;
    // Interner::kNoId as a member orders before every member of equal ts (a seek bound).
    bool operator()(int64_t ts_a, uint32_t member_a, int64_t ts_b, uint32_t member_b) const {
      if (ts_a != ts_b) return ts_a < ts_b;
      if (member_a == member_b) return false;
      if (member_a == Interner::kNoId) return true;
      if (member_b == Interner::kNoId) return false;
      return members->Less(member_b, member_a);
    }
    bool operator()(const NodeKey& a, const NodeKey& b) const { return (*this)(a.ts, a.member, b.ts, b.member); }
  };
  using BigList = SkipList<NodeKey, LowestFirst, Links::kBoth>;
  struct PairOfNode {
    uint64_t operator()(const BigList::Node* node) const { return PackPair(node->key.owner, node->key.member); }
  };
  struct OwnerState {
    // Small encoding: int64_t times[small_capacity], then uint32_t
    // members[small_capacity]; entries [0, size), lowest first.
    // The small array (a small_pool_ block), or with small_capacity == kBigList the
    // skiplist encoding (an owned BigList), once the list outgrew small_max_.
    void* list = nullptr;
    uint32_t size = 0;
    uint16_t small_capacity = 0;  // at most kSmallMaxLimit, or kBigList
    bool queued = false;          // the owner has its item in expiry_ (track_activity)
  };
  static constexpr uint16_t kBigList = 0xFFFF;
  static BigList* Big(const OwnerState& state) {
    return state.small_capacity == kBigList ? static_cast<BigList*>(state.list) : nullptr;
  }
  static char* Small(const OwnerState& state) {
    return state.small_capacity == kBigList ? nullptr : static_cast<char*>(state.list);
  }
  // An owner's item in expiry_: ts is at most its latest time.
  struct OwnerTime {
    int64_t ts;
    uint32_t owner;
  };
  // REQUIRES: the small encoding.
  static int64_t* Times(const OwnerState& state) { return static_cast<int64_t*>(state.list); }
  static uint32_t* Members(const OwnerState& state) {
    return reinterpret_cast<uint32_t*>(static_cast<char*>(state.list) + sizeof(int64_t) * state.small_capacity);
  }

  // Small encoding helpers. REQUIRES: Big(state) == nullptr.
  int FindSmall(const OwnerState& state, uint32_t member) const;
  void RaiseSmall(OwnerState& state, int index, int64_t ts);
  void InsertSmall(OwnerState& state, int64_t ts, uint32_t member);
  // The first index in [from, size) whose entry the new one orders before (size if
  // none). Usually none (the newest): the last entry is checked before bisecting.
  uint32_t SmallPosition(const OwnerState& state, uint32_t from, int64_t ts, uint32_t member) const {
    const uint32_t last = state.size - 1;
    if (state.size > from && less_(Times(state)[last], Members(state)[last], ts, member)) return state.size;
    return SmallBisect(state, from, ts, member);
  }
  uint32_t SmallBisect(const OwnerState& state, uint32_t from, int64_t ts, uint32_t member) const;
  // Puts (ts, member) in the lowest entry's place, in rank order; the caller moves the
  // member references. REQUIRES: state.size > 0; the member is not in the list and
  // outranks the lowest entry.
  void ReplaceLowest(uint32_t owner, OwnerState& state, int64_t ts, uint32_t member);
  void RemoveSmallFirst(OwnerState& state);
  void ResizeSmall(OwnerState& state, uint32_t capacity);
  void ConvertToBig(uint32_t owner, OwnerState& state);

  // The lowest-ranked entry's time and member. REQUIRES: state.size > 0.
  SmallEntry Lowest(const OwnerState& state) const;
  SmallEntry Highest(const OwnerState& state) const;
  // Removes the lowest-ranked entry; may free the owner id (`state` then dangles).
  void RemoveLowest(uint32_t owner, OwnerState& state);
  // Bookkeeping after an entry left: counts, empty owner, shrinking, references.
  void EntryRemoved(uint32_t owner, OwnerState& state, uint32_t member);
  void DropOwner(uint32_t owner);
  void OwnerEmptied(OwnerState& state);
  // Gives the owner its item. REQUIRES: track_activity, !state.queued.
  void Queue(uint32_t owner, OwnerState& state, int64_t ts) {
    expiry_.Push(OwnerTime{ts, owner});
    state.queued = true;
  }
  // The lowest-ranked owner, whose item it takes out of the queue (the caller drops
  // the owner). REQUIRES: track_activity, owners() > 0.
  uint32_t TakeLowestRanked();

  Interner* owners_;
  Interner* members_;
  uint32_t cap_;
  uint32_t small_max_;  // lists longer than this are skiplists
  uint32_t small_limit_;  // the largest small array's capacity: min(cap, small_max), at least 1
  bool track_activity_;
  LowestFirst less_;
  BigList::Context node_context_;
  NodePool small_pool_;  // the small arrays
  std::vector<OwnerState> states_;  // by owner id
  ExpiryQueue<OwnerTime> expiry_;   // with track_activity: one item per owner with entries
  std::vector<uint32_t> ties_;      // TakeLowestRanked's scratch
  PairMap<BigList::Node, PairOfNode> big_nodes_;
  uint64_t owner_count_ = 0;
  uint64_t entry_count_ = 0;
  size_t big_lists_ = 0;
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_RANKED_INDEX_H_
