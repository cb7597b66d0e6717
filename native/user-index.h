// UserIndex (Q2): for every user, its top `pages_per_user` distinct pages by rank
// (SPEC sections 2 and 4), each with the time of the latest view, and the user's
// latest view of all (the first entry), which presence follows.
//
// Per user: a skiplist of entries in rank order. Across users: a PairMap from
// (user, page) to the entry, and an ActivityList of users by their latest view, for
// userWindow expiry and maxUsers eviction.
//
// Every entry holds one reference on its user id and one on its page id.
//
// Thread safety: none.
#ifndef SKIPTRAIL_USER_INDEX_H_
#define SKIPTRAIL_USER_INDEX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "activity-list.h"
#include "interner.h"
#include "pair-map.h"
#include "skiplist.h"

namespace skiptrail {

// A user's highest-ranked view: the largest time, on equal times the smallest page.
struct LatestView {
  int64_t ts;
  uint32_t page;
};

class UserIndex {
 public:
  UserIndex(Interner* users, Interner* pages, uint32_t pages_per_user);

  // Records a view of `page` by `user` at `ts`, and trims the user's entries older
  // than `expired_before`. REQUIRES: ts >= expired_before. Returns true when the
  // user's latest view changed, and then sets *latest to it.
  bool Record(uint32_t user, uint32_t page, int64_t ts, int64_t expired_before, LatestView* latest);

  // Writes, in rank order, up to `limit` entries with from <= ts <= to to
  // pages[i]/times[i]; returns how many. REQUIRES: user is a live id.
  uint32_t UserPages(uint32_t user, int64_t from, int64_t to, uint32_t limit, uint32_t* pages,
                     double* times) const;

  // Drops every user whose latest view is older than `cutoff`, calling
  // on_drop(user) before each one goes.
  template <typename OnDrop>
  void ExpireBefore(int64_t cutoff, OnDrop on_drop) {
    while (const ActivityList::Node* oldest = by_activity_.First()) {
      if (oldest->key.ts >= cutoff) break;
      const uint32_t user = oldest->key.id;
      on_drop(user);
      DropUser(user);
    }
  }
  // Drops lowest-ranked users until at most `max_users` remain, calling
  // on_drop(user) before each one goes; returns how many.
  template <typename OnDrop>
  uint64_t EvictOver(uint64_t max_users, OnDrop on_drop) {
    uint64_t evicted = 0;
    while (by_activity_.size() > max_users) {
      const uint32_t user = by_activity_.First()->key.id;
      on_drop(user);
      DropUser(user);
      ++evicted;
    }
    return evicted;
  }

  uint64_t users() const { return by_activity_.size(); }
  uint64_t entries() const { return by_pair_.size(); }
  size_t memory_bytes() const;
  void Clear();
  bool Validate(std::string* error) const;
  // REQUIRES: the user has entries.
  LatestView Latest(uint32_t user) const {
    const Entry& first = states_[user].pages.First()->key;
    return LatestView{first.ts, first.page};
  }
  bool HasEntries(uint32_t user) const { return user < states_.size() && !states_[user].pages.empty(); }

 private:
  struct Entry {
    int64_t ts;
    uint32_t user;
    uint32_t page;  // Interner::kNoId orders before every page (a seek bound)
  };
  struct PagesByRank {
    const Interner* pages = nullptr;
    bool operator()(const Entry& a, const Entry& b) const {
      if (a.ts != b.ts) return a.ts > b.ts;
      if (a.page == b.page) return false;
      if (a.page == Interner::kNoId) return true;
      if (b.page == Interner::kNoId) return false;
      return pages->Less(a.page, b.page);
    }
  };
  using PageList = SkipList<Entry, PagesByRank>;
  struct PairOfEntry {
    uint64_t operator()(const PageList::Node* node) const { return PackPair(node->key.user, node->key.page); }
  };
  struct UserState {
    explicit UserState(PageList::Context* context) : pages(context) {}
    PageList pages;
    ActivityList::Node* activity = nullptr;  // set iff pages is not empty
  };

  void Remove(UserState& state, PageList::Node* node);
  void DropUser(uint32_t user);

  Interner* users_;
  Interner* pages_;
  uint32_t pages_per_user_;
  PageList::Context entry_context_;
  ActivityList::Context activity_context_;
  std::vector<UserState> states_;  // by user id
  ActivityList by_activity_;
  PairMap<PageList::Node, PairOfEntry> by_pair_;
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_USER_INDEX_H_
