// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of iSCSI, ext4
// and LevelDB's log format: a snapshot's sections and whole file are checked with it.
//
// Extend(crc, data, size) continues a checksum: Extend(Extend(0, a), b) equals the
// checksum of a followed by b. Value(data, size) = Extend(0, data, size).
// Known answer: Value("123456789", 9) == 0xE3069283.
//
// On x86-64 CPUs with SSE4.2 the crc32 instruction is used (chosen once, at first
// use); elsewhere a table-driven loop (slicing by 8). Thread safety: pure functions.
#ifndef SKIPTRAIL_CRC32C_H_
#define SKIPTRAIL_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace skiptrail {
namespace crc32c {

uint32_t Extend(uint32_t crc, const void* data, size_t size);
inline uint32_t Value(const void* data, size_t size) { return Extend(0, data, size); }

// The portable path alone, so tests can check both paths agree.
uint32_t ExtendPortable(uint32_t crc, const void* data, size_t size);

}  // namespace crc32c
}  // namespace skiptrail

#endif  // SKIPTRAIL_CRC32C_H_
