// SkipList: an ordered set of keys with O(log n) insert, erase, seek and reposition.
//
// A list is small (24 bytes) because an engine holds one per page and per user: the
// node storage, the order and the random source live in a Context shared by every
// list of one kind. The head is a bare array of links that grows with the tallest
// node, so an empty list owns no memory and a list of a few entries a few words.
//
// Levels are singly linked, as in LevelDB: Prev() and Last() are searches, not
// pointer hops. Heights are geometric with p = 1/4 (Redis, LevelDB), capped at
// kMaxHeight, which serves lists of millions of entries.
//
// Thread safety: none. A list and its Context belong to one engine and one thread.
//
// Invariants (checked by Validate()):
//   1. On every level the nodes are in strictly increasing order of Compare.
//   2. A node of height h appears on levels 0 .. h-1 and no other.
//   3. Every level is a subsequence of level 0; level 0 holds size() nodes.
//   4. head_capacity_ >= height_ >= the height of every node; height_ == 0 iff empty.
//   5. A node is owned by exactly one list; its memory comes from the Context's pool.
#ifndef SKIPTRAIL_SKIPLIST_H_
#define SKIPTRAIL_SKIPLIST_H_

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "node-pool.h"

namespace skiptrail {

// Key: trivially copyable and destructible, at most 8-byte aligned.
// Compare: `bool operator()(const Key& a, const Key& b) const` is true when a orders
// before b; a strict weak order under which the keys of one list are all distinct.
template <typename Key, typename Compare>
class SkipList {
  static_assert(std::is_trivially_copyable<Key>::value, "Key must be trivially copyable");
  static_assert(std::is_trivially_destructible<Key>::value, "Key must be trivially destructible");

 public:
  static constexpr int kMaxHeight = 12;

  class Node {
   public:
    Key key;
    uint8_t height() const { return height_; }
    Node* next() const { return Links()[0]; }

