// Plain C++ tests for the snapshot trio (snapshot-format.h, -writer, -reader) and
// CRC-32C: no framework, no Node.
//
//   scripts/native-tests.sh     builds with ASan+UBSan and runs this program
//
// Exits 0 when every check passes, 1 otherwise (each failure is printed).
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../crc32c.h"
#include "../engine.h"
#include "../snapshot-reader.h"
#include "../snapshot-writer.h"

using namespace skiptrail;  // NOLINT: a test program

namespace {

int g_checks = 0;
int g_failures = 0;

#define CHECK(cond)                                                          \
  do {                                                                       \
    ++g_checks;                                                              \
    if (!(cond)) {                                                           \
      ++g_failures;                                                          \
      std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
    }                                                                        \
  } while (0)

void TestCrc32c() {
  const char* digits = "123456789";
  CHECK(crc32c::Value(digits, 9) == 0xE3069283u);
  CHECK(crc32c::ExtendPortable(0, digits, 9) == 0xE3069283u);
  const std::string zeros(32, '\0');
  CHECK(crc32c::Value(zeros.data(), zeros.size()) == 0x8A9136AAu);  // RFC 3720 B.4
  std::mt19937 random(7);
  std::string bytes(1000, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  for (size_t start = 0; start < 16; ++start) {
    for (size_t size : {0, 1, 7, 8, 9, 63, 500}) {
      const uint32_t whole = crc32c::Value(bytes.data() + start, size);
      CHECK(whole == crc32c::ExtendPortable(0, bytes.data() + start, size));
      const size_t half = size / 2;
      CHECK(whole == crc32c::Extend(crc32c::Value(bytes.data() + start, half), bytes.data() + start + half, size - half));
    }
  }
}

// Everything a query can tell about an engine, as text.
std::string Describe(const Engine& engine, int users, int pages) {
  std::string out;
  uint32_t ids[2000];
  double times[2000];
  const EngineStats stats = engine.Stats();
  out += std::to_string(stats.events) + " " + std::to_string(stats.pages) + " " + std::to_string(stats.users) + " " +
         std::to_string(stats.entries) + " " + std::to_string(stats.late) + " " + std::to_string(stats.evicted) + " " +
         std::to_string(stats.online) + " " + std::to_string(engine.watermark()) + "\n";
  for (int p = 0; p < pages; ++p) {
    const std::string page = "/p" + std::to_string(p);
    const uint32_t n = engine.LastUsers(page, 2000, ids, times);
    for (uint32_t i = 0; i < n; ++i) out += std::string(engine.users().View(ids[i])) + "@" + std::to_string(times[i]) + " ";
    const uint32_t m = engine.OnlineUsers(page, 2000, ids, times);
    for (uint32_t i = 0; i < m; ++i) out += "+" + std::string(engine.users().View(ids[i])) + " ";
    out += "\n";
  }
  for (int u = 0; u < users; ++u) {
    const std::string user = "u" + std::to_string(u);
    const uint32_t n = engine.UserPages(user, INT64_MIN / 2, INT64_MAX / 2, 2000, ids, times);
    for (uint32_t i = 0; i < n; ++i) out += std::string(engine.pages().View(ids[i])) + "@" + std::to_string(times[i]) + " ";
    out += "\n";
  }
  return out;
}

std::string Image(const Engine& engine, int64_t budget_ns) {
  snapshot::SnapshotWriter writer(&engine, 1234, "{}", "{\"s\":1}");
  int steps = 0;
  while (!writer.Step(budget_ns)) ++steps;
  return writer.Finish();
}

void TestRoundTrip() {
  EngineOptions options;
  options.users_per_page = 200;  // past kSmallMax: the skiplist encoding too
  options.pages_per_user = 150;
  options.user_window = 5000;
  options.presence_window = 2000;
  options.max_users = 900;
  Engine engine(options);
  std::mt19937 random(11);
  int64_t ts = 1000;
  for (int i = 0; i < 60000; ++i) {
    ts += random() % 3;
    const int64_t late = random() % 10 == 0 ? static_cast<int64_t>(random() % 6000) : 0;
    engine.Record("u" + std::to_string(random() % 1000), "/p" + std::to_string(random() % 170), std::max<int64_t>(0, ts - late));
  }
  const std::string image = Image(engine, 1);  // the smallest steps: many of them
  CHECK(image == Image(engine, 0));
  snapshot::FileView view;
  CHECK(snapshot::ParseFile(image.data(), image.size(), true, &view).ok());
  CHECK(view.created_at == 1234);
  CHECK(view.sections[snapshot::kFacade] == "{\"s\":1}");
  Engine loaded(options);
  const snapshot::Error error = snapshot::Restore(view, &loaded);
  CHECK(error.ok());
  std::string why;
  CHECK(loaded.Validate(&why));
  CHECK(Describe(loaded, 1000, 170) == Describe(engine, 1000, 170));

  // Any cut or flipped byte is an error, never a crash (ASan watches).
  for (size_t cut = 0; cut < image.size(); cut += 1 + image.size() / 200) {
    snapshot::FileView partial;
    CHECK(!snapshot::ParseFile(image.data(), cut, true, &partial).ok());
  }
  for (size_t at = 0; at < image.size(); at += 1 + image.size() / 300) {
    std::string damaged = image;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
    snapshot::FileView broken;
    CHECK(!snapshot::ParseFile(damaged.data(), damaged.size(), true, &broken).ok());
  }
}

// Random payloads behind valid frames: Restore must fail or leave a valid engine.
void TestCraftedPayloads() {
  std::mt19937 random(5);
  EngineOptions options;
  options.users_per_page = 4;
  options.pages_per_user = 4;
  for (int round = 0; round < 3000; ++round) {
    Engine source(options);
    for (int i = 0; i < 30; ++i) source.Record("u" + std::to_string(random() % 6), "/p" + std::to_string(random() % 5), random() % 100);
    std::string image = Image(source, 0);
    snapshot::FileView view;
    snapshot::ParseFile(image.data(), image.size(), true, &view);
    const uint32_t tag = snapshot::kMeta + random() % 8;
    if (tag == snapshot::kOptions || tag == snapshot::kFacade || view.sections[tag].empty()) continue;
    std::string payload(view.sections[tag]);
    for (int n = 1 + random() % 4; n > 0; --n) payload[random() % payload.size()] = static_cast<char>(random());
    view.sections[tag] = payload;
    Engine loaded(options);
    if (snapshot::Restore(view, &loaded).ok()) {
      std::string why;
      CHECK(loaded.Validate(&why));
      loaded.Record("u1", "/p1", 50);
      CHECK(loaded.Validate(&why));
    }
  }
}

}  // namespace

int main() {
  TestCrc32c();
  TestRoundTrip();
  TestCraftedPayloads();
  std::printf("snapshot-test: %d checks, %d failed\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
