// Interner: key bytes <-> dense 32-bit ids, one stored copy of each distinct key. Short
// keys (up to 20 bytes: most user names and addresses) live in their 32-byte entry,
// with no allocation of their own.
//
// Ids are reference counted by the entries that mention them. Intern() may create an
// id with no reference; the caller must Ref() it or call DropIfUnused() before it
// forgets the id. An id whose count falls to zero is freed and may be handed out
// again for another key, so ids are only meaningful while referenced.
//
// Each id also carries an `exported` flag for the JavaScript side, which caches id ->
// string: the flag says "JavaScript already holds this id's current string". A new or
// reused id starts with the flag clear. The flags live in a bitmap apart from the
// entries (one bit per id), so checking a query result's ids stays in cache.
//
// JavaScript also caches key -> id, to hand hot keys over as ids. For that cache the
// interner logs every id it frees (freed_log()), until the log is taken; past
// kMaxFreedLog ids, or on Clear(), it only says that it overflowed (the cache must then
// forget everything).
//
// Thread safety: none.
#ifndef SKIPTRAIL_INTERNER_H_
#define SKIPTRAIL_INTERNER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "dcheck.h"
#include "hash.h"

namespace skiptrail {

class Interner {
 public:
  static constexpr uint32_t kNoId = 0xFFFFFFFFu;

  Interner();
  ~Interner();
  Interner(const Interner&) = delete;
  Interner& operator=(const Interner&) = delete;

  // The hash Find and Intern use; callers that look a key up later may compute it
  // early, to Prefetch.
  static uint32_t Hash(std::string_view key) { return static_cast<uint32_t>(HashBytes(key.data(), key.size())); }
  // The id of `key`, or kNoId.
  uint32_t Find(std::string_view key) const { return Find(key, Hash(key)); }
  uint32_t Find(std::string_view key, uint32_t hash) const;
  // The id of `key`, created (with no reference) if absent. REQUIRES: hash == Hash(key).
  uint32_t Intern(std::string_view key) { return Intern(key, Hash(key)); }
  uint32_t Intern(std::string_view key, uint32_t hash) {
    // Most keys are found in their home slot: that check is inline.
    const uint32_t id = table_[SlotOf(hash)];
    if (id != kNoId && Matches(entries_[id], key, hash)) return id;
    return InternProbing(key, hash);
  }
  // Starts loading the memory a lookup of `hash` will read first (its table slot).
  void PrefetchSlot(uint32_t hash) const { __builtin_prefetch(&table_[SlotOf(hash)]); }
  // Starts loading the entry a lookup of `hash` will most likely compare with.
  void PrefetchEntry(uint32_t hash) const {
    const uint32_t id = PeekId(hash);
    if (id != kNoId) __builtin_prefetch(&entries_[id]);
  }
  // The id in the first slot a lookup of `hash` probes: the key's id most of the time,
  // but unverified (another key's id, or kNoId). Only for prefetching.
  uint32_t PeekId(uint32_t hash) const { return table_[SlotOf(hash)]; }
  // Start loading id's entry; then (once that has arrived) its key bytes. A caller
  // reading many keys issues the first for all of them, then the second, then reads,
  // so the cache misses overlap. REQUIRES: id is live.
  void PrefetchEntryOf(uint32_t id) const {
    SKIPTRAIL_DCHECK(live(id));
    __builtin_prefetch(&entries_[id]);
  }
  void PrefetchKeyOf(uint32_t id) const {
    SKIPTRAIL_DCHECK(live(id));
    __builtin_prefetch(Data(entries_[id]));
  }
  // REQUIRES: id is live.
  void Ref(uint32_t id) {
    SKIPTRAIL_DCHECK(live(id));
    ++entries_[id].refs;
  }
  // Drops one reference; frees the id when none is left. REQUIRES: id is referenced.
  void Unref(uint32_t id) {
    SKIPTRAIL_DCHECK(live(id) && entries_[id].refs > 0);
    if (--entries_[id].refs == 0) Free(id);
  }
  // Frees the id if nothing references it. REQUIRES: id is live.
  void DropIfUnused(uint32_t id) {
    SKIPTRAIL_DCHECK(live(id));
    if (entries_[id].refs == 0) Free(id);
  }

