#include "presence.h"

#include <limits>

#include "activity-list.h"

namespace skiptrail {

namespace {
constexpr int64_t kEarliest = std::numeric_limits<int64_t>::min();
constexpr int64_t kLatest = std::numeric_limits<int64_t>::max();
}  // namespace

Presence::Presence(Interner* users, Interner* pages)
    : pages_(pages),
      by_page_(pages, users, std::numeric_limits<uint32_t>::max(), false),
      time_context_(OldestFirst{}),
      by_time_(&time_context_) {}

void Presence::Move(uint32_t user, uint32_t page, int64_t ts, int64_t cutoff) {
  Remove(user);
  if (ts < cutoff) return;
  EnsureIndex(users_, user);
  LatestView unused;
  by_page_.Record(page, user, ts, kEarliest, &unused);
  UserState& state = users_[user];
  state.by_time = by_time_.Insert(Key{ts, user});
  state.page = page;
}

void Presence::Remove(uint32_t user) {
  if (user >= users_.size()) return;
  UserState& state = users_[user];
  if (state.by_time == nullptr) return;
  by_time_.Erase(state.by_time);
  const uint32_t page = state.page;
  state = UserState{};
  by_page_.Remove(page, user);
}

void Presence::ExpireBefore(int64_t cutoff) {
  while (const ByTime::Node* oldest = by_time_.First()) {
    if (oldest->key.ts >= cutoff) break;
    Remove(oldest->key.user);
  }
}

uint32_t Presence::OnlineUsers(uint32_t page, uint32_t k, uint32_t* users, double* times) const {
  return by_page_.Query(page, kEarliest, kLatest, k, users, times);
}

size_t Presence::memory_bytes() const {
  return by_page_.memory_bytes() + time_context_.allocated_bytes() + users_.capacity() * sizeof(UserState);
}

void Presence::Clear() {
  by_page_.Clear();
  users_.clear();
  users_.shrink_to_fit();
  by_time_.Abandon();
  time_context_.pool().Reset();
}

bool Presence::Validate(std::string* error) const {
  if (!by_page_.Validate(error)) return false;
  if (!by_time_.Validate()) return *error = "presence time list out of order", false;
  // Every entry of a page's list is a present user whose page and time it matches;
  // with equal counts, the lists and the users' states are the same set.
  uint64_t listed = 0;
  std::vector<uint32_t> members;
  std::vector<double> times;
  for (uint32_t page = 0; page < pages_->id_limit(); ++page) {
    const uint32_t size = by_page_.Size(page);
    if (size == 0) continue;
    members.resize(size);
    times.resize(size);
    const uint32_t count = by_page_.Query(page, kEarliest, kLatest, size, members.data(), times.data());
    if (count != size) return *error = "page presence list size wrong", false;
    for (uint32_t i = 0; i < count; ++i) {
      const uint32_t user = members[i];
      if (user >= users_.size() || users_[user].by_time == nullptr || users_[user].page != page ||
          static_cast<double>(users_[user].by_time->key.ts) != times[i] || users_[user].by_time->key.user != user) {
        return *error = "page presence entry disagrees with its user", false;
      }
    }
    listed += count;
  }
  if (listed != by_time_.size()) return *error = "presence counts disagree", false;
  return true;
}

}  // namespace skiptrail
