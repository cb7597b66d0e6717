// ActivityList: pages or users ordered by their latest activity, lowest-ranked first,
// so that expiry and cap eviction pop from the front in O(1).
//
// "Lowest-ranked" follows contract section 2 turned around: the smallest time first, and
// on equal times the byte-wise LARGEST key first.
#ifndef SKIPTRAIL_ACTIVITY_LIST_H_
#define SKIPTRAIL_ACTIVITY_LIST_H_

#include <cstdint>

#include "interner.h"
#include "skiplist.h"

namespace skiptrail {

struct ActivityKey {
  int64_t ts;   // the latest activity of `id`
  uint32_t id;  // a page id or a user id, by list
};

struct LowestRankedFirst {
  const Interner* keys = nullptr;
  bool operator()(const ActivityKey& a, const ActivityKey& b) const {
    if (a.ts != b.ts) return a.ts < b.ts;
    return keys->Less(b.id, a.id);
  }
};

// Updates move a page or user to the newest end: doubly linked, searched from the tail.
using ActivityList = SkipList<ActivityKey, LowestRankedFirst, Links::kBoth>;

}  // namespace skiptrail

#endif  // SKIPTRAIL_ACTIVITY_LIST_H_
