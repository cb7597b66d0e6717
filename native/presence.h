// Presence (Q3, SPEC section 4b): which users are on which page now.
//
// A user is present on the page of their latest view while its time is at least
// the presence cutoff (now - presenceWindow). Kept incrementally, as spreadlogd's
// `online` module did: per page the ranked list of its present users (a RankedIndex
// without a cap: a sorted array while small, a skiplist beyond), whose size is the
// page's exact count; and one skiplist of all present users by time, popped from the
// old end as the cutoff moves. No query scans users or pages.
//
// Each per-page entry holds a reference on its page and user ids, like any
// RankedIndex entry.
//
// Thread safety: none.
#ifndef SKIPTRAIL_PRESENCE_H_
#define SKIPTRAIL_PRESENCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "interner.h"
#include "ranked-index.h"
#include "skiplist.h"

namespace skiptrail {

class Presence {
 public:
  Presence(Interner* users, Interner* pages);

  // Makes (page, ts) the user's presence, replacing any other; a view older than
  // `cutoff` only removes the old one.
  void Move(uint32_t user, uint32_t page, int64_t ts, int64_t cutoff);
  // Removes the user's presence, if any.
  void Remove(uint32_t user);
  // Removes every presence older than `cutoff`.
  void ExpireBefore(int64_t cutoff);

  // Writes up to k present users of `page`, in rank order, to users[i]/times[i];
  // returns how many.
  uint32_t OnlineUsers(uint32_t page, uint32_t k, uint32_t* users, double* times) const;
  uint64_t OnlineCount(uint32_t page) const { return by_page_.Size(page); }
  uint64_t OnlineCount() const { return by_time_.size(); }
  // Entries holding id references (one per present user).
  uint64_t entries() const { return by_page_.entries(); }

  size_t memory_bytes() const;
  void Clear();
  bool Validate(std::string* error) const;

 private:
  struct Key {
    int64_t ts;
    uint32_t user;
  };
  struct OldestFirst {
    bool operator()(const Key& a, const Key& b) const { return a.ts != b.ts ? a.ts < b.ts : a.user < b.user; }
  };
  using ByTime = SkipList<Key, OldestFirst, Links::kBoth>;
  struct UserState {
    ByTime::Node* by_time = nullptr;  // set iff present
    uint32_t page = Interner::kNoId;
  };

  const Interner* pages_;
  RankedIndex by_page_;  // owner = page, member = user
  ByTime::Context time_context_;
  std::vector<UserState> users_;  // by user id
  ByTime by_time_;
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_PRESENCE_H_
