// SkipList: an ordered set of keys with O(log n) insert, erase, seek and reposition.
//
// A list is small (24 bytes) because an engine holds one per page and per user: the
// node storage, the order and the random source live in a Context shared by every
// list of one kind. The head is a bare array of links that grows with the tallest
// node, so an empty list owns no memory and a list of a few entries a few words.
//
// Two link modes, chosen per kind of list:
//   - Links::kForward: levels singly linked, as in LevelDB. Searches start at the
//     head, so work near the front is cheapest; Prev() and Last() are searches.
//     For short lists and rank-ordered lists whose new keys sort first.
//   - Links::kBoth: every level doubly linked, with a tail per level. Searches start
//     at the tail, so an insert at or near the end costs O(height), and Erase, Last
//     and Prev need no search at all. For long time-ordered lists whose new keys are
//     the newest (activity, presence): a head-first search would walk the whole,
//     cache-cold list on every update.
// The engine's lists all use kBoth today; both modes are checked against std::set by
// native/tests/skiplist-test.cc (scripts/native-tests.sh).
// Heights are geometric with p = 1/4 (Redis, LevelDB), capped at kMaxHeight, which
// serves lists of millions of entries.
//
// Thread safety: none. A list and its Context belong to one engine and one thread.
//
// Invariants (checked by Validate()):
//   1. On every level the nodes are in strictly increasing order of Compare.
//   2. A node of height h appears on levels 0 .. h-1 and no other.
//   3. Every level is a subsequence of level 0; level 0 holds size() nodes.
//   4. head_capacity_ >= height_ >= the height of every node; height_ == 0 iff empty.
//   5. A node is owned by exactly one list; its memory comes from the Context's pool.
//   6. kBoth: on every level the prev links mirror the next links, and the level's
//      tail is its last node.
#ifndef SKIPTRAIL_SKIPLIST_H_
#define SKIPTRAIL_SKIPLIST_H_

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "dcheck.h"
#include "node-pool.h"

namespace skiptrail {

enum class Links { kForward, kBoth };

// Key: trivially copyable and destructible, at most 8-byte aligned.
// Compare: `bool operator()(const Key& a, const Key& b) const` is true when a orders
// before b; a strict weak order under which the keys of one list are all distinct.
template <typename Key, typename Compare, Links kLinks = Links::kForward>
class SkipList {
  static_assert(std::is_trivially_copyable<Key>::value, "Key must be trivially copyable");
  static_assert(std::is_trivially_destructible<Key>::value, "Key must be trivially destructible");

 public:
  static constexpr int kMaxHeight = 12;
  static constexpr bool kDoubly = kLinks == Links::kBoth;

  class Node {
   public:
    Key key;
    uint8_t height() const { return height_; }
    // The next node in order, or nullptr.
    Node* next() const { return Words()[0]; }
    // The previous node in order, or nullptr. kBoth only.
    Node* prev() const {
      static_assert(kDoubly, "prev() needs Links::kBoth");
      return Words()[height_];
    }

   private:
    friend class SkipList;
    // The link words follow the node: next links at [0, height), then, with kBoth,
    // prev links at [height, 2 * height).
    Node** Words() { return reinterpret_cast<Node**>(reinterpret_cast<char*>(this) + sizeof(Node)); }
    Node* const* Words() const {
      return reinterpret_cast<Node* const*>(reinterpret_cast<const char*>(this) + sizeof(Node));
    }
    Node*& Next(int level) { return Words()[level]; }
    Node*& Prev(int level) { return Words()[height_ + level]; }
    uint8_t height_;
  };
  static_assert(alignof(Node) <= 8 && sizeof(Node) % alignof(Node*) == 0, "links follow the node");

  // What the lists of one kind share. Must outlive every list that uses it.
  class Context {
   public:
    explicit Context(Compare compare = Compare(), uint64_t seed = 0x9E3779B97F4A7C15ull)
        : compare_(compare), random_state_(seed | 1) {}
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    const Compare& compare() const { return compare_; }
    NodePool& pool() { return pool_; }
    size_t allocated_bytes() const { return pool_.allocated_bytes(); }

