// engine-bench: drives the pure C++ Engine with the standard workload (Zipf pages and
// users, 2,000 events per simulated second, 5% up to 2 s late) and prints the thread
// CPU time per event and per query, so the cost of the engine itself can be told
// apart from the Node-API boundary and the TypeScript facade. Build and run:
//   bash scripts/engine-bench.sh [events] [s|ms] [once|growth]
#include <time.h>

#include <cmath>
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "../engine.h"

using namespace skiptrail;

namespace {

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct Zipf {
  std::vector<double> cdf;
  Zipf(size_t n, double s) : cdf(n) {
    double total = 0;
    for (size_t i = 0; i < n; ++i) cdf[i] = total += 1.0 / std::pow(double(i + 1), s);
    for (double& c : cdf) c /= total;
  }
  size_t operator()(std::mt19937_64& rng) const {
    double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin();
  }
};

// The options ActivityIndex passes by default (src/validate.ts): the engine's, plus the
// maxPages and maxUsers caps of 1,000,000.
EngineOptions ApiDefaults() {
  EngineOptions options;
  options.max_pages = 1000000;
  options.max_users = 1000000;
  return options;
}

// Where the bytes go: each structure's share, in bytes per retained entry.
void PrintMemory(const Engine& engine, const EngineStats& stats) {
  const double entries = double(stats.entries);
  std::printf("  bytes/entry: user keys %.1f, page keys %.1f, page index %.1f, user index %.1f, presence %.1f "
              "(%llu users, %llu pages)\n",
              engine.users().memory_bytes() / entries, engine.pages().memory_bytes() / entries,
              engine.page_index().memory_bytes() / entries, engine.user_index().memory_bytes() / entries,
              engine.presence().memory_bytes() / entries, (unsigned long long)stats.users,
              (unsigned long long)stats.pages);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t events = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  // A second argument "s" truncates times to the second, as combined logs do: then
  // about a thousand events share each time, and ties decide most orderings.
  const bool seconds = argc > 2 && argv[2][0] == 's';
  // A third argument "once" runs RecordBatch once (with presence) and the queries: for
  // profilers (valgrind --tool=callgrind --toggle-collect='*RecordBatch*').
  const bool once = argc > 3 && std::string(argv[3]) == "once";
  // "growth" feeds `events` events in batches of 10,000, generated as it goes (no
  // stream held: 100 M events fit), and prints memory per retained entry and CPU time
  // per event at 1, 3, 10, 30 and 100 M events.
  const bool growth = argc > 3 && std::string(argv[3]) == "growth";
  const size_t kUsers = 100000, kPages = 20000;
  std::mt19937_64 rng(42);
  std::vector<std::string> users(kUsers), pages(kPages);
  for (size_t i = 0; i < kUsers; ++i) {
    users[i] = i % 5 == 0 ? std::to_string(10 + i % 200) + "." + std::to_string(i % 251) + "." +
                                std::to_string((i >> 8) % 256) + "." + std::to_string(i % 97)
                          : "user" + std::to_string(i * 7919 % 1000003);
  }
  for (size_t i = 0; i < kPages; ++i) pages[i] = "/news/2015/05/story-" + std::to_string(i * 104729 % 99991) + "-slug";
  Zipf user_zipf(kUsers, 0.8), page_zipf(kPages, 1.0);
  struct Event {
    uint32_t user, page;
    int64_t ts;
  };
  if (growth) {
    Engine engine(ApiDefaults());
    std::vector<Engine::EventView> batch(10000);
    double seconds_in_batches = 0;
    const size_t reports[] = {1000000, 3000000, 10000000, 30000000, 100000000, 300000000, 1000000000};
    size_t next_report = 0;
    for (size_t done = 0; done < events;) {
      const size_t count = std::min<size_t>(batch.size(), events - done);
      for (size_t j = 0; j < count; ++j) {
        int64_t ts = 1431820800000 + int64_t((done + j) / 2);
        if (rng() % 100 < 5) ts -= rng() % 2000;
        if (seconds) ts -= ts % 1000;
        batch[j] = Engine::EventView{users[user_zipf(rng)], pages[page_zipf(rng)], ts};
      }
      const double t0 = CpuSeconds();
      engine.RecordBatch(batch.data(), count);
      seconds_in_batches += CpuSeconds() - t0;
      done += count;
      if (done == events || (next_report < std::size(reports) && done == reports[next_report])) {
        const EngineStats stats = engine.Stats();
        std::printf("%zu events: %llu entries, %.1f bytes/entry, %.0f ns/event (RecordBatch, CPU)\n", done,
                    (unsigned long long)stats.entries, double(stats.memory_bytes) / stats.entries,
                    seconds_in_batches * 1e9 / done);
        PrintMemory(engine, stats);
        std::fflush(stdout);
        if (next_report < std::size(reports) && done == reports[next_report]) ++next_report;
      }
    }
    std::string error;
    if (!engine.Validate(&error)) {
      std::printf("INVALID: %s\n", error.c_str());
      return 1;
    }
    return 0;
  }
  std::vector<Event> stream(events);
  const int64_t start = 1431820800000;
  for (size_t i = 0; i < events; ++i) {
    int64_t ts = start + int64_t(i / 2);
    if (rng() % 100 < 5) ts -= rng() % 2000;
    if (seconds) ts -= ts % 1000;
    stream[i] = Event{uint32_t(user_zipf(rng)), uint32_t(page_zipf(rng)), ts};
  }

  if (!once) {
    Engine one_by_one(ApiDefaults());
    double t0 = CpuSeconds();
    for (const Event& e : stream) one_by_one.Record(users[e.user], pages[e.page], e.ts);
    double t1 = CpuSeconds();
    std::printf("Record: %.0f ns/event (%.2f M events/s)\n", (t1 - t0) * 1e9 / events, events / (t1 - t0) / 1e6);
  }
  std::vector<Engine::EventView> views(events);
  for (size_t i = 0; i < events; ++i) views[i] = {users[stream[i].user], pages[stream[i].page], stream[i].ts};
  // RecordBatch in batches of 10,000, into `engine`; returns the CPU seconds taken.
  auto record_batches = [&](Engine& engine) {
    const double t0 = CpuSeconds();
    for (size_t i = 0; i < events; i += 10000) engine.RecordBatch(&views[i], std::min<size_t>(10000, events - i));
    return CpuSeconds() - t0;
  };
  // What presence (Q3) costs: the same batches into an engine that skips it, best of
  // two runs each, alternated.
  EngineOptions without_presence = ApiDefaults();
  without_presence.track_presence = false;
  double with_seconds = 1e300, without_seconds = 1e300;
  for (int run = 0; run < (once ? 0 : 2); ++run) {
    Engine with(ApiDefaults()), without(without_presence);
    with_seconds = std::min(with_seconds, record_batches(with));
    without_seconds = std::min(without_seconds, record_batches(without));
  }
  if (!once) {
    std::printf("RecordBatch without presence: %.0f ns/event; presence costs %.0f%% of ingest speed\n",
                without_seconds * 1e9 / events, (1 - without_seconds / with_seconds) * 100);
  }
  Engine engine(ApiDefaults());
  const double batch_seconds = std::min(with_seconds, record_batches(engine));
  std::printf("RecordBatch: %.0f ns/event (%.2f M events/s)\n", batch_seconds * 1e9 / events,
              events / batch_seconds / 1e6);
  EngineStats stats = engine.Stats();
  std::printf("entries %llu, memory %zu bytes, %.1f bytes/entry\n", (unsigned long long)stats.entries,
              stats.memory_bytes, double(stats.memory_bytes) / stats.entries);
  PrintMemory(engine, stats);

  const size_t queries = 200000;
  std::vector<uint32_t> ids(1000);
  std::vector<double> times(1000);
  std::vector<uint32_t> sample_pages(queries), sample_users(queries);
  for (size_t i = 0; i < queries; ++i) sample_pages[i] = page_zipf(rng), sample_users[i] = user_zipf(rng);
  size_t rows = 0;
  double t0 = CpuSeconds();
  for (uint32_t p : sample_pages) rows += engine.LastUsers(pages[p], 30, ids.data(), times.data());
  double t1 = CpuSeconds();
  std::printf("lastUsers(page, 30): %.0f ns/query (%.1f rows)\n", (t1 - t0) * 1e9 / queries, double(rows) / queries);
  rows = 0;
  t0 = CpuSeconds();
  for (uint32_t u : sample_users)
    rows += engine.UserPages(users[u], engine.watermark() - 1800000, engine.watermark(), 30, ids.data(), times.data());
  t1 = CpuSeconds();
  std::printf("userPages(user, 30): %.0f ns/query (%.1f rows)\n", (t1 - t0) * 1e9 / queries, double(rows) / queries);
  rows = 0;
  t0 = CpuSeconds();
  for (uint32_t p : sample_pages) rows += engine.OnlineUsers(pages[p], 30, ids.data(), times.data());
  t1 = CpuSeconds();
  std::printf("onlineUsers(page, 30): %.0f ns/query (%.1f rows)\n", (t1 - t0) * 1e9 / queries, double(rows) / queries);
  rows = 0;
  t0 = CpuSeconds();
  for (uint32_t p : sample_pages) rows += engine.OnlineCount(pages[p]);
  t1 = CpuSeconds();
  std::printf("onlineCount(page): %.0f ns/query\n", (t1 - t0) * 1e9 / queries);
  std::string error;
  if (!engine.Validate(&error)) {
    std::printf("INVALID: %s\n", error.c_str());
    return 1;
  }
  return 0;
}
