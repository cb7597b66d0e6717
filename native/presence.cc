#include "presence.h"

#include <algorithm>

#include "ensure-index.h"

namespace skiptrail {

namespace {
constexpr uint32_t kNone = Interner::kNoId;
// How far ahead of the queue's head expiry prefetches the users' states.
constexpr size_t kLookAhead = 8;

// Heap order for the late moves: the oldest on top.
constexpr auto kOldestOnTop = [](const auto& a, const auto& b) { return a.ts > b.ts; };
}  // namespace

Presence::Presence(const Interner* users, uint32_t tombstone_slack, uint32_t queue_slack)
    : user_keys_(users), tombstone_slack_(tombstone_slack), queue_slack_(queue_slack) {}

void Presence::Move(uint32_t user, uint32_t page, int64_t ts, int64_t cutoff) {
  Remove(user);
  if (ts < cutoff) return;
  EnsureIndex(users_, user);
  EnsureIndex(pages_, page);
  UserState& state = users_[user];
  const Arrival arrival{ts, user, ++state.generation};
  PageState& page_state = pages_[page];
  state.slot = Insert(page_state, arrival);
  state.page = page;
  ++page_state.present;
  ++online_;
  Enqueue(arrival);
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
  arrivals.insert(arrivals.begin() + slot, arrival);
  arrival_capacity_ += arrivals.capacity() - capacity;
  for (size_t i = slot + 1; i < arrivals.size(); ++i) {
    if (arrivals[i].user != kNone) ++users_[arrivals[i].user].slot;
  }
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
    arrival_capacity_ -= arrivals.capacity();
    std::vector<Arrival>().swap(arrivals);
    return;
  }
  arrivals[slot].user = kNone;
  while (arrivals.back().user == kNone) arrivals.pop_back();  // stops: a present user remains
  if (arrivals.size() > 2 * size_t{page.present} + tombstone_slack_) Compact(page);
}

void Presence::Compact(PageState& page) {
  std::vector<Arrival>& arrivals = page.arrivals;
  size_t kept = 0;
  for (const Arrival& arrival : arrivals) {
    if (arrival.user == kNone) continue;
    users_[arrival.user].slot = static_cast<uint32_t>(kept);
    arrivals[kept++] = arrival;
  }
  arrivals.resize(kept);
  if (arrivals.capacity() > 4 * kept + tombstone_slack_) {
    const size_t capacity = arrivals.capacity();
    arrivals.shrink_to_fit();
    arrival_capacity_ -= capacity - arrivals.capacity();
  }
}

void Presence::Enqueue(const Arrival& arrival) {
  if (queue_head_ == queue_.size() || arrival.ts >= queue_.back().ts) {
    queue_.push_back(arrival);
  } else {
    late_.push_back(arrival);
    std::push_heap(late_.begin(), late_.end(), kOldestOnTop);
  }
  if (queue_.size() - queue_head_ + late_.size() > 2 * online_ + queue_slack_) CompactQueue();
}

void Presence::CompactQueue() {
  // Keeps each present user's current move: exactly online_ entries remain.
  size_t kept = 0;
  for (size_t i = queue_head_; i < queue_.size(); ++i) {
    if (i + kLookAhead < queue_.size()) __builtin_prefetch(&users_[queue_[i + kLookAhead].user]);
    if (IsCurrent(queue_[i])) queue_[kept++] = queue_[i];
  }
  queue_.resize(kept);
  queue_head_ = 0;
  late_.erase(std::remove_if(late_.begin(), late_.end(), [this](const Arrival& a) { return !IsCurrent(a); }),
              late_.end());
  std::make_heap(late_.begin(), late_.end(), kOldestOnTop);
  if (queue_.capacity() > 4 * queue_.size() + queue_slack_) queue_.shrink_to_fit();
  if (late_.capacity() > 4 * late_.size() + queue_slack_) late_.shrink_to_fit();
}

const Presence::Arrival* Presence::Oldest() const {
  const Arrival* oldest = queue_head_ < queue_.size() ? &queue_[queue_head_] : nullptr;
  if (!late_.empty() && (oldest == nullptr || late_.front().ts < oldest->ts)) oldest = &late_.front();
  return oldest;
}

