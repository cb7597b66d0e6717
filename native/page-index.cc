#include "page-index.h"

namespace skiptrail {

PageIndex::PageIndex(Interner* pages, Interner* users, uint32_t users_per_page)
    : pages_(pages),
      users_(users),
      users_per_page_(users_per_page),
      entry_context_(UsersByRank{users}),
      activity_context_(LowestRankedFirst{pages}),
      by_activity_(&activity_context_) {}

void PageIndex::Record(uint32_t page, uint32_t user, int64_t ts, int64_t expired_before) {
  if (ts < expired_before) return;
  EnsureIndex(states_, page, &entry_context_);
  PageState& state = states_[page];
  UserList& list = state.users;
  const Entry entry{ts, page, user};

  if (UserList::Node* kept = by_pair_.Find(PackPair(page, user))) {
    if (ts <= kept->key.ts) return;
    list.Update(kept, entry);
    if (list.First() == kept) by_activity_.Update(state.activity, ActivityKey{ts, page});
    return;
  }
  // Expired entries rank below every live one: trim them before judging room.
  UserList::Node* last = list.Last();
  while (last != nullptr && last->key.ts < expired_before) {
    Remove(state, last);
    last = list.Last();
  }
  if (list.size() >= users_per_page_) {
    if (!entry_context_.compare()(entry, last->key)) return;  // would not make the top
    Remove(state, last);
  }
  UserList::Node* node = list.Insert(entry);
  by_pair_.Insert(node);
  pages_->Ref(page);
  users_->Ref(user);
  if (state.activity == nullptr) {
    state.activity = by_activity_.Insert(ActivityKey{ts, page});
  } else if (list.First() == node) {
    by_activity_.Update(state.activity, ActivityKey{ts, page});
  }
}

// REQUIRES: node is not the page's only entry, or the caller handles the empty page.
void PageIndex::Remove(PageState& state, UserList::Node* node) {
  const Entry entry = node->key;
  by_pair_.Erase(node);
  state.users.Erase(node);
  if (state.users.empty()) {
    by_activity_.Erase(state.activity);
    state.activity = nullptr;
  }
  users_->Unref(entry.user);
  pages_->Unref(entry.page);  // may free the page id: `state` must not be used after
}

uint32_t PageIndex::LastUsers(uint32_t page, uint32_t k, int64_t expired_before, uint32_t* users,
                              double* times) const {
  if (page >= states_.size()) return 0;
  uint32_t count = 0;
  for (const UserList::Node* node = states_[page].users.First(); node != nullptr && count < k;
       node = node->next()) {
    if (node->key.ts < expired_before) break;
    users[count] = node->key.user;
    times[count] = static_cast<double>(node->key.ts);
    ++count;
  }
  return count;
}

void PageIndex::DropPage(uint32_t page) {
  PageState& state = states_[page];
  // Hold the page id while its last entries go, so that `state` stays valid.
  pages_->Ref(page);
  while (UserList::Node* node = state.users.First()) Remove(state, node);
  pages_->Unref(page);
}

void PageIndex::ExpireBefore(int64_t cutoff) {
  while (const ActivityList::Node* oldest = by_activity_.First()) {
    if (oldest->key.ts >= cutoff) break;
    DropPage(oldest->key.id);
  }
}

uint64_t PageIndex::EvictOver(uint64_t max_pages) {
  uint64_t evicted = 0;
  while (by_activity_.size() > max_pages) {
    DropPage(by_activity_.First()->key.id);
    ++evicted;
  }
  return evicted;
}

size_t PageIndex::memory_bytes() const {
  return entry_context_.allocated_bytes() + activity_context_.allocated_bytes() + by_pair_.memory_bytes() +
         states_.capacity() * sizeof(PageState);
}

void PageIndex::Clear() {
  for (PageState& state : states_) state.users.Abandon();
  states_.clear();
  states_.shrink_to_fit();
  by_activity_.Abandon();
  by_pair_.Clear();
  entry_context_.pool().Reset();
  activity_context_.pool().Reset();
}

bool PageIndex::Validate(std::string* error) const {
  if (!by_activity_.Validate()) return *error = "page activity list out of order", false;
  uint64_t entries = 0, pages = 0;
  for (uint32_t page = 0; page < states_.size(); ++page) {
    const PageState& state = states_[page];
    if (!state.users.Validate()) return *error = "page user list out of order", false;
    if (state.users.size() > users_per_page_) return *error = "page holds more than usersPerPage", false;
    if (state.users.empty() != (state.activity == nullptr)) return *error = "page activity link wrong", false;
    if (state.users.empty()) continue;
    ++pages;
    if (!pages_->live(page)) return *error = "page entries on a freed id", false;
    if (state.activity->key.id != page || state.activity->key.ts != state.users.First()->key.ts) {
      return *error = "page activity key differs from its latest entry", false;
    }
    for (const UserList::Node* node = state.users.First(); node != nullptr; node = node->next()) {
      ++entries;
      if (node->key.page != page || !users_->live(node->key.user)) return *error = "page entry ids wrong", false;
      if (by_pair_.Find(PackPair(page, node->key.user)) != node) return *error = "page entry not in map", false;
    }
  }
  if (entries != by_pair_.size() || pages != by_activity_.size()) return *error = "page counts disagree", false;
  return true;
}

}  // namespace skiptrail
