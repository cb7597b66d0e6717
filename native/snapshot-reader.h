// Reading a snapshot file image (snapshot-format.h) back into an engine, in two steps:
//
//   ParseFile   checks the frame (magic, version, lengths) and the checksums, and
//               finds the sections. With check_all = false it checks only the header
//               and the small kOptions and kFacade sections: enough to read the
//               options before building an engine with them.
//   Restore     rebuilds an empty engine from the sections.
//
// Neither trusts the bytes: any file, however damaged or crafted, yields an Error
// and never a crash or a read out of bounds. A file whose checksums match but whose
// content is malformed (ids out of range, a presence that is not a latest view) is
// reported as kChecksum. On error Restore leaves the engine partly filled: the caller
// discards it (nothing half-loaded reaches JavaScript).
//
// Thread safety: none needed: the functions touch only their arguments, so a worker
// thread may run them on an engine no other thread sees.
#ifndef SKIPTRAIL_SNAPSHOT_READER_H_
#define SKIPTRAIL_SNAPSHOT_READER_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine.h"
#include "snapshot-format.h"

namespace skiptrail {
namespace snapshot {

struct FileView {
  uint32_t version = 0;
  int64_t created_at = 0;
  // The payload of each known section by tag; empty data() when absent.
  std::string_view sections[kPresence + 1];
  bool present[kPresence + 1] = {};
};

// REQUIRES: [data, data + size) stays valid while *view is used.
Error ParseFile(const char* data, size_t size, bool check_all, FileView* view);

// REQUIRES: view came from ParseFile(..., check_all = true); engine is empty, with the
// options the file's kOptions section names.
Error Restore(const FileView& view, Engine* engine);

}  // namespace snapshot
}  // namespace skiptrail

#endif  // SKIPTRAIL_SNAPSHOT_READER_H_
