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

inline uint64_t Load64(const char* data) {
  uint64_t word;
  std::memcpy(&word, data, 8);
  return word;
}

inline uint64_t Load32(const char* data) {
  uint32_t word;
  std::memcpy(&word, data, 4);
  return word;
}

#if defined(__SIZEOF_INT128__)
// The folded 128-bit product: every output bit depends on every input bit.
inline uint64_t MultiplyFold(uint64_t a, uint64_t b) {
  const __uint128_t product = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

// Hashes `size` bytes: sixteen at a time through one folded 128-bit multiply, the last
// 1 to 16 with fixed-size loads that may overlap (no byte loop, no memcpy call), as
// wyhash does. Keys here are mostly 8 to 40 bytes: two or three multiplies.
inline uint64_t HashBytes(const char* data, size_t size) {
  constexpr uint64_t kA = 0xA0761D6478BD642Full, kB = 0xE7037ED1A0B428DBull;
  uint64_t seed = 0x243F6A8885A308D3ull ^ (size * 0x9E3779B97F4A7C15ull);
  uint64_t a = 0, b = 0;
  if (size <= 16) {
    if (size >= 8) {
      a = Load64(data);
      b = Load64(data + size - 8);
    } else if (size >= 4) {
      a = Load32(data);
      b = Load32(data + size - 4);
    } else if (size > 0) {
      a = (uint64_t{static_cast<unsigned char>(data[0])} << 16) |
          (uint64_t{static_cast<unsigned char>(data[size / 2])} << 8) | static_cast<unsigned char>(data[size - 1]);
    }
  } else {
    size_t left = size;
    const char* cursor = data;
    while (left > 16) {
      seed = MultiplyFold(Load64(cursor) ^ kA, Load64(cursor + 8) ^ seed);
      cursor += 16;
      left -= 16;
    }
    a = Load64(data + size - 16);
    b = Load64(data + size - 8);
  }
  return MultiplyFold(kA ^ size, MultiplyFold(a ^ kA, b ^ seed) ^ kB);
}
#else
// Hashes `size` bytes, eight at a time (no 128-bit multiply on this compiler).
inline uint64_t HashBytes(const char* data, size_t size) {
  uint64_t h = 0x243F6A8885A308D3ull ^ (size * 0x9E3779B97F4A7C15ull);
  while (size >= 8) {
    h = (h ^ Mix64(Load64(data))) * 0x9E3779B97F4A7C15ull;
    data += 8;
    size -= 8;
  }
  uint64_t tail = 0;
  if (size > 0) std::memcpy(&tail, data, size);
  return Mix64(h ^ tail ^ (static_cast<uint64_t>(size) << 59));
}
#endif

}  // namespace skiptrail

#endif  // SKIPTRAIL_HASH_H_
