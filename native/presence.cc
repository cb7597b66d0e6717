#include "presence.h"

#include <algorithm>

#include "ensure-index.h"

namespace skiptrail {

namespace {
constexpr uint32_t kNone = Interner::kNoId;
// A page's array starts with room for this many arrivals, and keeps that room when
// its last user leaves (a quiet page's visitors come and go one at a time).
constexpr size_t kKeptCapacity = 2;
}  // namespace

Presence::Presence(const Interner* users, uint32_t tombstone_slack, uint32_t queue_slack)
    : user_keys_(users), tombstone_slack_(tombstone_slack), queue_(queue_slack) {}

void Presence::Move(uint32_t user, uint32_t page, int64_t ts, int64_t cutoff) {
  Remove(user);
  if (ts < cutoff) return;
  EnsureIndex(users_, user);
  EnsureIndex(pages_, page);
  UserState& state = users_[user];
  PageState& page_state = pages_[page];
  state.slot = Insert(page_state, Arrival{ts, user});
  state.page = page;
  ++page_state.present;
  ++online_;
  Queue(page, page_state, ts);
}

uint32_t Presence::Insert(PageState& page, const Arrival& arrival) {
  std::vector<Arrival>& arrivals = page.arrivals;
  // After every arrival of an earlier or equal time (bisection works across
  // tombstones, which keep their ts); the usual case is the end.
  size_t slot = arrivals.size();
  if (slot > 0 && arrivals[slot - 1].ts > arrival.ts) {
    slot = std::upper_bound(arrivals.begin(), arrivals.end(), arrival.ts,
                            [](int64_t ts, const Arrival& other) { return ts < other.ts; }) -
           arrivals.begin();
  }
  // Among equal times, before the present users that outrank it (byte-wise smaller
  // keys). Where it lands among tombstones does not matter.
  while (slot > 0 && arrivals[slot - 1].ts == arrival.ts &&
         (arrivals[slot - 1].user == kNone || user_keys_->Less(arrivals[slot - 1].user, arrival.user))) {
    --slot;
  }
  const size_t capacity = arrivals.capacity();
  if (capacity == 0) arrivals.reserve(kKeptCapacity);
  arrivals.insert(arrivals.begin() + slot, arrival);
  arrival_capacity_ += arrivals.capacity() - capacity;
  for (size_t i = slot + 1; i < arrivals.size(); ++i) {
    if (arrivals[i].user != kNone) ++users_[arrivals[i].user].slot;
  }
  // The first present arrival: this one if it lands at or before the old first (or
  // the page had none); else the old first stays where it was.
  if (page.present == 0 || slot <= page.first) page.first = static_cast<uint32_t>(slot);
  return static_cast<uint32_t>(slot);
}

void Presence::Remove(uint32_t user) {
  if (user >= users_.size() || users_[user].page == kNone) return;
  UserState& state = users_[user];
  PageState& page = pages_[state.page];
  const uint32_t slot = state.slot;
  state.page = kNone;
  --online_;
  std::vector<Arrival>& arrivals = page.arrivals;
  if (--page.present == 0) {
    // The page's item stays queued; it is dropped when popped.
    if (arrivals.capacity() > kKeptCapacity) {
      arrival_capacity_ -= arrivals.capacity();
      std::vector<Arrival>().swap(arrivals);
    } else {
      arrivals.clear();
    }
    page.first = 0;
    return;
  }
  arrivals[slot].user = kNone;
  // Both stop at a present user: one remains.
  while (arrivals.back().user == kNone) arrivals.pop_back();
  while (arrivals[page.first].user == kNone) ++page.first;
  if (arrivals.size() > size_t{page.present} + page.present / 2 + tombstone_slack_) Compact(page);
}

void Presence::Compact(PageState& page) {
  std::vector<Arrival>& arrivals = page.arrivals;
  size_t kept = 0;
  for (size_t i = page.first; i < arrivals.size(); ++i) {
    const Arrival& arrival = arrivals[i];
    if (arrival.user == kNone) continue;
    users_[arrival.user].slot = static_cast<uint32_t>(kept);
    arrivals[kept++] = arrival;
  }
  arrivals.resize(kept);
  page.first = 0;
  if (arrivals.capacity() > 4 * kept + tombstone_slack_) {
    const size_t capacity = arrivals.capacity();
    arrivals.shrink_to_fit();
    arrival_capacity_ -= capacity - arrivals.capacity();
  }
}

void Presence::ExpireQueued(int64_t cutoff) {
  while (const PageTime* oldest = queue_.Oldest()) {
    if (oldest->ts >= cutoff) break;
    const PageTime item = *oldest;
    queue_.PopOldest();
    PageState& page = pages_[item.page];
    if (item.ts != page.queued_ts) continue;  // stale: the page was queued again earlier
    page.queued_ts = kNotQueued;
    // The array is in time order: its expired users are at the front.
    while (page.present > 0 && page.arrivals[page.first].ts < cutoff) Remove(page.arrivals[page.first].user);
    if (page.present > 0) Queue(item.page, page, page.arrivals[page.first].ts);
  }
}

uint32_t Presence::OnlineUsers(uint32_t page, uint32_t k, uint32_t* users, double* times) const {
  if (page >= pages_.size()) return 0;
  const std::vector<Arrival>& arrivals = pages_[page].arrivals;
  uint32_t count = 0;
  for (size_t i = arrivals.size(); i-- > 0 && count < k;) {
    if (arrivals[i].user == kNone) continue;
    users[count] = arrivals[i].user;
    times[count] = static_cast<double>(arrivals[i].ts);
    ++count;
  }
  return count;
}

bool Presence::Find(uint32_t user, uint32_t* page, int64_t* ts) const {
  if (user >= users_.size() || users_[user].page == kNone) return false;
  const UserState& state = users_[user];
  *page = state.page;
  *ts = pages_[state.page].arrivals[state.slot].ts;
  return true;
}

size_t Presence::memory_bytes() const {
  return users_.capacity() * sizeof(UserState) + pages_.capacity() * sizeof(PageState) +
         arrival_capacity_ * sizeof(Arrival) + queue_.memory_bytes();
}

void Presence::Clear() {
  std::vector<UserState>().swap(users_);
  std::vector<PageState>().swap(pages_);
  queue_.Clear();
  online_ = 0;
  arrival_capacity_ = 0;
}

bool Presence::Validate(std::string* error) const {
  uint64_t listed = 0;
  size_t capacity = 0;
  for (uint32_t page = 0; page < pages_.size(); ++page) {
    const PageState& state = pages_[page];
    const std::vector<Arrival>& arrivals = state.arrivals;
    capacity += arrivals.capacity();
    uint32_t present = 0;
    const Arrival* previous = nullptr;  // the previous present user's arrival
    for (uint32_t slot = 0; slot < arrivals.size(); ++slot) {
      const Arrival& arrival = arrivals[slot];
      if (slot > 0 && arrivals[slot - 1].ts > arrival.ts) return *error = "presence arrivals out of time order", false;
      if (arrival.user == kNone) continue;
      if (slot < state.first) return *error = "presence arrival before the page's first", false;
      if (arrival.user >= users_.size()) return *error = "presence arrival names an unknown user", false;
      const UserState& user = users_[arrival.user];
      if (user.page != page || user.slot != slot) return *error = "presence arrival disagrees with its user", false;
      // Lowest rank first: on equal times the byte-wise larger user first.
      if (previous != nullptr && previous->ts == arrival.ts && !user_keys_->Less(arrival.user, previous->user)) {
        return *error = "presence arrivals out of rank order", false;
      }
      previous = &arrival;
      ++present;
    }
    if (present != state.present) return *error = "page presence count wrong", false;
    if (present > 0) {
      if (arrivals.back().user == kNone) return *error = "presence array ends in a tombstone", false;
      if (arrivals[state.first].user == kNone) return *error = "page's first arrival is a tombstone", false;
      // The page's item is queued no later than its oldest arrival.
      if (state.queued_ts > arrivals[state.first].ts) return *error = "a page with users is not queued in time", false;
    } else if (!arrivals.empty()) {
      return *error = "an empty page keeps arrivals", false;
    }
    listed += present;
  }
  if (capacity != arrival_capacity_) return *error = "presence capacity count wrong", false;
  if (listed != online_) return *error = "presence counts disagree", false;
  uint64_t present_users = 0;
  for (const UserState& state : users_) present_users += state.page != kNone ? 1 : 0;
  if (present_users != online_) return *error = "present users and page arrivals disagree", false;

  // Every queued page has its current item in the queue.
  if (!queue_.Validate()) return *error = "presence queue out of order", false;
  std::vector<bool> item_seen(pages_.size());
  bool items_ok = true;
  queue_.ForEach([&](const PageTime& item) {
    if (item.page >= pages_.size()) {
      items_ok = false;
    } else if (item.ts == pages_[item.page].queued_ts) {
      item_seen[item.page] = true;
    }
  });
  if (!items_ok) return *error = "presence queue names an unknown page", false;
  for (uint32_t page = 0; page < pages_.size(); ++page) {
    if (pages_[page].queued_ts != kNotQueued && !item_seen[page]) return *error = "a queued page has no item", false;
  }
  return true;
}

}  // namespace skiptrail
