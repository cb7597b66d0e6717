#include "snapshot-reader.h"

#include <limits>
#include <string>
#include <vector>

#include "crc32c.h"
#include "dcheck.h"

namespace skiptrail {
namespace snapshot {

const char* SectionName(uint32_t tag) {
  switch (tag) {
    case kMeta: return "meta";
    case kOptions: return "options";
    case kFacade: return "facade state";
    case kUserKeys: return "user keys";
    case kPageKeys: return "page keys";
    case kPageIndex: return "page index";
    case kUserIndex: return "user index";
    case kPresence: return "presence";
    default: return "unknown";
  }
}

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNone: return "";
    case ErrorCode::kNotSnapshot: return "ENOTSNAPSHOT";
    case ErrorCode::kChecksum: return "ECHECKSUM";
    case ErrorCode::kVersion: return "EVERSION";
    case ErrorCode::kTruncated: return "ETRUNCATED";
  }
  return "ECHECKSUM";
}

namespace {

// Times a snapshot may hold: what the facade accepts (safe integers), with room for a
// presence clock below zero.
constexpr int64_t kMaxSafe = (int64_t{1} << 53) - 1;
constexpr int64_t kNoClock = std::numeric_limits<int64_t>::min();

Error Fail(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

Error Malformed(uint32_t tag, const std::string& what) {
  return Fail(ErrorCode::kChecksum,
              std::string("the ") + SectionName(tag) + " section is malformed (" + what + ") although its checksum matches");
}

// Reads a key section; interns and holds (Ref) every key; file id -> engine id.
Error ReadKeys(std::string_view payload, uint32_t tag, Interner* keys, std::vector<uint32_t>* ids) {
  Decoder in(payload.data(), payload.size());
  const uint64_t count = in.Varint();
  // Each key takes at least two bytes: a bound before reserving anything.
  if (in.failed() || count > in.remaining() / 2 || count >= Interner::kNoId) return Malformed(tag, "bad key count");
  ids->reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t length = in.Varint();
    if (in.failed() || length == 0 || length > kMaxKeyBytes) return Malformed(tag, "bad key length");
    const char* bytes = in.Bytes(length);
    if (bytes == nullptr) return Malformed(tag, "key runs past the section");
    const uint32_t id = keys->Intern(std::string_view(bytes, length));
    keys->Ref(id);
    ids->push_back(id);
  }
  if (!in.done()) return Malformed(tag, "bytes after the last key");
  return Error{};
}

template <typename Add>
Error ReadIndex(std::string_view payload, uint32_t tag, const std::vector<uint32_t>& owner_ids,
                const std::vector<uint32_t>& member_ids, uint32_t cap, Add add) {
  Decoder in(payload.data(), payload.size());
  const uint64_t owners = in.Varint();
  if (in.failed() || owners > owner_ids.size()) return Malformed(tag, "bad owner count");
  std::vector<bool> seen(owner_ids.size(), false);
  for (uint64_t o = 0; o < owners; ++o) {
    const uint64_t owner = in.Varint();
    const uint64_t count = in.Varint();
    if (in.failed() || owner >= owner_ids.size() || seen[owner]) return Malformed(tag, "bad owner");
    if (count == 0 || count > cap) return Malformed(tag, "bad entry count");
    seen[owner] = true;
    int64_t ts = 0;
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t member = in.Varint();
      const int64_t delta = UnZigZag(in.Varint());
      if (in.failed() || member >= member_ids.size()) return Malformed(tag, "bad member");
      if (delta > kMaxSafe || delta < -kMaxSafe || ts + delta < 0 || ts + delta > kMaxSafe) {
        return Malformed(tag, "time out of range");
      }
      ts += delta;
      add(owner_ids[owner], member_ids[member], ts);
    }
  }
  if (!in.done()) return Malformed(tag, "bytes after the last owner");
  return Error{};
}

}  // namespace

