#include "crc32c.h"

#include <cstring>

#if defined(__x86_64__) && !defined(SKIPTRAIL_NO_SIMD)
#include <nmmintrin.h>
#define SKIPTRAIL_CRC32C_HW 1
#endif

namespace skiptrail {
namespace crc32c {

namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;

// tables[k][b]: the CRC of byte b followed by k zero bytes (slicing by 8).
struct Tables {
  uint32_t t[8][256];
  Tables() {
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t crc = b;
      for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (kPolynomial & (0u - (crc & 1u)));
      t[0][b] = crc;
    }
    for (uint32_t b = 0; b < 256; ++b) {
      for (int k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFF];
    }
  }
};

const Tables& GetTables() {
  static const Tables tables;
  return tables;
}

#ifdef SKIPTRAIL_CRC32C_HW
__attribute__((target("sse4.2"))) uint32_t ExtendHardware(uint32_t crc, const uint8_t* p, size_t size) {
  uint64_t state = ~crc;
  while (size > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    state = _mm_crc32_u8(static_cast<uint32_t>(state), *p++);
    --size;
  }
  while (size >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    state = _mm_crc32_u64(state, word);
    p += 8;
    size -= 8;
  }
  while (size > 0) {
    state = _mm_crc32_u8(static_cast<uint32_t>(state), *p++);
    --size;
  }
  return ~static_cast<uint32_t>(state);
}

bool HasHardware() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#endif

}  // namespace

uint32_t ExtendPortable(uint32_t crc, const void* data, size_t size) {
  const Tables& tables = GetTables();
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t state = ~crc;
  while (size >= 8) {
    uint32_t low, high;
    std::memcpy(&low, p, 4);
    std::memcpy(&high, p + 4, 4);
    low ^= state;  // little-endian: the first four bytes meet the state
    state = tables.t[7][low & 0xFF] ^ tables.t[6][(low >> 8) & 0xFF] ^ tables.t[5][(low >> 16) & 0xFF] ^
            tables.t[4][low >> 24] ^ tables.t[3][high & 0xFF] ^ tables.t[2][(high >> 8) & 0xFF] ^
            tables.t[1][(high >> 16) & 0xFF] ^ tables.t[0][high >> 24];
    p += 8;
    size -= 8;
  }
  while (size > 0) {
    state = (state >> 8) ^ tables.t[0][(state ^ *p++) & 0xFF];
    --size;
  }
  return ~state;
}

uint32_t Extend(uint32_t crc, const void* data, size_t size) {
#ifdef SKIPTRAIL_CRC32C_HW
  if (HasHardware()) return ExtendHardware(crc, static_cast<const uint8_t*>(data), size);
#endif
  return ExtendPortable(crc, data, size);
}

}  // namespace crc32c
}  // namespace skiptrail
