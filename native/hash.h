// Fast non-cryptographic hashing for short keys and id pairs. The seed is fixed:
// nothing here defends against chosen collisions (keys come from the site's own logs;
// a hostile key set degrades lookups to linear probing, never breaks correctness).
#ifndef SKIPTRAIL_HASH_H_
#define SKIPTRAIL_HASH_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace skiptrail {

inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  return x;
}

// Hashes `size` bytes, eight at a time.
inline uint64_t HashBytes(const char* data, size_t size) {
  uint64_t h = 0x243F6A8885A308D3ull ^ (size * 0x9E3779B97F4A7C15ull);
  while (size >= 8) {
    uint64_t word;
    std::memcpy(&word, data, 8);
    h = (h ^ Mix64(word)) * 0x9E3779B97F4A7C15ull;
    data += 8;
    size -= 8;
  }
  uint64_t tail = 0;
  if (size > 0) std::memcpy(&tail, data, size);
  return Mix64(h ^ tail ^ (static_cast<uint64_t>(size) << 59));
}

}  // namespace skiptrail

#endif  // SKIPTRAIL_HASH_H_