   private:
    friend class SkipList;
    Node** Links() { return reinterpret_cast<Node**>(reinterpret_cast<char*>(this) + sizeof(Node)); }
    Node* const* Links() const {
      return reinterpret_cast<Node* const*>(reinterpret_cast<const char*>(this) + sizeof(Node));
    }
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
    // 1 + (number of leading 2-bit groups that are zero): P(height > h) = 4^-h.
    int RandomHeight() {
      random_state_ ^= random_state_ >> 12;
      random_state_ ^= random_state_ << 25;
      random_state_ ^= random_state_ >> 27;
      uint64_t bits = random_state_ * 0x2545F4914F6CDD1Dull;
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
  // The last node in order, or nullptr. O(log n).
  Node* Last() const;
  // The node before `node` in order, or nullptr. O(log n). REQUIRES: node is in this list.
  Node* Prev(const Node* node) const;
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

  // Walks every level and checks invariants 1-4. Returns false on the first violation.
  bool Validate() const;

 private:
  using LinkSlot = Node**;  // the address of a link: head_[i] or node->Links()[i]

  static size_t NodeBytes(int height) { return sizeof(Node) + sizeof(Node*) * height; }
  static int NodeClass(int height) { return height - 1; }
  static int HeadClass(int height) { return kMaxHeight + height - 1; }
  static_assert(2 * kMaxHeight <= NodePool::kMaxClasses, "pool classes for nodes and heads");

  // Fills slots[0 .. height_-1] with the link, on each level, that points at the first
  // node not ordering before `key`.
  void FindSlots(const Key& key, LinkSlot* slots) const;
  void LinkAt(Node* node, LinkSlot* slots) {
    Node** links = node->Links();
    for (int level = 0; level < node->height_; ++level) {
      links[level] = *slots[level];
      *slots[level] = node;
    }
  }
  void Unlink(Node* node, LinkSlot* slots) {
    Node** links = node->Links();
    for (int level = 0; level < node->height_; ++level) *slots[level] = links[level];
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
  Node** head_ = nullptr;
  uint32_t size_ = 0;
  uint8_t height_ = 0;
  uint8_t head_capacity_ = 0;
};

// ---- implementation ----

template <typename Key, typename Compare>
void SkipList<Key, Compare>::FindSlots(const Key& key, LinkSlot* slots) const {
  const Compare& before = context_->compare_;
  Node** links = head_;
  for (int level = height_ - 1; level >= 0; --level) {
    Node* next;
    while ((next = links[level]) != nullptr && before(next->key, key)) links = next->Links();
    slots[level] = &links[level];
  }
}

template <typename Key, typename Compare>
typename SkipList<Key, Compare>::Node* SkipList<Key, Compare>::Last() const {
  Node* last = nullptr;
  Node* const* links = head_;
  for (int level = height_ - 1; level >= 0; --level) {
    while (links[level] != nullptr) {
      last = links[level];
      links = last->Links();
    }
  }
  return last;
}

template <typename Key, typename Compare>
typename SkipList<Key, Compare>::Node* SkipList<Key, Compare>::Prev(const Node* node) const {
  const Compare& before = context_->compare_;
  Node* prev = nullptr;
  Node* const* links = head_;
  for (int level = height_ - 1; level >= 0; --level) {
    Node* next;
    while ((next = links[level]) != nullptr && before(next->key, node->key)) {
      prev = next;
      links = next->Links();
    }
  }
  return prev;
}

template <typename Key, typename Compare>
typename SkipList<Key, Compare>::Node* SkipList<Key, Compare>::LowerBound(const Key& key) const {
  if (height_ == 0) return nullptr;
  LinkSlot slots[kMaxHeight];
  FindSlots(key, slots);
  return *slots[0];
}

template <typename Key, typename Compare>
typename SkipList<Key, Compare>::Node* SkipList<Key, Compare>::Insert(const Key& key) {
  int height = context_->RandomHeight();
  if (height > head_capacity_) GrowHead(height);
  if (height > height_) {
    for (int level = height_; level < height; ++level) head_[level] = nullptr;
    height_ = static_cast<uint8_t>(height);
  }
  LinkSlot slots[kMaxHeight];
  FindSlots(key, slots);
  void* memory = context_->pool_.Allocate(NodeClass(height), NodeBytes(height));
  Node* node = static_cast<Node*>(memory);
  node->key = key;
  node->height_ = static_cast<uint8_t>(height);
  LinkAt(node, slots);
  ++size_;
  return node;
}

template <typename Key, typename Compare>
void SkipList<Key, Compare>::Erase(Node* node) {
  LinkSlot slots[kMaxHeight];
  FindSlots(node->key, slots);
  Unlink(node, slots);
  context_->pool_.Free(NodeClass(node->height_), node);
  --size_;
  ShrinkHead();
}

template <typename Key, typename Compare>
void SkipList<Key, Compare>::Update(Node* node, const Key& key) {
  LinkSlot slots[kMaxHeight];
  FindSlots(node->key, slots);
  Unlink(node, slots);
  node->key = key;
  FindSlots(key, slots);
  LinkAt(node, slots);
}

template <typename Key, typename Compare>
void SkipList<Key, Compare>::Clear() {
  if (head_ == nullptr) return;
  NodePool& pool = context_->pool_;
  Node* node = height_ == 0 ? nullptr : head_[0];
  while (node != nullptr) {
    Node* next = node->Links()[0];
    pool.Free(NodeClass(node->height_), node);
    node = next;
  }
  pool.Free(HeadClass(head_capacity_), head_);
  Abandon();
}

template <typename Key, typename Compare>
void SkipList<Key, Compare>::GrowHead(int height) {
  void* memory = context_->pool_.Allocate(HeadClass(height), sizeof(Node*) * height);
  Node** head = static_cast<Node**>(memory);
  for (int level = 0; level < height_; ++level) head[level] = head_[level];
  if (head_ != nullptr) context_->pool_.Free(HeadClass(head_capacity_), head_);
  head_ = head;
  head_capacity_ = static_cast<uint8_t>(height);
}

template <typename Key, typename Compare>
void SkipList<Key, Compare>::ShrinkHead() {
  while (height_ > 0 && head_[height_ - 1] == nullptr) --height_;
  if (height_ == 0) {
    context_->pool_.Free(HeadClass(head_capacity_), head_);
    head_ = nullptr;
    head_capacity_ = 0;
  }
}

template <typename Key, typename Compare>
bool SkipList<Key, Compare>::Validate() const {
  if (height_ > head_capacity_ || (height_ == 0) != (size_ == 0)) return false;
  if (height_ > 0 && head_[height_ - 1] == nullptr) return false;
  const Compare& before = context_->compare_;
  size_t count = 0;
  for (const Node* node = First(); node != nullptr; node = node->Links()[0]) {
    if (++count > size_) return false;
    if (node->height_ < 1 || node->height_ > height_) return false;
    const Node* next = node->Links()[0];
    if (next != nullptr && !before(node->key, next->key)) return false;
  }
  if (count != size_) return false;
  for (int level = 1; level < height_; ++level) {
    const Node* below = First();
    for (const Node* node = head_[level]; node != nullptr; node = node->Links()[level]) {
      if (node->height_ <= level) return false;
      while (below != nullptr && below != node) below = below->Links()[0];
      if (below == nullptr) return false;  // not on level 0, or out of order
    }
  }
  return true;
}

}  // namespace skiptrail

#endif  // SKIPTRAIL_SKIPLIST_H_
