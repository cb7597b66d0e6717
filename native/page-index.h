// PageIndex (Q1): for every page, its top `users_per_page` distinct users by rank
// (SPEC sections 2-3), each with the time of their latest view of the page.
//
// Per page: a skiplist of entries in rank order. Across pages: a PairMap from
// (page, user) to the entry, and an ActivityList of pages by their latest entry, for
// pageWindow expiry and maxPages eviction.
//
// Every entry holds one reference on its page id and one on its user id.
//
// Thread safety: none.
#ifndef SKIPTRAIL_PAGE_INDEX_H_
#define SKIPTRAIL_PAGE_INDEX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "activity-list.h"
#include "interner.h"
#include "pair-map.h"
#include "skiplist.h"

namespace skiptrail {

class PageIndex {
 public:
  PageIndex(Interner* pages, Interner* users, uint32_t users_per_page);

  // Records a view of `page` by `user` at `ts`. A kept user's time only rises; a new
  // user enters while the page has room or when it ranks above the lowest kept entry,
  // which it then replaces. Entries with ts < `expired_before` are dropped or skipped.
  void Record(uint32_t page, uint32_t user, int64_t ts, int64_t expired_before);

  // Writes up to k entries with ts >= `expired_before`, in rank order, to
  // users[i]/times[i]; returns how many. REQUIRES: page is a live id.
  uint32_t LastUsers(uint32_t page, uint32_t k, int64_t expired_before, uint32_t* users, double* times) const;

  // Drops every page whose latest entry is older than `cutoff`.
  void ExpireBefore(int64_t cutoff);
  // Drops lowest-ranked pages until at most `max_pages` remain; returns how many.
  uint64_t EvictOver(uint64_t max_pages);

  uint64_t pages() const { return by_activity_.size(); }
  uint64_t entries() const { return by_pair_.size(); }
  size_t memory_bytes() const;
  void Clear();
  bool Validate(std::string* error) const;

 private:
  struct Entry {
    int64_t ts;
    uint32_t page;
    uint32_t user;
  };
  struct UsersByRank {
    const Interner* users = nullptr;
    bool operator()(const Entry& a, const Entry& b) const {
      if (a.ts != b.ts) return a.ts > b.ts;
      return users->Less(a.user, b.user);
    }
  };
  using UserList = SkipList<Entry, UsersByRank>;
  struct PairOfEntry {
    uint64_t operator()(const UserList::Node* node) const { return PackPair(node->key.page, node->key.user); }
  };
  struct PageState {
    explicit PageState(UserList::Context* context) : users(context) {}
    UserList users;
    ActivityList::Node* activity = nullptr;  // set iff users is not empty
  };

  void Remove(PageState& state, UserList::Node* node);
  void DropPage(uint32_t page);

  Interner* pages_;
  Interner* users_;
  uint32_t users_per_page_;
  UserList::Context entry_context_;
  ActivityList::Context activity_context_;
  std::vector<PageState> states_;  // by page id
  ActivityList by_activity_;
  PairMap<UserList::Node, PairOfEntry> by_pair_;
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_PAGE_INDEX_H_