void Presence::PopOldest() {
  if (!late_.empty() && Oldest() == late_.data()) {
    std::pop_heap(late_.begin(), late_.end(), kOldestOnTop);
    late_.pop_back();
    return;
  }
  ++queue_head_;
  if (queue_head_ == queue_.size()) {
    queue_.clear();
    queue_head_ = 0;
  } else if (queue_head_ >= queue_slack_ && queue_head_ * 2 >= queue_.size()) {
    // Reclaim the popped half (amortized O(1) per pop).
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(queue_head_));
    queue_head_ = 0;
  }
}

void Presence::ExpireBefore(int64_t cutoff) {
  while (const Arrival* oldest = Oldest()) {
    if (oldest->ts >= cutoff) break;
    const Arrival arrival = *oldest;
    PopOldest();
    if (queue_head_ + kLookAhead < queue_.size()) __builtin_prefetch(&users_[queue_[queue_head_ + kLookAhead].user]);
    if (IsCurrent(arrival)) Remove(arrival.user);
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
         (arrival_capacity_ + queue_.capacity() + late_.capacity()) * sizeof(Arrival);
}

void Presence::Clear() {
  std::vector<UserState>().swap(users_);
  std::vector<PageState>().swap(pages_);
  std::vector<Arrival>().swap(queue_);
  std::vector<Arrival>().swap(late_);
  queue_head_ = 0;
  online_ = 0;
  arrival_capacity_ = 0;
}

bool Presence::Validate(std::string* error) const {
  uint64_t listed = 0;
  size_t capacity = 0;
  for (uint32_t page = 0; page < pages_.size(); ++page) {
    const std::vector<Arrival>& arrivals = pages_[page].arrivals;
    capacity += arrivals.capacity();
    uint32_t present = 0;
    const Arrival* previous = nullptr;  // the previous present user's arrival
    for (uint32_t slot = 0; slot < arrivals.size(); ++slot) {
      const Arrival& arrival = arrivals[slot];
      if (slot > 0 && arrivals[slot - 1].ts > arrival.ts) return *error = "presence arrivals out of time order", false;
      if (arrival.user == kNone) continue;
      if (arrival.user >= users_.size()) return *error = "presence arrival names an unknown user", false;
      const UserState& state = users_[arrival.user];
      if (state.page != page || state.slot != slot || state.generation != arrival.generation) {
        return *error = "presence arrival disagrees with its user", false;
      }
      // Lowest rank first: on equal times the byte-wise larger user first.
      if (previous != nullptr && previous->ts == arrival.ts && !user_keys_->Less(arrival.user, previous->user)) {
        return *error = "presence arrivals out of rank order", false;
      }
      previous = &arrival;
      ++present;
    }
    if (present != pages_[page].present) return *error = "page presence count wrong", false;
    if (!arrivals.empty() && arrivals.back().user == kNone) return *error = "presence array ends in a tombstone", false;
    listed += present;
  }
  if (capacity != arrival_capacity_) return *error = "presence capacity count wrong", false;
  if (listed != online_) return *error = "presence counts disagree", false;
  uint64_t present_users = 0;
  for (const UserState& state : users_) present_users += state.page != kNone ? 1 : 0;
  if (present_users != online_) return *error = "present users and page arrivals disagree", false;

  // The expiry queue: in time order, a heap beside it, and one current move per
  // present user (generations are unique per user) with the time it is listed at.
  for (size_t i = queue_head_ + 1; i < queue_.size(); ++i) {
    if (queue_[i - 1].ts > queue_[i].ts) return *error = "presence queue out of time order", false;
  }
  if (!std::is_heap(late_.begin(), late_.end(), kOldestOnTop)) {
    return *error = "late presence heap broken", false;
  }
  uint64_t current = 0;
  auto check = [&](const Arrival& arrival) {
    if (arrival.user >= users_.size()) return false;
    if (!IsCurrent(arrival)) return true;
    const UserState& state = users_[arrival.user];
    ++current;
    return pages_[state.page].arrivals[state.slot].ts == arrival.ts;
  };
  for (size_t i = queue_head_; i < queue_.size(); ++i) {
    if (!check(queue_[i])) return *error = "presence queue entry disagrees with its user", false;
  }
  for (const Arrival& arrival : late_) {
    if (!check(arrival)) return *error = "late presence entry disagrees with its user", false;
  }
  if (current != online_) return *error = "presence queue misses a present user", false;
  return true;
}

}  // namespace skiptrail
