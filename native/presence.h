// Presence (Q3, contract section 4b): which users are on which page now.
//
// A user is present on the page of their latest view while its time is at least
// the presence cutoff (now - presenceWindow). Kept incrementally, as spreadlogd's
// `online` module did, but built so that a user moving between pages costs a few
// array writes instead of two skiplist updates:
//
//   - per user: the page they are on and their slot in its arrival array;
//   - per page: an arrival array sorted by time, the exact count of its present
//     users, and where its first present arrival is. A user who leaves is not erased
//     but tombstoned in place (found through their slot, so no search); tombstones at
//     the end are dropped at once, and the array is compacted when they pass half the
//     present users. The present users are kept in rank order among themselves, so a
//     query reads the array backwards, skipping tombstones, and never looks anything up;
//   - for expiry: one item (ts, page) per page with present users in an ExpiryQueue,
//     ts at most the page's oldest present arrival. Since a page's array is in time
//     order, expiry pops the pages whose item is before the cutoff, drops their
//     arrivals from the front while they are, and queues each page again at its new
//     oldest arrival. So a move costs no queue work at all (the page is already
//     queued), and the queue holds about one item per page, not one per move. An
//     arrival older than its page's item (a late event on a quiet page) queues the
//     page again at that time; the item it replaces is recognised as stale when
//     popped (its time is not the page's queued_ts) and skipped.
//
// Presence holds no id references: a present (user, page, ts) is always the user's
// highest-ranked entry in the engine's user index, which holds them. The engine
// calls Remove() before a user leaves that index.
//
// Thread safety: none.
#ifndef SKIPTRAIL_PRESENCE_H_
#define SKIPTRAIL_PRESENCE_H_

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "expiry-queue.h"
#include "interner.h"

namespace skiptrail {

class Presence {
  // A page's item in the expiry queue.
  struct PageTime {
    int64_t ts;
    uint32_t page;
  };

 public:
  // A page's array is compacted once it holds more than 1.5 * present + tombstone_slack
  // arrivals; queue_slack is the expiry queue's (ExpiryQueue's slack).
  static constexpr uint32_t kTombstoneSlack = 2;
  static constexpr uint32_t kQueueSlack = 64;

  // `users` orders equal-time arrivals (contract section 2: byte-wise smaller first).
  explicit Presence(const Interner* users, uint32_t tombstone_slack = kTombstoneSlack,
                    uint32_t queue_slack = kQueueSlack);

  // Makes (page, ts) the user's presence, replacing any other; a view older than
  // `cutoff` only removes the old one.
  void Move(uint32_t user, uint32_t page, int64_t ts, int64_t cutoff);
  // Removes the user's presence, if any.
  void Remove(uint32_t user);
  // Removes every presence older than `cutoff`. Inline: on most events nothing is due.
  void ExpireBefore(int64_t cutoff) {
    const PageTime* oldest = queue_.Oldest();
    if (oldest != nullptr && oldest->ts < cutoff) ExpireQueued(cutoff);
  }

  // Writes up to k present users of `page`, in rank order, to users[i]/times[i];
  // returns how many.
  uint32_t OnlineUsers(uint32_t page, uint32_t k, uint32_t* users, double* times) const;
  uint64_t OnlineCount(uint32_t page) const { return page < pages_.size() ? pages_[page].present : 0; }
  uint64_t OnlineCount() const { return online_; }
  // The user's presence: sets *page and *ts and returns true, or returns false.
  bool Find(uint32_t user, uint32_t* page, int64_t* ts) const;

  // Prefetch hints for batches, in three stages for one event (each once the
  // previous stage's lines have arrived); any id is safe: the user's and the page's
  // states, then the old page's state and the new page's last arrival, then the
  // arrival a move will tombstone.
  void PrefetchStates(uint32_t user, uint32_t page) const {
    if (user < users_.size()) __builtin_prefetch(&users_[user]);
    if (page < pages_.size()) __builtin_prefetch(&pages_[page]);
  }
  void PrefetchMove(uint32_t user, uint32_t page) const {
    if (user < users_.size() && users_[user].page < pages_.size()) __builtin_prefetch(&pages_[users_[user].page]);
    if (page < pages_.size() && !pages_[page].arrivals.empty()) __builtin_prefetch(&pages_[page].arrivals.back());
  }
  void PrefetchDeparture(uint32_t user) const {
    if (user >= users_.size() || users_[user].page >= pages_.size()) return;
    const std::vector<Arrival>& arrivals = pages_[users_[user].page].arrivals;
    if (users_[user].slot < arrivals.size()) __builtin_prefetch(&arrivals[users_[user].slot]);
  }

  size_t memory_bytes() const;
  void Clear();
  bool Validate(std::string* error) const;

 private:
  // A user's arrival on a page. In a page's array, user == kNoId marks a tombstone
  // (its ts stays, so the array stays sorted by ts).
#pragma pack(push, 4)
  struct Arrival {  // 12 bytes
    int64_t ts;
    uint32_t user;
  };
#pragma pack(pop)
  struct UserState {
    uint32_t page = Interner::kNoId;  // kNoId: not present
    uint32_t slot = 0;                // index in the page's arrivals
  };
  static constexpr int64_t kNotQueued = std::numeric_limits<int64_t>::max();
  struct PageState {
    std::vector<Arrival> arrivals;  // by ts; present users in rank order, lowest first
    uint32_t present = 0;           // non-tombstone arrivals
    uint32_t first = 0;             // arrivals[0, first) are tombstones; with present > 0, arrivals[first] is not
    int64_t queued_ts = kNotQueued;  // the time of the page's current item in queue_
  };

  // ExpireBefore's work, once some page's item is before the cutoff.
  void ExpireQueued(int64_t cutoff);
  // Places `arrival` in the page's array and returns its slot.
  uint32_t Insert(PageState& page, const Arrival& arrival);
  // Drops tombstones, renumbering the slots of the users that move.
  void Compact(PageState& page);
  // Gives the page an item at ts, unless its item is already at ts or earlier.
  void Queue(uint32_t page, PageState& state, int64_t ts) {
    if (state.queued_ts <= ts) return;
    queue_.Push(PageTime{ts, page});
    state.queued_ts = ts;
  }

  const Interner* user_keys_;
  size_t tombstone_slack_;
  std::vector<UserState> users_;  // by user id
  std::vector<PageState> pages_;  // by page id
  uint64_t online_ = 0;
  size_t arrival_capacity_ = 0;  // sum of the pages' array capacities
  ExpiryQueue<PageTime> queue_;  // one current item per page with present users
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_PRESENCE_H_
