// Engine: the recent-activity index as a whole (contract sections 1-4b and 6). It owns
// the two interners, the page index (Q1: pages -> users), the user index (Q2: users
// -> pages), Presence (Q3), the watermark, and the caps, and keeps them consistent
// event by event.
//
// Keys arrive as UTF-8 bytes already validated by the caller (non-empty, within
// maxKeyBytes); times as integer milliseconds >= 0.
//
// Thread safety: none. One engine is used from one thread at a time.
#ifndef SKIPTRAIL_ENGINE_H_
#define SKIPTRAIL_ENGINE_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "interner.h"
#include "presence.h"
#include "ranked-index.h"

namespace skiptrail {

constexpr int64_t kNoWindow = std::numeric_limits<int64_t>::max();
constexpr uint64_t kNoCap = std::numeric_limits<uint64_t>::max();

struct EngineOptions {
  uint32_t users_per_page = 30;
  uint32_t pages_per_user = 1000;
  int64_t user_window = 30 * 60 * 1000;
  int64_t page_window = kNoWindow;
  int64_t presence_window = 30 * 60 * 1000;  // REQUIRES: <= user_window
  uint64_t max_pages = kNoCap;
  uint64_t max_users = kNoCap;
  // Internal, for measuring what presence costs (native/bench/engine-bench.cc): false
  // skips every presence update, so Q3 answers nothing. The addon always keeps it.
  bool track_presence = true;
  // Internal, for tests that run every encoding under the reference model: how state
  // is laid out, never what an answer is. Lists longer than small_list_max are
  // skiplists (0: every list); presence compacts a page's array past 1.5 * present +
  // tombstone_slack arrivals, and its expiry queue reclaims popped room past
  // queue_slack items (ExpiryQueue's slack).
  uint32_t small_list_max = RankedIndex::kSmallMax;
  uint32_t tombstone_slack = Presence::kTombstoneSlack;
  uint32_t queue_slack = Presence::kQueueSlack;
};

struct EngineStats {
  uint64_t events, pages, users, entries, late, evicted, online;
  size_t memory_bytes;
};

class Engine {
 public:
  explicit Engine(const EngineOptions& options);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Indexes one view. Returns true when it was late (older than watermark -
  // userWindow on arrival): it then updated the page index only.
  bool Record(std::string_view user, std::string_view page, int64_t ts) {
    return RecordHashed(user, Interner::Hash(user), page, Interner::Hash(page), ts);
  }

  // One event of a batch; the keys are views into memory the caller owns. A key may
  // come as its id instead (user_id or page_id != Interner::kNoId; the view is then
  // ignored). REQUIRES: such an id is live and the caller holds a reference on it
  // (Interner::Ref) for the whole RecordBatch call.
  struct EventView {
    std::string_view user;
    std::string_view page;
    int64_t ts;
    uint32_t user_id = Interner::kNoId;
    uint32_t page_id = Interner::kNoId;
  };
  // Indexes events[0 .. count) in order, exactly as Record() one by one would, and
  // returns how many were late. Faster: while one event is indexed, the key lookups
  // of the next few are already loading (software prefetch), so their cache misses
  // overlap instead of queueing. With `ids`, writes the user and page id each event
  // used to ids[2i] and ids[2i + 1] (an id may have been freed by a later event).
  uint64_t RecordBatch(const EventView* events, size_t count, uint32_t* ids = nullptr);

  // Q1: up to k users of `page`, rank order. Returns the count written.
  uint32_t LastUsers(std::string_view page, uint32_t k, uint32_t* users, double* times) const;
  // Q2: up to `limit` pages of `user` with max(from, watermark - userWindow) <= ts <= to.
  uint32_t UserPages(std::string_view user, int64_t from, int64_t to, uint32_t limit, uint32_t* pages,
                     double* times) const;
  // Q3: up to k users present on `page`, rank order.
  uint32_t OnlineUsers(std::string_view page, uint32_t k, uint32_t* users, double* times) const;
  uint64_t OnlineCount(std::string_view page) const;
  uint64_t OnlineCount() const { return presence_.OnlineCount(); }
  // Moves the presence cutoff to at least now - presenceWindow (wall-clock indexes call
  // this before answering Q3).
  void AdvancePresenceClock(int64_t now);
  // Moves the watermark to ts when ts is later, as an event at ts would, without
  // indexing anything: expiry, presence and eviction follow. A shard calls it for the
  // times of other partitions' events, so that its windows match one index fed them all.
  void AdvanceWatermark(int64_t ts);

  bool has_watermark() const { return has_watermark_; }
  int64_t watermark() const { return watermark_; }
  EngineStats Stats() const;
  const EngineOptions& options() const { return options_; }

  Interner& users() { return users_; }
  Interner& pages() { return pages_; }
  const Interner& users() const { return users_; }
  const Interner& pages() const { return pages_; }

  // Snapshot support (snapshot-writer.cc reads, snapshot-reader.cc restores). The
  // logical content goes through the indexes' public operations (Query, Record,
  // Find, Move), never their memory layout.
  const RankedIndex& page_index() const { return page_index_; }
  const RankedIndex& user_index() const { return user_index_; }
  const Presence& presence() const { return presence_; }
  // The clock and the counters that stats() reports beside the structures.
  struct State {
    bool has_watermark = false;
    int64_t watermark = 0;
    int64_t presence_clock = std::numeric_limits<int64_t>::min();  // min: never set
    uint64_t events = 0, late = 0, evicted = 0;
  };
  State state() const { return State{has_watermark_, watermark_, presence_clock_, events_, late_, evicted_}; }
  // REQUIRES: the engine is empty (new or cleared).
  void RestoreState(const State& state);
  // Add one entry as it stands: no expiry, no cap eviction, no presence update, no
  // counting. REQUIRES: both ids are live; the entry list it joins has room (the
  // writer's engine had the same caps). Ids are held by the entry as Record's are.
  void RestorePageEntry(uint32_t page, uint32_t user, int64_t ts);
  void RestoreUserEntry(uint32_t user, uint32_t page, int64_t ts);
  // Makes (page, ts) the user's presence. Returns false, changing nothing, unless it is
  // the user's highest-ranked entry in the user index and within the presence window
  // of the restored clock. REQUIRES: RestoreState and the user entries came first.
  bool RestorePresence(uint32_t user, uint32_t page, int64_t ts);

  // Forgets everything, returning the memory it held; options stay.
  void Clear();
  // Checks every structure's invariants and their agreement. On failure returns false
  // and says what in *error.
  bool Validate(std::string* error) const;

 private:
  // watermark - window, or the smallest time when the window is unbounded.
  int64_t Cutoff(int64_t window) const {
    if (!has_watermark_ || window == kNoWindow) return std::numeric_limits<int64_t>::min();
    return watermark_ - window;
  }
  bool RecordHashed(std::string_view user, uint32_t user_hash, std::string_view page, uint32_t page_hash, int64_t ts) {
    return RecordIds(users_.Intern(user, user_hash), pages_.Intern(page, page_hash), ts);
  }
  // REQUIRES: both ids live (possibly unreferenced: just interned).
  bool RecordIds(uint32_t user_id, uint32_t page_id, int64_t ts);
  void ExpireAndEvict();

  EngineOptions options_;
  Interner users_;
  Interner pages_;
  RankedIndex page_index_;  // owner = page, member = user
  RankedIndex user_index_;  // owner = user, member = page
  Presence presence_;
  int64_t watermark_ = 0;
  bool has_watermark_ = false;
  int64_t presence_clock_ = std::numeric_limits<int64_t>::min();  // the cutoff's "now" (>= watermark)
  uint64_t events_ = 0;
  uint64_t late_ = 0;
  uint64_t evicted_ = 0;
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_ENGINE_H_