Error ParseFile(const char* data, size_t size, bool check_all, FileView* view) {
  const size_t magic_bytes = size < sizeof(kMagic) ? size : sizeof(kMagic);
  if (std::memcmp(data, kMagic, magic_bytes) != 0) {
    return Fail(ErrorCode::kNotSnapshot, "not a skiptrail snapshot (its first bytes are not the snapshot signature)");
  }
  if (size < kHeaderSize) {
    return Fail(ErrorCode::kTruncated, "truncated: " + std::to_string(size) + " bytes, shorter than the " +
                                           std::to_string(kHeaderSize) + "-byte header");
  }
  view->version = GetFixed32(data + 8);
  if (view->version != kVersion) {
    return Fail(ErrorCode::kVersion,
                "format version " + std::to_string(view->version) + (view->version > kVersion ? " is newer than" : " is not") +
                    " the version this skiptrail reads (" + std::to_string(kVersion) + ")");
  }
  if (crc32c::Value(data, kHeaderCrcOffset) != GetFixed32(data + kHeaderCrcOffset)) {
    return Fail(ErrorCode::kChecksum, "the header's checksum does not match");
  }
  const uint32_t sections = GetFixed32(data + 12);
  view->created_at = static_cast<int64_t>(GetFixed64(data + 16));
  const uint64_t file_size = GetFixed64(data + 24);
  if (size < file_size) {
    return Fail(ErrorCode::kTruncated, "truncated: " + std::to_string(size) + " of " + std::to_string(file_size) + " bytes");
  }
  if (size > file_size) {
    return Fail(ErrorCode::kChecksum, std::to_string(size - file_size) + " unexpected bytes after the end of the snapshot");
  }
  if (file_size < kHeaderSize + kTrailerSize || GetFixed32(data + size - 4) != kEndMagic) {
    return Fail(ErrorCode::kChecksum, "the trailer is damaged");
  }
  if (check_all && crc32c::Value(data, size - kTrailerSize) != GetFixed32(data + size - kTrailerSize)) {
    return Fail(ErrorCode::kChecksum, "the file's checksum does not match");
  }
  size_t offset = kHeaderSize;
  const size_t end = size - kTrailerSize;
  for (uint32_t i = 0; i < sections; ++i) {
    if (end - offset < kFrameSize) return Fail(ErrorCode::kChecksum, "a section frame runs past the end");
    const uint32_t tag = GetFixed32(data + offset);
    const uint32_t crc = GetFixed32(data + offset + 4);
    const uint64_t length = GetFixed64(data + offset + 8);
    offset += kFrameSize;
    if (length > end - offset) return Fail(ErrorCode::kChecksum, "a section runs past the end");
    const char* payload = data + offset;
    offset += length;
    if (tag == 0) return Fail(ErrorCode::kChecksum, "a section has tag 0");
    if (tag > kPresence) continue;  // a later writer's section of this version: skipped
    if (view->present[tag]) return Fail(ErrorCode::kChecksum, std::string("the ") + SectionName(tag) + " section appears twice");
    if ((check_all || tag == kOptions || tag == kFacade) && crc32c::Value(payload, length) != crc) {
      return Fail(ErrorCode::kChecksum, std::string("the ") + SectionName(tag) + " section's checksum does not match");
    }
    view->sections[tag] = std::string_view(payload, length);
    view->present[tag] = true;
  }
  if (offset != end) return Fail(ErrorCode::kChecksum, "bytes between the last section and the trailer");
  for (uint32_t tag = kMeta; tag <= kPresence; ++tag) {
    if (!view->present[tag]) return Fail(ErrorCode::kChecksum, std::string("the ") + SectionName(tag) + " section is missing");
  }
  return Error{};
}

