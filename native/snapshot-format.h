// The snapshot file format, shared by the writer (snapshot-writer.h) and the reader
// (snapshot-reader.h), as LevelDB's log_format.h is by its log writer and reader.
//
// A snapshot holds an index's logical content, not its memory: the keys, every Q1 and
// Q2 entry, presence, the clock and the counters, and the facade's options and its own
// state (source positions, clock) as JSON. A change of the engine's internal layout does not change it.
//
// File = Header | Section* | Trailer, all integers little-endian:
//
//   Header (kHeaderSize = 40 bytes)
//     0  magic[8]        kMagic: "\x89STRAIL\n" (the high byte and the newline catch
//                        7-bit and text-mode transfers, as PNG's signature does)
//     8  u32 version     kVersion; a reader refuses any other
//    12  u32 sections    how many sections follow
//    16  i64 created_at  ms since the Unix epoch, as the writer's caller gave it
//    24  u64 file_size   the whole file's length, trailer included
//    32  u32 reserved    0
//    36  u32 header_crc  CRC-32C of bytes 0 .. 36
//   Section (kFrameSize = 16 bytes, then the payload)
//     0  u32 tag         a SectionTag; tags are never reused for another meaning
//     4  u32 crc         CRC-32C of the payload
//     8  u64 length      payload bytes
//   Trailer (kTrailerSize = 8 bytes)
//     0  u32 file_crc    CRC-32C of every byte before it
//     4  u32 end_magic   kEndMagic
//
// Payloads are sequences of unsigned LEB128 varints (at most 10 bytes each) and raw
// bytes; "zigzag" maps a signed difference to an unsigned varint. Within a version,
// a reader skips sections whose tag it does not know; a required one missing is an
// error. Section payloads, by tag:
//
//   kMeta       has_watermark (0/1), watermark (varint), has_presence_clock (0/1),
//               presence_clock (zigzag), events, late, evicted
//   kOptions    JSON text: the facade's resolved options (opaque to C++)
//   kFacade     JSON text: the facade's own state (opaque to C++): the positions of
//               the sources that fed the index, and the 'stream' clock's lead
//   kUserKeys,  count, then count x (length, bytes): key i has file id i. Only keys
//   kPageKeys   that some entry mentions are written. 1 <= length <= 65535.
//   kPageIndex  owner_count, then per owner (a page file id): entry_count, then the
//               entries lowest-ranked first as (member file id, ts zigzag delta from
//               the previous entry's ts, the first from 0)
//   kUserIndex  the same shape with users as owners and pages as members
//   kPresence   count, then per present user, by ts: user file id, page file id,
//               ts zigzag delta from the previous one
//
// Thread safety: constants and pure functions only.
#ifndef SKIPTRAIL_SNAPSHOT_FORMAT_H_
#define SKIPTRAIL_SNAPSHOT_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include "hash.h"

namespace skiptrail {
namespace snapshot {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the snapshot code assumes a little-endian machine");

constexpr char kMagic[8] = {'\x89', 'S', 'T', 'R', 'A', 'I', 'L', '\n'};
constexpr uint32_t kEndMagic = 0x444E4553u;  // "SEND" read as little-endian bytes
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 40;
constexpr size_t kHeaderCrcOffset = 36;
constexpr size_t kFrameSize = 16;
constexpr size_t kTrailerSize = 8;
constexpr size_t kMaxKeyBytes = 65535;

enum SectionTag : uint32_t {
  // 0 is never a tag (a zeroed frame is recognised as damage).
  kMeta = 1,
  kOptions = 2,
  kFacade = 3,
  kUserKeys = 4,
  kPageKeys = 5,
  kPageIndex = 6,
  kUserIndex = 7,
  kPresence = 8,
};

// A name for messages ("the page index section").
const char* SectionName(uint32_t tag);

// What went wrong reading a file; the facade turns it into SnapshotError.code.
enum class ErrorCode {
  kNone,
  kNotSnapshot,  // ENOTSNAPSHOT: not a snapshot at all (wrong magic)
  kChecksum,     // ECHECKSUM: damaged: a checksum mismatch, or malformed content
  kVersion,      // EVERSION: a format version this reader does not read
  kTruncated,    // ETRUNCATED: shorter than its header says (cut while copying, disk full)
};
const char* ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kNone;
  std::string message;
  bool ok() const { return code == ErrorCode::kNone; }
};

inline uint64_t ZigZag(int64_t value) {
  return (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
}
inline int64_t UnZigZag(uint64_t value) {
  return static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1);
}

inline void PutFixed32(char* out, uint32_t value) { std::memcpy(out, &value, 4); }
inline void PutFixed64(char* out, uint64_t value) { std::memcpy(out, &value, 8); }
// Little-endian loads: the unaligned loads the key hash uses (hash.h).
inline uint32_t GetFixed32(const char* in) { return static_cast<uint32_t>(Load32(in)); }
inline uint64_t GetFixed64(const char* in) { return Load64(in); }

// Appends varints and bytes to a string that the caller owns.
class Encoder {
 public:
  explicit Encoder(std::string* out) : out_(out) {}
  void Varint(uint64_t value) {
    char buffer[10];
    size_t n = 0;
    while (value >= 0x80) {
      buffer[n++] = static_cast<char>(value | 0x80);
      value >>= 7;
    }
    buffer[n++] = static_cast<char>(value);
    out_->append(buffer, n);
  }
  void Bytes(const char* data, size_t size) { out_->append(data, size); }

 private:
  std::string* out_;
};

// Reads varints and bytes from [data, data + size) that the caller keeps alive. Never
// reads past the end: a read that would sets failed() and returns 0 / nullptr, and
// every later read fails too, so a caller may check once after a group of reads.
class Decoder {
 public:
  Decoder(const char* data, size_t size) : cursor_(data), end_(data + size) {}
  uint64_t Varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64 && cursor_ < end_; shift += 7) {
      const auto byte = static_cast<uint8_t>(*cursor_++);
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if (byte < 0x80) return value;
    }
    failed_ = true;
    cursor_ = end_;
    return 0;
  }
  // A view of the next `size` bytes, or nullptr.
  const char* Bytes(size_t size) {
    if (failed_ || static_cast<size_t>(end_ - cursor_) < size) {
      failed_ = true;
      cursor_ = end_;
      return nullptr;
    }
    const char* start = cursor_;
    cursor_ += size;
    return start;
  }
  bool failed() const { return failed_; }
  bool done() const { return cursor_ == end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - cursor_); }

 private:
  const char* cursor_;
  const char* end_;
  bool failed_ = false;
};

}  // namespace snapshot
}  // namespace skiptrail

#endif  // SKIPTRAIL_SNAPSHOT_FORMAT_H_
