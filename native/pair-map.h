// PairMap: (a, b) id pair -> node pointer, for finding a skiplist node by its two ids
// in O(1) (the hash half of Redis's "skiplist + dict" sorted set).
//
// The map stores no key: each slot is one word, the node pointer with 16 bits of the
// pair's hash in its unused top bits, and the pair is read back from the node through
// PairOf. A probe dereferences a node only when those 16 bits match.
//
// Thread safety: none.
//
// Invariants:
//   1. Open addressing with linear probing; a run has no empty slot between a member
//      and its home slot (kept by backward-shift deletion).
//   2. Load factor at most 3/4; capacity a power of two.
//   3. A node is in the map at most once; PairOf(node) does not change while it is.
#ifndef SKIPTRAIL_PAIR_MAP_H_
#define SKIPTRAIL_PAIR_MAP_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "dcheck.h"
#include "hash.h"

namespace skiptrail {

inline uint64_t PackPair(uint32_t a, uint32_t b) { return (static_cast<uint64_t>(a) << 32) | b; }

// PairOf: `uint64_t operator()(const Node*) const` giving the node's PackPair key.
template <typename Node, typename PairOf>
class PairMap {
 public:
  PairMap() : slots_(kInitialSlots, 0) {}

  // The node for `pair`, or nullptr.
  Node* Find(uint64_t pair) const {
    const uint64_t hash = Mix64(pair);
    const uint64_t tag = hash & kTagMask;
    const size_t mask = slots_.size() - 1;
    for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
      const uint64_t word = slots_[slot];
      if (word == 0) return nullptr;
      if ((word & kTagMask) == tag) {
        Node* node = reinterpret_cast<Node*>(word & kPointerMask);
        if (pair_of_(node) == pair) return node;
      }
    }
  }

  // REQUIRES: no node with the same pair is in the map.
  void Insert(Node* node) {
    SKIPTRAIL_DCHECK(Find(pair_of_(node)) == nullptr);
    if ((size_ + 1) * 4 > slots_.size() * 3) Rehash(slots_.size() * 2);
    Place(node);
    ++size_;
  }

  // REQUIRES: node is in the map.
  void Erase(const Node* node) {
    SKIPTRAIL_DCHECK(Find(pair_of_(node)) == node);
    const size_t mask = slots_.size() - 1;
    size_t hole = Home(pair_of_(node));
    while ((slots_[hole] & kPointerMask) != reinterpret_cast<uint64_t>(node)) hole = (hole + 1) & mask;
    for (size_t slot = (hole + 1) & mask; slots_[slot] != 0; slot = (slot + 1) & mask) {
      const size_t home = Home(pair_of_(reinterpret_cast<Node*>(slots_[slot] & kPointerMask)));
      const bool home_in_range = hole <= slot ? (hole < home && home <= slot) : (hole < home || home <= slot);
      if (!home_in_range) {
        slots_[hole] = slots_[slot];
        hole = slot;
      }
    }
    slots_[hole] = 0;
    --size_;
    if (slots_.size() > kInitialSlots && size_ * 16 < slots_.size()) Rehash(slots_.size() / 4);
  }

  size_t size() const { return size_; }
  size_t memory_bytes() const { return slots_.capacity() * sizeof(uint64_t); }
  void Clear() {
    slots_.assign(kInitialSlots, 0);
    slots_.shrink_to_fit();
    size_ = 0;
  }

 private:
  static constexpr size_t kInitialSlots = 16;
  static constexpr uint64_t kPointerMask = (uint64_t{1} << 48) - 1;
  static constexpr uint64_t kTagMask = ~kPointerMask;

  size_t Home(uint64_t pair) const { return Mix64(pair) & (slots_.size() - 1); }

  void Place(Node* node) {
    const uint64_t address = reinterpret_cast<uint64_t>(node);
    if ((address & kTagMask) != 0) std::abort();  // user-space pointers fit in 48 bits
    const uint64_t hash = Mix64(pair_of_(node));
    const size_t mask = slots_.size() - 1;
    size_t slot = hash & mask;
    while (slots_[slot] != 0) slot = (slot + 1) & mask;
    slots_[slot] = (hash & kTagMask) | address;
  }

  void Rehash(size_t capacity) {
    std::vector<uint64_t> old(capacity, 0);
    old.swap(slots_);
    for (uint64_t word : old) {
      if (word != 0) Place(reinterpret_cast<Node*>(word & kPointerMask));
    }
  }

  std::vector<uint64_t> slots_;
  size_t size_ = 0;
  PairOf pair_of_;
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_PAIR_MAP_H_
