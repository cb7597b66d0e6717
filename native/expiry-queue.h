// ExpiryQueue: items with a time, handed back oldest first, for expiry that is checked
// lazily when an item is popped rather than kept exact on every update.
//
// The user of the queue decides, when it pops an item, whether the thing it names has
// really expired (it may have been updated since): if not, it pushes it again at its
// new time. So an update costs nothing, where a sorted structure would move a node.
// Items almost always arrive in time order: those go to a FIFO array; the ones that
// arrive older than the FIFO's newest (late events, re-queued items) go to a min-heap
// beside it. Oldest() looks at both heads.
//
// Item: trivially copyable with an `int64_t ts` member.
//
// Thread safety: none.
//
// Invariants (checked by Validate()):
//   1. fifo_[head_ ..] is in non-decreasing ts order.
//   2. late_ is a min-heap by ts.
#ifndef SKIPTRAIL_EXPIRY_QUEUE_H_
#define SKIPTRAIL_EXPIRY_QUEUE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace skiptrail {

template <typename Item>
class ExpiryQueue {
 public:
  static constexpr size_t kSlack = 64;

  // Popped room is reclaimed once it passes `slack` items (and half the FIFO), and an
  // array whose capacity passes four times its items plus `slack` is shrunk.
  explicit ExpiryQueue(size_t slack = kSlack) : slack_(slack) {}

  void Push(const Item& item) {
    if (head_ == fifo_.size() || item.ts >= fifo_.back().ts) {
      fifo_.push_back(item);
    } else {
      late_.push_back(item);
      std::push_heap(late_.begin(), late_.end(), OldestOnTop);
    }
  }

  // The oldest item, or nullptr when empty. Valid until the next non-const call.
  const Item* Oldest() const {
    const Item* oldest = head_ < fifo_.size() ? &fifo_[head_] : nullptr;
    if (!late_.empty() && (oldest == nullptr || late_.front().ts < oldest->ts)) oldest = &late_.front();
    return oldest;
  }

  // Removes the item Oldest() returns. REQUIRES: !empty().
  void PopOldest() {
    if (!late_.empty() && Oldest() == late_.data()) {
      std::pop_heap(late_.begin(), late_.end(), OldestOnTop);
      late_.pop_back();
      if (late_.capacity() > 4 * late_.size() + slack_) late_.shrink_to_fit();
      return;
    }
    ++head_;
    if (head_ == fifo_.size()) {
      fifo_.clear();
      head_ = 0;
    } else if (head_ >= slack_ && head_ * 2 >= fifo_.size()) {
      // Reclaim the popped half (amortized O(1) per pop).
      fifo_.erase(fifo_.begin(), fifo_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
      if (fifo_.capacity() > 4 * fifo_.size() + slack_) fifo_.shrink_to_fit();
    }
  }

  // Calls visit(item) for every item, in no particular order.
  template <typename Visit>
  void ForEach(Visit visit) const {
    for (size_t i = head_; i < fifo_.size(); ++i) visit(fifo_[i]);
    for (const Item& item : late_) visit(item);
  }

  size_t size() const { return fifo_.size() - head_ + late_.size(); }
  bool empty() const { return size() == 0; }
  size_t memory_bytes() const { return (fifo_.capacity() + late_.capacity()) * sizeof(Item); }
  void Clear() {
    std::vector<Item>().swap(fifo_);
    std::vector<Item>().swap(late_);
    head_ = 0;
  }
  bool Validate() const {
    for (size_t i = head_ + 1; i < fifo_.size(); ++i) {
      if (fifo_[i - 1].ts > fifo_[i].ts) return false;
    }
    return std::is_heap(late_.begin(), late_.end(), OldestOnTop);
  }

 private:
  static bool OldestOnTop(const Item& a, const Item& b) { return a.ts > b.ts; }

  size_t slack_;
  std::vector<Item> fifo_;  // in time order from head_
  size_t head_ = 0;
  std::vector<Item> late_;  // min-heap by ts: items older than the FIFO's newest on arrival
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_EXPIRY_QUEUE_H_
