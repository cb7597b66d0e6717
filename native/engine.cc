#include "engine.h"

#include <algorithm>

namespace skiptrail {

Engine::Engine(const EngineOptions& options)
    : options_(options),
      // Pages need an activity order only to expire or evict them.
      page_index_(&pages_, &users_, options.users_per_page,
                  options.page_window != kNoWindow || options.max_pages != kNoCap, options.small_list_max),
      user_index_(&users_, &pages_, options.pages_per_user, true, options.small_list_max),
      presence_(&users_, options.tombstone_slack, options.queue_slack) {
  SKIPTRAIL_DCHECK(options.presence_window <= options.user_window);
}

uint64_t Engine::RecordBatch(const EventView* events, size_t count, uint32_t* ids) {
  // Stages ahead of the event being indexed: hash and prefetch the table slots of
  // event i + kAhead; once those have arrived, the interner entries of event
  // i + kAhead/2; then the index and presence states of events i + 3 .. i + 1, each
  // stage reading what the one before loaded (ids peeked from the slots once, at
  // i + 3, unverified: a hint only). Keys given as ids skip the first two stages.
  constexpr size_t kAhead = 8;
  constexpr size_t kRing = 2 * kAhead;  // hashes in flight: user and page per event
  uint32_t user_hashes[kRing], page_hashes[kRing];
  uint32_t user_hints[kRing], page_hints[kRing];
  auto start = [&](size_t i) {
    const EventView& event = events[i];
    if (event.user_id == Interner::kNoId) {
      user_hashes[i % kRing] = Interner::Hash(event.user);
      users_.PrefetchSlot(user_hashes[i % kRing]);
    }
    if (event.page_id == Interner::kNoId) {
      page_hashes[i % kRing] = Interner::Hash(event.page);
      pages_.PrefetchSlot(page_hashes[i % kRing]);
    }
  };
  auto user_hint = [&](size_t i) {
    return events[i].user_id != Interner::kNoId ? events[i].user_id : users_.PeekId(user_hashes[i % kRing]);
  };
  auto page_hint = [&](size_t i) {
    return events[i].page_id != Interner::kNoId ? events[i].page_id : pages_.PeekId(page_hashes[i % kRing]);
  };
  for (size_t i = 0; i < count && i < kAhead; ++i) start(i);
  for (size_t i = 0; i < count && i < 3; ++i) {
    user_hints[i] = user_hint(i);
    page_hints[i] = page_hint(i);
  }
  uint64_t late = 0;
  for (size_t i = 0; i < count; ++i) {
    if (i + kAhead < count) start(i + kAhead);
    if (i + kAhead / 2 < count) {
      const EventView& ahead = events[i + kAhead / 2];
      if (ahead.user_id == Interner::kNoId) users_.PrefetchEntry(user_hashes[(i + kAhead / 2) % kRing]);
      if (ahead.page_id == Interner::kNoId) pages_.PrefetchEntry(page_hashes[(i + kAhead / 2) % kRing]);
    }
    if (i + 3 < count) {
      const uint32_t user = user_hints[(i + 3) % kRing] = user_hint(i + 3);
      const uint32_t page = page_hints[(i + 3) % kRing] = page_hint(i + 3);
      presence_.PrefetchStates(user, page);
    }
    if (i + 2 < count) {
      const uint32_t user = user_hints[(i + 2) % kRing];
      const uint32_t page = page_hints[(i + 2) % kRing];
      user_index_.PrefetchState(user);
      page_index_.PrefetchState(page);
      presence_.PrefetchMove(user, page);
    }
    if (i + 1 < count) {
      const uint32_t user = user_hints[(i + 1) % kRing];
      user_index_.PrefetchEntries(user);
      page_index_.PrefetchEntries(page_hints[(i + 1) % kRing]);
      presence_.PrefetchDeparture(user);
    }
    const EventView& event = events[i];
    const uint32_t user_id =
        event.user_id != Interner::kNoId ? event.user_id : users_.Intern(event.user, user_hashes[i % kRing]);
    const uint32_t page_id =
        event.page_id != Interner::kNoId ? event.page_id : pages_.Intern(event.page, page_hashes[i % kRing]);
    if (ids != nullptr) {
      ids[2 * i] = user_id;
      ids[2 * i + 1] = page_id;
    }
    late += RecordIds(user_id, page_id, event.ts) ? 1 : 0;
  }
  return late;
}

bool Engine::RecordIds(uint32_t user_id, uint32_t page_id, int64_t ts) {
  const bool late = ts < Cutoff(options_.user_window);
  ++events_;
  if (!has_watermark_ || ts > watermark_) {
    watermark_ = ts;
    has_watermark_ = true;
  }
  presence_clock_ = std::max(presence_clock_, watermark_);
  // Hold both ids until the end: evictions below may drop their last entries.
  users_.Ref(user_id);
  pages_.Ref(page_id);

  LatestView latest;
  page_index_.Record(page_id, user_id, ts, Cutoff(options_.page_window), &latest);
  if (late) {
    ++late_;
  } else if (user_index_.Record(user_id, page_id, ts, Cutoff(options_.user_window), &latest) &&
             options_.track_presence) {
    presence_.Move(user_id, latest.member, latest.ts, presence_clock_ - options_.presence_window);
  }
  ExpireAndEvict();

  pages_.Unref(page_id);
  users_.Unref(user_id);
  return late;
}

void Engine::ExpireAndEvict() {
  auto leave = [this](uint32_t user) { presence_.Remove(user); };
  auto nothing = [](uint32_t) {};
  user_index_.ExpireBefore(Cutoff(options_.user_window), leave);
  if (options_.track_presence) presence_.ExpireBefore(presence_clock_ - options_.presence_window);
  if (options_.page_window != kNoWindow) page_index_.ExpireBefore(Cutoff(options_.page_window), nothing);
  if (options_.max_pages != kNoCap) evicted_ += page_index_.EvictOver(options_.max_pages, nothing);
  if (options_.max_users != kNoCap) evicted_ += user_index_.EvictOver(options_.max_users, leave);
}

void Engine::AdvanceWatermark(int64_t ts) {
  if (has_watermark_ && ts <= watermark_) return;
  watermark_ = ts;
  has_watermark_ = true;
  presence_clock_ = std::max(presence_clock_, watermark_);
  ExpireAndEvict();
}

void Engine::AdvancePresenceClock(int64_t now) {
  if (now <= presence_clock_) return;
  presence_clock_ = now;
  presence_.ExpireBefore(presence_clock_ - options_.presence_window);
}

uint32_t Engine::LastUsers(std::string_view page, uint32_t k, uint32_t* users, double* times) const {
  const uint32_t page_id = pages_.Find(page);
  if (page_id == Interner::kNoId) return 0;
  return page_index_.Query(page_id, Cutoff(options_.page_window), std::numeric_limits<int64_t>::max(), k, users,
                           times);
}

uint32_t Engine::UserPages(std::string_view user, int64_t from, int64_t to, uint32_t limit, uint32_t* pages,
                           double* times) const {
  const uint32_t user_id = users_.Find(user);
  if (user_id == Interner::kNoId) return 0;
  return user_index_.Query(user_id, std::max(from, Cutoff(options_.user_window)), to, limit, pages, times);
}

uint32_t Engine::OnlineUsers(std::string_view page, uint32_t k, uint32_t* users, double* times) const {
  const uint32_t page_id = pages_.Find(page);
  if (page_id == Interner::kNoId) return 0;
  return presence_.OnlineUsers(page_id, k, users, times);
}

uint64_t Engine::OnlineCount(std::string_view page) const {
  const uint32_t page_id = pages_.Find(page);
  return page_id == Interner::kNoId ? 0 : presence_.OnlineCount(page_id);
}

EngineStats Engine::Stats() const {
  EngineStats stats;
  stats.events = events_;
  stats.pages = page_index_.owners();
  stats.users = user_index_.owners();
  stats.entries = page_index_.entries() + user_index_.entries();
  stats.late = late_;
  stats.evicted = evicted_;
  stats.online = presence_.OnlineCount();
  stats.memory_bytes = sizeof(Engine) + users_.memory_bytes() + pages_.memory_bytes() + page_index_.memory_bytes() +
                       user_index_.memory_bytes() + presence_.memory_bytes();
  return stats;
}

void Engine::RestoreState(const State& state) {
  has_watermark_ = state.has_watermark;
  watermark_ = state.watermark;
  presence_clock_ = state.presence_clock;
  events_ = state.events;
  late_ = state.late;
  evicted_ = state.evicted;
}

void Engine::RestorePageEntry(uint32_t page, uint32_t user, int64_t ts) {
  LatestView latest;
  page_index_.Record(page, user, ts, std::numeric_limits<int64_t>::min(), &latest);
}

void Engine::RestoreUserEntry(uint32_t user, uint32_t page, int64_t ts) {
  LatestView latest;
  user_index_.Record(user, page, ts, std::numeric_limits<int64_t>::min(), &latest);
}

bool Engine::RestorePresence(uint32_t user, uint32_t page, int64_t ts) {
  uint32_t latest_page = Interner::kNoId;
  double latest_ts = 0;
  if (user_index_.Query(user, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), 1,
                        &latest_page, &latest_ts) != 1) {
    return false;
  }
  if (latest_page != page || latest_ts != static_cast<double>(ts)) return false;
  if (!options_.track_presence || presence_clock_ == std::numeric_limits<int64_t>::min() ||
      ts < presence_clock_ - options_.presence_window) {
    return false;
  }
  presence_.Move(user, page, ts, std::numeric_limits<int64_t>::min());
  return true;
}

