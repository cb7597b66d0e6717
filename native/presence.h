// Presence (Q3, SPEC section 4b): which users are on which page now.
//
// A user is present on the page of their latest view while its time is at least
// the presence cutoff (now - presenceWindow). Kept incrementally, as spreadlogd's
// `online` module did: per page a skiplist of present users, whose size is the page's
// exact count, and one skiplist of all present users by time, popped from the old end
// as the cutoff moves. No query scans users or pages. Both lists keep the newest at
// the tail (where moves land) and are doubly linked; a page's users are read in rank
// order by walking its list backwards from the tail.
//
// Presence takes no id references: a present user's latest view is an entry of the
// UserIndex, which holds both ids.
//
// Thread safety: none.
#ifndef SKIPTRAIL_PRESENCE_H_
#define SKIPTRAIL_PRESENCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "interner.h"
#include "skiplist.h"

namespace skiptrail {

class Presence {
 public:
  explicit Presence(const Interner* users);

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
  uint64_t OnlineCount(uint32_t page) const { return page < pages_.size() ? pages_[page].size() : 0; }
  uint64_t OnlineCount() const { return by_time_.size(); }

  size_t memory_bytes() const;
  void Clear();
  bool Validate(std::string* error) const;

 private:
  struct Key {
    int64_t ts;
    uint32_t user;
  };
  // Rank order reversed (SPEC section 2): oldest first, on equal times the
  // byte-wise largest user first.
  struct UsersLowestFirst {
    const Interner* users = nullptr;
    bool operator()(const Key& a, const Key& b) const {
      if (a.ts != b.ts) return a.ts < b.ts;
      return users->Less(b.user, a.user);
    }
  };
  struct OldestFirst {
    bool operator()(const Key& a, const Key& b) const { return a.ts != b.ts ? a.ts < b.ts : a.user < b.user; }
  };
  using PageUsers = SkipList<Key, UsersLowestFirst, Links::kBoth>;
  using ByTime = SkipList<Key, OldestFirst, Links::kBoth>;
  struct UserState {
    PageUsers::Node* on_page = nullptr;  // set iff present
    ByTime::Node* by_time = nullptr;     // set iff present
    uint32_t page = Interner::kNoId;
  };

  PageUsers::Context page_context_;
  ByTime::Context time_context_;
  std::vector<PageUsers> pages_;  // by page id
  std::vector<UserState> users_;  // by user id
  ByTime by_time_;
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_PRESENCE_H_
