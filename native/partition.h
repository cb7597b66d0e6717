// PartitionOf: which of `partitions` shards owns a user's views.
//
// The contract (a wire format, like Redis Cluster's keyHashSlot): the partition of a
// user is the 32-bit FNV-1a hash of the user's UTF-8 bytes, exactly as stored (no
// normalisation, no case folding), modulo the number of partitions:
//
//   h = 2166136261; for each byte b: h = (h ^ b) * 16777619 mod 2^32; partition = h % N
//
// It is the hash NATS's own partition() subject mapping uses. Publishers, shards,
// gateways and clients, in this library (src/partition.ts) or any other language, must
// compute it alike, so it never changes: a different function is a different cluster
// layout, and changing N moves most users (rebalancing replays the window into the new
// layout; docs/scaling.md).
//
// Thread safety: pure functions.
#ifndef SKIPTRAIL_PARTITION_H_
#define SKIPTRAIL_PARTITION_H_

#include <cstdint>
#include <string_view>

#include "dcheck.h"

namespace skiptrail {

constexpr uint32_t kFnv1aOffsetBasis = 2166136261u;
constexpr uint32_t kFnv1aPrime = 16777619u;
// The most partitions a cluster may have (the JS side checks the same bound).
constexpr uint32_t kMaxPartitions = 65536;

inline uint32_t Fnv1a32(std::string_view bytes) {
  uint32_t h = kFnv1aOffsetBasis;
  for (const char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * kFnv1aPrime;
  return h;
}

// REQUIRES: 1 <= partitions <= kMaxPartitions.
inline uint32_t PartitionOf(std::string_view user, uint32_t partitions) {
  SKIPTRAIL_DCHECK(partitions >= 1 && partitions <= kMaxPartitions);
  return Fnv1a32(user) % partitions;
}

}  // namespace skiptrail

#endif  // SKIPTRAIL_PARTITION_H_
