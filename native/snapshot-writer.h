// SnapshotWriter: an engine's logical content as one snapshot file image
// (snapshot-format.h), checksums included, ready to be written to disk as is.
//
// It reads the engine through its public operations only, so it stays correct
// whatever the engine's internal layout. The work is done in steps (Step), so that a
// caller on an event loop can serve other work between them; the image is of the
// moment the writer was made.
//
// REQUIRES: nothing changes the engine from construction until Step() returns true
// (the wrap refuses every change while a writer exists), and the engine outlives the
// writer. Thread safety: none.
#ifndef SKIPTRAIL_SNAPSHOT_WRITER_H_
#define SKIPTRAIL_SNAPSHOT_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine.h"

namespace skiptrail {
namespace snapshot {

class SnapshotWriter {
 public:
  // `options_json` and `facade_json` are stored as the kOptions and kFacade sections.
  SnapshotWriter(const Engine* engine, int64_t created_at, std::string_view options_json,
                 std::string_view facade_json);

  // Writes for about `budget_ns` nanoseconds (at least one owner or key); returns true
  // once the image is complete. budget_ns <= 0: until done.
  bool Step(int64_t budget_ns);
  // The image. REQUIRES: Step() returned true. Call once.
  std::string Finish();

 private:
  enum class Phase { kUserKeys, kPageKeys, kPageIndex, kUserIndex, kPresence, kDone };
  struct Present {
    int64_t ts;
    uint32_t user, page;  // file ids
  };

  void BeginSection(uint32_t tag);
  void EndSection();
  // Writes the item at cursor_ of the current phase; false when the phase is over.
  bool WriteKey(const Interner& keys, std::vector<uint32_t>* file_ids);
  bool WriteOwner(const RankedIndex& index, const Interner& owners, const std::vector<uint32_t>& owner_ids,
                  const std::vector<uint32_t>& member_ids);
  bool CollectPresent();
  void WritePresence();
  void NextPhase();

  const Engine* engine_;
  std::string out_;
  size_t frame_ = 0;  // offset of the open section's frame
  uint32_t sections_ = 0;
  Phase phase_ = Phase::kUserKeys;
  uint32_t cursor_ = 0;  // next id of the current phase
  uint32_t next_file_id_ = 0;
  std::vector<uint32_t> user_ids_, page_ids_;  // engine id -> file id
  std::vector<uint32_t> members_;  // scratch for one owner's list
  std::vector<double> times_;
  std::vector<Present> present_;
};

}  // namespace snapshot
}  // namespace skiptrail

#endif  // SKIPTRAIL_SNAPSHOT_WRITER_H_
