#include "presence.h"

#include "activity-list.h"

namespace skiptrail {

Presence::Presence(const Interner* users)
    : page_context_(UsersLowestFirst{users}), time_context_(OldestFirst{}), by_time_(&time_context_) {}

void Presence::Move(uint32_t user, uint32_t page, int64_t ts, int64_t cutoff) {
  Remove(user);
  if (ts < cutoff) return;
  EnsureIndex(users_, user);
  EnsureIndex(pages_, page, &page_context_);
  UserState& state = users_[user];
  const Key key{ts, user};
  state.on_page = pages_[page].Insert(key);
  state.by_time = by_time_.Insert(key);
  state.page = page;
}

void Presence::Remove(uint32_t user) {
  if (user >= users_.size()) return;
  UserState& state = users_[user];
  if (state.by_time == nullptr) return;
  pages_[state.page].Erase(state.on_page);
  by_time_.Erase(state.by_time);
  state = UserState{};
}

void Presence::ExpireBefore(int64_t cutoff) {
  while (const ByTime::Node* oldest = by_time_.First()) {
    if (oldest->key.ts >= cutoff) break;
    Remove(oldest->key.user);
  }
}

uint32_t Presence::OnlineUsers(uint32_t page, uint32_t k, uint32_t* users, double* times) const {
  if (page >= pages_.size()) return 0;
  uint32_t count = 0;
  for (const PageUsers::Node* node = pages_[page].Last(); node != nullptr && count < k; node = node->prev()) {
    users[count] = node->key.user;
    times[count] = static_cast<double>(node->key.ts);
    ++count;
  }
  return count;
}

size_t Presence::memory_bytes() const {
  return page_context_.allocated_bytes() + time_context_.allocated_bytes() +
         pages_.capacity() * sizeof(PageUsers) + users_.capacity() * sizeof(UserState);
}

void Presence::Clear() {
  for (PageUsers& list : pages_) list.Abandon();
  pages_.clear();
  pages_.shrink_to_fit();
  users_.clear();
  users_.shrink_to_fit();
  by_time_.Abandon();
  page_context_.pool().Reset();
  time_context_.pool().Reset();
}

bool Presence::Validate(std::string* error) const {
  if (!by_time_.Validate()) return *error = "presence time list out of order", false;
  uint64_t present = 0;
  for (const PageUsers& list : pages_) {
    if (!list.Validate()) return *error = "page presence list out of order", false;
    present += list.size();
  }
  uint64_t users = 0;
  for (uint32_t user = 0; user < users_.size(); ++user) {
    const UserState& state = users_[user];
    if ((state.on_page == nullptr) != (state.by_time == nullptr)) return *error = "presence links disagree", false;
    if (state.by_time == nullptr) continue;
    ++users;
    if (state.on_page->key.user != user || state.by_time->key.user != user ||
        state.on_page->key.ts != state.by_time->key.ts) {
      return *error = "presence keys disagree", false;
    }
  }
  if (present != by_time_.size() || users != by_time_.size()) return *error = "presence counts disagree", false;
  return true;
}

}  // namespace skiptrail