   private:
    friend class SkipList;
    // 1 + (number of low 2-bit groups that are zero): P(height > h) = 4^-h.
    int RandomHeight() {
      random_state_ ^= random_state_ >> 12;
      random_state_ ^= random_state_ << 25;
      random_state_ ^= random_state_ >> 27;
      uint64_t bits = (random_state_ * 0x2545F4914F6CDD1Dull) >> 32;
      int height = 1;
      while (height < kMaxHeight && (bits & 3) == 0) {
        ++height;
        bits >>= 2;
      }
      return height;
    }

    Compare compare_;
    NodePool pool_;
    uint64_t random_state_;
  };

  explicit SkipList(Context* context) : context_(context) {}
  SkipList(SkipList&& other) noexcept { MoveFrom(other); }
  SkipList& operator=(SkipList&& other) noexcept {
    if (this != &other) {
      Clear();
      MoveFrom(other);
    }
    return *this;
  }
  SkipList(const SkipList&) = delete;
  SkipList& operator=(const SkipList&) = delete;
  ~SkipList() { Clear(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // The first node in order, or nullptr. O(1).
  Node* First() const { return height_ == 0 ? nullptr : head_[0]; }
  // The last node in order, or nullptr. O(1) with kBoth, O(log n) otherwise.
  Node* Last() const;
  // The first node whose key does not order before `key`, or nullptr.
  Node* LowerBound(const Key& key) const;

  // Adds `key` and returns its node. REQUIRES: no key in the list compares equal.
  Node* Insert(const Key& key);
  // Removes and frees `node`. REQUIRES: node is in this list.
  void Erase(Node* node);
  // Gives `node` the key `key` and moves it to its place, keeping the node (no
  // allocation). REQUIRES: node is in this list; no other key compares equal to `key`.
  void Update(Node* node, const Key& key);
  // Removes and frees every node.
  void Clear();
  // Forgets every node without freeing it. Only for a Context whose pool is about to
  // be Reset().
  void Abandon() {
    head_ = nullptr;
    size_ = 0;
    height_ = head_capacity_ = 0;
  }

  // Walks every level and checks the invariants. Returns false on the first violation.
  bool Validate() const;

 private:
  static constexpr int kWordsPerLevel = kDoubly ? 2 : 1;
  static size_t NodeBytes(int height) { return sizeof(Node) + sizeof(Node*) * kWordsPerLevel * height; }
  static size_t HeadBytes(int capacity) { return sizeof(Node*) * kWordsPerLevel * capacity; }
  static int NodeClass(int height) { return height - 1; }
  static int HeadClass(int capacity) { return kMaxHeight + capacity - 1; }
  static_assert(2 * kMaxHeight <= NodePool::kMaxClasses, "pool classes for nodes and heads");

  // The link out of `node` (or out of the head when node is nullptr) on `level`.
  Node*& NextOf(Node* node, int level) const { return node != nullptr ? node->Next(level) : head_[level]; }
  // kBoth: the link into `node` (or into the tail when node is nullptr) on `level`.
  Node*& PrevOf(Node* node, int level) const {
    return node != nullptr ? node->Prev(level) : head_[head_capacity_ + level];
  }
  Node* Tail(int level) const { return head_[head_capacity_ + level]; }

  // Fills before[level] with the last node ordering before `key` on each level
  // (nullptr: the head), for levels 0 .. height_-1.
  void FindBefore(const Key& key, Node** before) const;
  // Links `node` in after before[level] on each of its levels.
  void LinkAfter(Node* node, Node* const* before);
  // Takes `node` out of every level it is on, without freeing it.
  void Unlink(Node* node);
  // Whether `node` is linked in behind its predecessor (for SKIPTRAIL_DCHECK): O(1)
  // with kBoth, a search otherwise.
  bool Holds(Node* node) const;
  // Whether the node after before[0] (the insert position of `key`) compares equal to
  // `key` (for SKIPTRAIL_DCHECK).
  bool EqualAt(Node* const* before, const Key& key) const {
    const Node* next = NextOf(before[0], 0);
    return next != nullptr && !context_->compare_(key, next->key);
  }
  void GrowHead(int height);
  void ShrinkHead();
  void MoveFrom(SkipList& other) {
    context_ = other.context_;
    head_ = other.head_;
    size_ = other.size_;
    height_ = other.height_;
    head_capacity_ = other.head_capacity_;
    other.Abandon();
  }

  Context* context_;
  // [0, head_capacity_): first node per level; kBoth: then [head_capacity_,
  // 2 * head_capacity_): last node per level.
  Node** head_ = nullptr;
  uint32_t size_ = 0;
  uint8_t height_ = 0;
  uint8_t head_capacity_ = 0;
};

// ---- implementation ----

template <typename Key, typename Compare, Links kLinks>
void SkipList<Key, Compare, kLinks>::FindBefore(const Key& key, Node** before) const {
  const Compare& less = context_->compare_;
  if constexpr (kDoubly) {
    // Mirror image of the forward search: walk left from the tail while nodes do
    // not order before `key`; `right` is the first node known not to.
    Node* right = nullptr;
    for (int level = height_ - 1; level >= 0; --level) {
      Node* node = right != nullptr ? right->Prev(level) : Tail(level);
      while (node != nullptr && !less(node->key, key)) {
        right = node;
        node = node->Prev(level);
      }
      before[level] = node;
    }
  } else {
    Node* node = nullptr;  // the head
    for (int level = height_ - 1; level >= 0; --level) {
      Node* next;
      while ((next = NextOf(node, level)) != nullptr && less(next->key, key)) node = next;
      before[level] = node;
    }
  }
}

template <typename Key, typename Compare, Links kLinks>
void SkipList<Key, Compare, kLinks>::LinkAfter(Node* node, Node* const* before) {
  for (int level = 0; level < node->height_; ++level) {
    Node*& out = NextOf(before[level], level);
    Node* next = out;
    node->Next(level) = next;
    out = node;
    if constexpr (kDoubly) {
      node->Prev(level) = before[level];
      PrevOf(next, level) = node;
    }
  }
}

template <typename Key, typename Compare, Links kLinks>
void SkipList<Key, Compare, kLinks>::Unlink(Node* node) {
  if constexpr (kDoubly) {
    for (int level = 0; level < node->height_; ++level) {
      Node* prev = node->Prev(level);
      Node* next = node->Next(level);
      NextOf(prev, level) = next;
      PrevOf(next, level) = prev;
    }
  } else {
    Node* before[kMaxHeight];
    FindBefore(node->key, before);
    for (int level = 0; level < node->height_; ++level) NextOf(before[level], level) = node->Next(level);
  }
}

template <typename Key, typename Compare, Links kLinks>
bool SkipList<Key, Compare, kLinks>::Holds(Node* node) const {
  if (node == nullptr || height_ == 0) return false;
  if constexpr (kDoubly) {
    return NextOf(node->Prev(0), 0) == node;
  } else {
    Node* before[kMaxHeight];
    FindBefore(node->key, before);
    return NextOf(before[0], 0) == node;
  }
}

template <typename Key, typename Compare, Links kLinks>
typename SkipList<Key, Compare, kLinks>::Node* SkipList<Key, Compare, kLinks>::Last() const {
  if (height_ == 0) return nullptr;
  if constexpr (kDoubly) {
    return Tail(0);
  } else {
    Node* last = nullptr;
    for (int level = height_ - 1; level >= 0; --level) {
      while (NextOf(last, level) != nullptr) last = NextOf(last, level);
    }
    return last;
  }
}

template <typename Key, typename Compare, Links kLinks>
typename SkipList<Key, Compare, kLinks>::Node* SkipList<Key, Compare, kLinks>::LowerBound(const Key& key) const {
  if (height_ == 0) return nullptr;
  Node* before[kMaxHeight];
  FindBefore(key, before);
  return NextOf(before[0], 0);
}

template <typename Key, typename Compare, Links kLinks>
typename SkipList<Key, Compare, kLinks>::Node* SkipList<Key, Compare, kLinks>::Insert(const Key& key) {
  const int height = context_->RandomHeight();
  if (height > head_capacity_) GrowHead(height);
  for (; height_ < height; ++height_) {
    head_[height_] = nullptr;
    if constexpr (kDoubly) head_[head_capacity_ + height_] = nullptr;
  }
  Node* before[kMaxHeight];
  FindBefore(key, before);
  SKIPTRAIL_DCHECK(!EqualAt(before, key));
  Node* node = static_cast<Node*>(context_->pool_.Allocate(NodeClass(height), NodeBytes(height)));
  node->key = key;
  node->height_ = static_cast<uint8_t>(height);
  LinkAfter(node, before);
  ++size_;
  return node;
}

template <typename Key, typename Compare, Links kLinks>
void SkipList<Key, Compare, kLinks>::Erase(Node* node) {
  SKIPTRAIL_DCHECK(Holds(node));
  Unlink(node);
  context_->pool_.Free(NodeClass(node->height_), node);
  --size_;
  ShrinkHead();
}

template <typename Key, typename Compare, Links kLinks>
void SkipList<Key, Compare, kLinks>::Update(Node* node, const Key& key) {
  SKIPTRAIL_DCHECK(Holds(node));
  Unlink(node);
  node->key = key;
  Node* before[kMaxHeight];
  FindBefore(key, before);
  SKIPTRAIL_DCHECK(!EqualAt(before, key));
  LinkAfter(node, before);
}

template <typename Key, typename Compare, Links kLinks>
void SkipList<Key, Compare, kLinks>::Clear() {
  if (head_ == nullptr) return;
  NodePool& pool = context_->pool_;
  Node* node = First();
  while (node != nullptr) {
    Node* next = node->Next(0);
    pool.Free(NodeClass(node->height_), node);
    node = next;
  }
  pool.Free(HeadClass(head_capacity_), head_);
  Abandon();
}

template <typename Key, typename Compare, Links kLinks>
void SkipList<Key, Compare, kLinks>::GrowHead(int capacity) {
  Node** head = static_cast<Node**>(context_->pool_.Allocate(HeadClass(capacity), HeadBytes(capacity)));
  for (int level = 0; level < height_; ++level) {
    head[level] = head_[level];
    if constexpr (kDoubly) head[capacity + level] = head_[head_capacity_ + level];
  }
  if (head_ != nullptr) context_->pool_.Free(HeadClass(head_capacity_), head_);
  head_ = head;
  head_capacity_ = static_cast<uint8_t>(capacity);
}

template <typename Key, typename Compare, Links kLinks>
void SkipList<Key, Compare, kLinks>::ShrinkHead() {
  while (height_ > 0 && head_[height_ - 1] == nullptr) --height_;
  if (height_ == 0) {
    context_->pool_.Free(HeadClass(head_capacity_), head_);
    head_ = nullptr;
    head_capacity_ = 0;
  }
}

template <typename Key, typename Compare, Links kLinks>
bool SkipList<Key, Compare, kLinks>::Validate() const {
  if (height_ > head_capacity_ || (height_ == 0) != (size_ == 0)) return false;
  if (height_ > 0 && head_[height_ - 1] == nullptr) return false;
  const Compare& less = context_->compare_;
  size_t count = 0;
  for (const Node* node = First(); node != nullptr; node = node->next()) {
    if (++count > size_) return false;
    if (node->height_ < 1 || node->height_ > height_) return false;
    const Node* next = node->next();
    if (next != nullptr && !less(node->key, next->key)) return false;
  }
  if (count != size_) return false;
  for (int level = 0; level < height_; ++level) {
    Node* below = First();
    Node* prev = nullptr;
    for (Node* node = head_[level]; node != nullptr; node = node->Next(level)) {
      if (node->height_ <= level) return false;
      while (below != nullptr && below != node) below = below->Next(0);
      if (below == nullptr) return false;  // not on level 0, or out of order
      if constexpr (kDoubly) {
        if (node->Prev(level) != prev) return false;
      }
      prev = node;
    }
    if constexpr (kDoubly) {
      if (Tail(level) != prev) return false;
    }
  }
  return true;
}

}  // namespace skiptrail

#endif  // SKIPTRAIL_SKIPLIST_H_
