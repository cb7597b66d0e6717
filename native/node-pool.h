// NodePool: fixed-size blocks in a few size classes, carved from chunks and reused
// through per-class free lists.
//
// Skiplist nodes have one of kMaxClasses sizes (one per height), the ranked indexes'
// small arrays one per capacity step, and entries are created and evicted all the time, so a never-free arena (LevelDB's) would grow
// without bound. A freed block goes on its class's intrusive free list and is handed
// out again before any new chunk memory. Chunks are returned to the system only by
// Reset() or the destructor.
//
// Thread safety: none; a pool belongs to one engine, used from one thread.
//
// Invariants:
//   1. Every block handed out is 8-byte aligned and lies inside one chunk.
//   2. A block is either handed out or on exactly one free list, never both.
//   3. allocated_bytes() is the sum of the chunk sizes obtained from the system.
#ifndef SKIPTRAIL_NODE_POOL_H_
#define SKIPTRAIL_NODE_POOL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "dcheck.h"

namespace skiptrail {

class NodePool {
 public:
  static constexpr int kMaxClasses = 32;

  NodePool() = default;
  NodePool(const NodePool&) = delete;
  NodePool& operator=(const NodePool&) = delete;

  // Returns a block of `bytes` bytes (a multiple of 8, at most kMaxBlockBytes) for
  // size class `size_class` (0 .. kMaxClasses-1). REQUIRES: a class is always used
  // with the same byte size.
  void* Allocate(int size_class, size_t bytes) {
    SKIPTRAIL_DCHECK(size_class >= 0 && size_class < kMaxClasses && bytes % 8 == 0 && bytes > 0);
    if constexpr (kDchecksOn) {
      SKIPTRAIL_DCHECK(class_bytes_[size_class] == 0 || class_bytes_[size_class] == bytes);
      class_bytes_[size_class] = bytes;
    }
    FreeBlock* block = free_[size_class];
    if (block != nullptr) {
      free_[size_class] = block->next;
      return block;
    }
    if (static_cast<size_t>(end_ - cursor_) < bytes) NewChunk(bytes);
    void* result = cursor_;
    cursor_ += bytes;
    return result;
  }

  // REQUIRES: `block` came from Allocate(size_class, ...) of this pool and is not
  // already free.
  void Free(int size_class, void* block) {
    SKIPTRAIL_DCHECK(size_class >= 0 && size_class < kMaxClasses && block != nullptr && block != free_[size_class]);
    FreeBlock* freed = static_cast<FreeBlock*>(block);
    freed->next = free_[size_class];
    free_[size_class] = freed;
  }

  // Releases every chunk. REQUIRES: no block is used afterwards.
  void Reset() {
    chunks_.clear();
    chunks_.shrink_to_fit();
    for (FreeBlock*& head : free_) head = nullptr;
    cursor_ = end_ = nullptr;
    allocated_bytes_ = 0;
    next_chunk_bytes_ = kFirstChunkBytes;
  }

  size_t allocated_bytes() const { return allocated_bytes_ + chunks_.capacity() * sizeof(chunks_[0]); }

 private:
  struct FreeBlock {
    FreeBlock* next;
  };
  static constexpr size_t kFirstChunkBytes = 4 * 1024;
  static constexpr size_t kMaxChunkBytes = 256 * 1024;

  void NewChunk(size_t at_least) {
    size_t bytes = next_chunk_bytes_;
    while (bytes < at_least) bytes *= 2;
    if (next_chunk_bytes_ < kMaxChunkBytes) next_chunk_bytes_ *= 2;
    // The tail of the previous chunk (smaller than one block) is abandoned.
    chunks_.emplace_back(new uint64_t[bytes / sizeof(uint64_t)]);
    cursor_ = reinterpret_cast<char*>(chunks_.back().get());
    end_ = cursor_ + bytes;
    allocated_bytes_ += bytes;
  }

  FreeBlock* free_[kMaxClasses] = {};
  char* cursor_ = nullptr;
  char* end_ = nullptr;
  std::vector<std::unique_ptr<uint64_t[]>> chunks_;
  size_t allocated_bytes_ = 0;
  size_t next_chunk_bytes_ = kFirstChunkBytes;
  size_t class_bytes_[kMaxClasses] = {};  // with SKIPTRAIL_DCHECKS: each class's block size
};

}  // namespace skiptrail

#endif  // SKIPTRAIL_NODE_POOL_H_