void Engine::Clear() {
  presence_.Clear();
  user_index_.Clear();
  page_index_.Clear();
  users_.Clear();
  pages_.Clear();
  watermark_ = 0;
  has_watermark_ = false;
  presence_clock_ = std::numeric_limits<int64_t>::min();
  events_ = late_ = evicted_ = 0;
}

bool Engine::Validate(std::string* error) const {
  if (!users_.Validate()) return *error = "user interner inconsistent", false;
  if (!pages_.Validate()) return *error = "page interner inconsistent", false;
  if (!page_index_.Validate(error) || !user_index_.Validate(error) || !presence_.Validate(error)) return false;
  // A user is present exactly when their latest view (their highest-ranked entry in
  // the user index) is within the presence window, and then on that view's page.
  const int64_t presence_cutoff = presence_clock_ == std::numeric_limits<int64_t>::min()
                                      ? presence_clock_
                                      : presence_clock_ - options_.presence_window;
  for (uint32_t user = 0; user < users_.id_limit(); ++user) {
    uint32_t latest_page = Interner::kNoId, present_page = Interner::kNoId;
    double latest_ts = 0;
    int64_t present_ts = 0;
    const bool listed = user_index_.Query(user, std::numeric_limits<int64_t>::min(),
                                          std::numeric_limits<int64_t>::max(), 1, &latest_page, &latest_ts) == 1;
    const bool present = presence_.Find(user, &present_page, &present_ts);
    const bool should_be_present = listed && options_.track_presence && latest_ts >= presence_cutoff;
    if (present != should_be_present) return *error = "presence disagrees with the users' latest views", false;
    if (present && (present_page != latest_page || static_cast<double>(present_ts) != latest_ts)) {
      return *error = "a user's presence is not their latest view", false;
    }
  }
  // Each entry of the page and user indexes holds one reference on each of its ids
  // (presence holds none: its entries are user-index entries too), and nothing else
  // holds any between calls: so every live id is mentioned, and the counts add up.
  const uint64_t entries = page_index_.entries() + user_index_.entries();
  for (const Interner* keys : {&users_, &pages_}) {
    uint64_t refs = 0;
    for (uint32_t id = 0; id < keys->id_limit(); ++id) {
      if (!keys->live(id)) continue;
      if (keys->refs(id) == 0) return *error = "an id outlives its last entry", false;
      refs += keys->refs(id);
    }
    if (refs != entries) return *error = "id references do not match the entries", false;
  }
  return true;
}

}  // namespace skiptrail
