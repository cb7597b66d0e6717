#include "user-index.h"

namespace skiptrail {

UserIndex::UserIndex(Interner* users, Interner* pages, uint32_t pages_per_user)
    : users_(users),
      pages_(pages),
      pages_per_user_(pages_per_user),
      entry_context_(PagesByRank{pages}),
      activity_context_(LowestRankedFirst{users}),
      by_activity_(&activity_context_) {}

bool UserIndex::Record(uint32_t user, uint32_t page, int64_t ts, int64_t expired_before, LatestView* latest) {
  EnsureIndex(states_, user, &entry_context_);
  UserState& state = states_[user];
  PageList& list = state.pages;
  const PageList::Node* first_before = list.First();
  const LatestView latest_before = first_before != nullptr ? LatestView{first_before->key.ts, first_before->key.page}
                                                            : LatestView{0, Interner::kNoId};
  const Entry entry{ts, user, page};

  if (PageList::Node* kept = by_pair_.Find(PackPair(user, page))) {
    if (ts <= kept->key.ts) return false;
    list.Update(kept, entry);
  } else {
    PageList::Node* last = list.Last();
    while (last != nullptr && last->key.ts < expired_before) {
      Remove(state, last);
      last = list.Last();
    }
    if (list.size() >= pages_per_user_) {
      if (!entry_context_.compare()(entry, last->key)) return false;  // would not make the top
      Remove(state, last);
    }
    PageList::Node* node = list.Insert(entry);
    by_pair_.Insert(node);
    users_->Ref(user);
    pages_->Ref(page);
  }

  const PageList::Node* first = list.First();
  const ActivityKey activity{first->key.ts, user};
  if (state.activity == nullptr) {
    state.activity = by_activity_.Insert(activity);
  } else if (state.activity->key.ts != activity.ts) {
    by_activity_.Update(state.activity, activity);
  }
  if (first->key.ts == latest_before.ts && first->key.page == latest_before.page) return false;
  *latest = LatestView{first->key.ts, first->key.page};
  return true;
}

void UserIndex::Remove(UserState& state, PageList::Node* node) {
  const Entry entry = node->key;
  by_pair_.Erase(node);
  state.pages.Erase(node);
  if (state.pages.empty()) {
    by_activity_.Erase(state.activity);
    state.activity = nullptr;
  }
  pages_->Unref(entry.page);
  users_->Unref(entry.user);  // may free the user id: `state` must not be used after
}

uint32_t UserIndex::UserPages(uint32_t user, int64_t from, int64_t to, uint32_t limit, uint32_t* pages,
                              double* times) const {
  if (user >= states_.size() || from > to) return 0;
  const PageList& list = states_[user].pages;
  uint32_t count = 0;
  for (const PageList::Node* node = list.LowerBound(Entry{to, user, Interner::kNoId});
       node != nullptr && count < limit; node = node->next()) {
    if (node->key.ts < from) break;
    pages[count] = node->key.page;
    times[count] = static_cast<double>(node->key.ts);
    ++count;
  }
  return count;
}

void UserIndex::DropUser(uint32_t user) {
  UserState& state = states_[user];
  users_->Ref(user);  // keeps `state` valid while the last entries go
  while (PageList::Node* node = state.pages.First()) Remove(state, node);
  users_->Unref(user);
}

size_t UserIndex::memory_bytes() const {
  return entry_context_.allocated_bytes() + activity_context_.allocated_bytes() + by_pair_.memory_bytes() +
         states_.capacity() * sizeof(UserState);
}

void UserIndex::Clear() {
  for (UserState& state : states_) state.pages.Abandon();
  states_.clear();
  states_.shrink_to_fit();
  by_activity_.Abandon();
  by_pair_.Clear();
  entry_context_.pool().Reset();
  activity_context_.pool().Reset();
}

bool UserIndex::Validate(std::string* error) const {
  if (!by_activity_.Validate()) return *error = "user activity list out of order", false;
  uint64_t entries = 0, users = 0;
  for (uint32_t user = 0; user < states_.size(); ++user) {
    const UserState& state = states_[user];
    if (!state.pages.Validate()) return *error = "user page list out of order", false;
    if (state.pages.size() > pages_per_user_) return *error = "user holds more than pagesPerUser", false;
    if (state.pages.empty() != (state.activity == nullptr)) return *error = "user activity link wrong", false;
    if (state.pages.empty()) continue;
    ++users;
    if (!users_->live(user)) return *error = "user entries on a freed id", false;
    if (state.activity->key.id != user || state.activity->key.ts != state.pages.First()->key.ts) {
      return *error = "user activity key differs from its latest entry", false;
    }
    for (const PageList::Node* node = state.pages.First(); node != nullptr; node = node->next()) {
      ++entries;
      if (node->key.user != user || !pages_->live(node->key.page)) return *error = "user entry ids wrong", false;
      if (by_pair_.Find(PackPair(user, node->key.page)) != node) return *error = "user entry not in map", false;
    }
  }
  if (entries != by_pair_.size() || users != by_activity_.size()) return *error = "user counts disagree", false;
  return true;
}

}  // namespace skiptrail