Error Restore(const FileView& view, Engine* engine) {
  SKIPTRAIL_DCHECK(!engine->has_watermark() && engine->Stats().entries == 0);
  Engine::State state;
  {
    Decoder in(view.sections[kMeta].data(), view.sections[kMeta].size());
    const uint64_t has_watermark = in.Varint();
    const uint64_t watermark = in.Varint();
    const uint64_t has_clock = in.Varint();
    const int64_t clock = UnZigZag(in.Varint());
    state.events = in.Varint();
    state.late = in.Varint();
    state.evicted = in.Varint();
    if (in.failed() || has_watermark > 1 || has_clock > 1) return Malformed(kMeta, "bad fields");
    if (watermark > static_cast<uint64_t>(kMaxSafe) || clock > kMaxSafe || clock < -kMaxSafe) {
      return Malformed(kMeta, "time out of range");
    }
    state.has_watermark = has_watermark == 1;
    state.watermark = static_cast<int64_t>(watermark);
    state.presence_clock = has_clock == 1 ? clock : kNoClock;
  }
  engine->RestoreState(state);

  std::vector<uint32_t> user_ids, page_ids;
  Error error = ReadKeys(view.sections[kUserKeys], kUserKeys, &engine->users(), &user_ids);
  if (error.ok()) error = ReadKeys(view.sections[kPageKeys], kPageKeys, &engine->pages(), &page_ids);
  if (error.ok()) {
    error = ReadIndex(view.sections[kPageIndex], kPageIndex, page_ids, user_ids, engine->options().users_per_page,
                      [engine](uint32_t page, uint32_t user, int64_t ts) { engine->RestorePageEntry(page, user, ts); });
  }
  if (error.ok()) {
    error = ReadIndex(view.sections[kUserIndex], kUserIndex, user_ids, page_ids, engine->options().pages_per_user,
                      [engine](uint32_t user, uint32_t page, int64_t ts) { engine->RestoreUserEntry(user, page, ts); });
  }
  if (error.ok()) {
    Decoder in(view.sections[kPresence].data(), view.sections[kPresence].size());
    const uint64_t count = in.Varint();
    if (in.failed() || count > user_ids.size()) error = Malformed(kPresence, "bad count");
    int64_t ts = 0;
    for (uint64_t i = 0; error.ok() && i < count; ++i) {
      const uint64_t user = in.Varint();
      const uint64_t page = in.Varint();
      const int64_t delta = UnZigZag(in.Varint());
      if (in.failed() || user >= user_ids.size() || page >= page_ids.size() || delta > kMaxSafe || delta < -kMaxSafe) {
        error = Malformed(kPresence, "bad entry");
        break;
      }
      ts += delta;
      uint32_t listed_page;
      int64_t listed_ts;
      if (ts < 0 || ts > kMaxSafe) {
        error = Malformed(kPresence, "time out of range");
        break;
      }
      if (engine->presence().Find(user_ids[user], &listed_page, &listed_ts) ||
          !engine->RestorePresence(user_ids[user], page_ids[page], ts)) {
        error = Malformed(kPresence, "a present user's view is not their latest");
      }
    }
    if (error.ok() && !in.done()) error = Malformed(kPresence, "bytes after the last entry");
  }
  // The held references go; keys no entry mentions are freed.
  for (uint32_t id : user_ids) engine->users().Unref(id);
  for (uint32_t id : page_ids) engine->pages().Unref(id);
  if (!error.ok()) return error;

  // Every user whose latest view is within the presence window must have been listed.
  if (state.presence_clock != kNoClock) {
    uint64_t expected = 0;
    const int64_t cutoff = state.presence_clock - engine->options().presence_window;
    for (uint32_t user = 0; user < engine->users().id_limit(); ++user) {
      uint32_t page;
      double latest;
      if (engine->user_index().Query(user, kNoClock, std::numeric_limits<int64_t>::max(), 1, &page, &latest) == 1 &&
          latest >= static_cast<double>(cutoff)) {
        ++expected;
      }
    }
    if (expected != engine->presence().OnlineCount()) return Malformed(kPresence, "a present user is missing");
  }
  return Error{};
}

}  // namespace snapshot
}  // namespace skiptrail