  // REQUIRES: id is live. The view stays valid until the id is freed.
  std::string_view View(uint32_t id) const {
    SKIPTRAIL_DCHECK(live(id));
    return {Data(entries_[id]), entries_[id].size};
  }
  // Byte-wise order of two live ids' keys (Buffer.compare's order).
  bool Less(uint32_t a, uint32_t b) const;

  // Ids freed since the log was last taken, oldest first; overflowed() when some are
  // missing.
  static constexpr size_t kMaxFreedLog = size_t{1} << 16;
  const std::vector<uint32_t>& freed_log() const { return freed_log_; }
  bool freed_log_overflowed() const { return freed_log_overflowed_; }
  void ClearFreedLog() {
    freed_log_.clear();
    freed_log_overflowed_ = false;
  }

  // REQUIRES: id < id_limit().
  bool exported(uint32_t id) const {
    SKIPTRAIL_DCHECK(id < id_limit());
    return (exported_[id >> 6] >> (id & 63)) & 1;
  }
  void set_exported(uint32_t id) {
    SKIPTRAIL_DCHECK(id < id_limit());
    exported_[id >> 6] |= uint64_t{1} << (id & 63);
  }

  uint32_t refs(uint32_t id) const { return entries_[id].refs; }
  bool live(uint32_t id) const { return id < entries_.size() && entries_[id].size != kFreeSize; }
  size_t size() const { return live_; }
  // One past the largest id ever handed out (ids are dense below it).
  uint32_t id_limit() const { return static_cast<uint32_t>(entries_.size()); }
  // Bytes held: the table, the entry array and every key's allocation.
  size_t memory_bytes() const;

  // Frees every id.
  void Clear();
  // Checks the table against the entries. Returns false on the first mismatch.
  bool Validate() const;

 private:
  // A key of at most kInlineBytes is stored in its entry; a longer one in its own
  // allocation, whose address the entry holds in its first 8 bytes.
  static constexpr uint32_t kInlineBytes = 20;
  static constexpr uint32_t kFreeSize = 0xFFFFFFFFu;  // size of a free id's entry
  struct Entry {
    uint32_t size;  // kFreeSize when the id is free
    uint32_t hash;
    uint32_t refs;
    char bytes[kInlineBytes];
  };
  static bool IsInline(const Entry& entry) { return entry.size <= kInlineBytes; }
  static char* HeapBytes(const Entry& entry) {
    char* heap;
    std::memcpy(&heap, entry.bytes, sizeof heap);
    return heap;
  }
  static const char* Data(const Entry& entry) { return IsInline(entry) ? entry.bytes : HeapBytes(entry); }
  static bool Matches(const Entry& entry, std::string_view key, uint32_t hash) {
    return entry.hash == hash && entry.size == key.size() && std::memcmp(Data(entry), key.data(), key.size()) == 0;
  }

  // Intern() past the home slot: probes on, creates the id if absent.
  uint32_t InternProbing(std::string_view key, uint32_t hash);
  void Free(uint32_t id);
  void Grow();
  size_t SlotOf(uint32_t hash) const { return hash & (table_.size() - 1); }

  std::vector<Entry> entries_;
  std::vector<uint32_t> free_ids_;
  std::vector<uint64_t> exported_;  // bit id: the exported flag; covers every id < id_limit()
  std::vector<uint32_t> table_;  // open addressing, linear probing; kNoId = empty
  std::vector<uint32_t> freed_log_;
  bool freed_log_overflowed_ = false;
  size_t live_ = 0;
  size_t key_bytes_ = 0;  // usable bytes of every key allocation (keys stored apart)
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_INTERNER_H_
