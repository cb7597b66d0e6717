// Model test of SkipList (native/skiplist.h) against std::set, in both link modes, as
// LevelDB's skiplist_test.cc checks its list: random inserts, erases, updates, seeks,
// moves and clears on several lists sharing one Context, every answer compared with a
// std::set holding the same keys, and Validate() after every step.
//
//   scripts/native-tests.sh          builds with ASan + UBSan + SKIPTRAIL_DCHECKS, runs this
//   skiplist-test [seed]             default: a fixed seed; the seed is printed on failure
//
// Exits 0 when every check passes, 1 otherwise (each failure is printed).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "../skiplist.h"

using namespace skiptrail;  // NOLINT: a test program

namespace {

int g_checks = 0;
int g_failures = 0;
std::string g_test;
uint64_t g_seed = 0;

#define CHECK(cond)                                                                           \
  do {                                                                                        \
    ++g_checks;                                                                               \
    if (!(cond)) {                                                                            \
      ++g_failures;                                                                           \
      std::fprintf(stderr, "FAIL [%s, seed %" PRIu64 "] %s:%d: %s\n", g_test.c_str(), g_seed, \
                   __FILE__, __LINE__, #cond);                                                \
    }                                                                                         \
  } while (0)

// Stops a test at its first failure: later steps would only repeat it.
#define REQUIRE(cond)   \
  do {                  \
    CHECK(cond);        \
    if (!(cond)) return; \
  } while (0)

// As the engine's keys: a time and an id, ids ranked through a table the comparator
// holds a pointer to (the engine's holds the interner), so equal times are broken by
// something other than the id's value.
struct Key {
  int64_t ts;
  uint32_t id;
};

struct ByTimeThenRank {
  const std::vector<uint32_t>* rank = nullptr;
  bool operator()(const Key& a, const Key& b) const {
    if (a.ts != b.ts) return a.ts < b.ts;
    return (*rank)[a.id] < (*rank)[b.id];
  }
};

constexpr uint32_t kIds = 16;

// A rank table: a permutation of 0 .. kIds-1.
std::vector<uint32_t> MakeRank(std::mt19937_64& random) {
  std::vector<uint32_t> rank(kIds);
  for (uint32_t id = 0; id < kIds; ++id) rank[id] = id;
  std::shuffle(rank.begin(), rank.end(), random);
  return rank;
}

template <Links kLinks>
struct Harness {
  using List = SkipList<Key, ByTimeThenRank, kLinks>;
  using Node = typename List::Node;
  using Model = std::set<Key, ByTimeThenRank>;
  static constexpr bool kDoubly = List::kDoubly;
  static const char* Mode() { return kDoubly ? "kBoth" : "kForward"; }

  // Compares every answer a list gives with the model's: size, order both ways, First,
  // Last, and LowerBound at each stored key, just before and after it, and outside.
  static void Compare(const List& list, const Model& model) {
    REQUIRE(list.Validate());
    REQUIRE(list.size() == model.size());
    CHECK(list.empty() == model.empty());
    auto it = model.begin();
    for (const Node* node = list.First(); node != nullptr; node = node->next(), ++it) {
      REQUIRE(it != model.end());
      REQUIRE(node->key.ts == it->ts && node->key.id == it->id);
    }
    REQUIRE(it == model.end());
    if constexpr (kDoubly) {
      auto back = model.rbegin();
      for (const Node* node = list.Last(); node != nullptr; node = node->prev(), ++back) {
        REQUIRE(back != model.rend());
        REQUIRE(node->key.ts == back->ts && node->key.id == back->id);
      }
      REQUIRE(back == model.rend());
    }
    if (model.empty()) {
      CHECK(list.First() == nullptr);
      CHECK(list.Last() == nullptr);
    } else {
      CHECK(list.First() != nullptr && list.First()->key.ts == model.begin()->ts &&
            list.First()->key.id == model.begin()->id);
      CHECK(list.Last() != nullptr && list.Last()->key.ts == model.rbegin()->ts &&
            list.Last()->key.id == model.rbegin()->id);
    }
    std::vector<Key> probes = {{-1, 0}, {1 << 20, 0}};
    for (const Key& key : model) {
      probes.push_back(key);
      for (uint32_t id = 0; id < kIds; id += 5) probes.push_back({key.ts, id});
      probes.push_back({key.ts - 1, key.id});
      probes.push_back({key.ts + 1, key.id});
    }
    for (const Key& probe : probes) {
      const Node* found = list.LowerBound(probe);
      const auto expected = model.lower_bound(probe);
      if (expected == model.end()) {
        REQUIRE(found == nullptr);
      } else {
        REQUIRE(found != nullptr && found->key.ts == expected->ts && found->key.id == expected->id);
      }
    }
  }

  // Random steps on several lists sharing one Context; each list mirrored by a model.
  static void RandomSteps(int steps, int64_t time_span, int lists_count) {
    g_test = std::string("random steps, ") + Mode() + ", span " + std::to_string(time_span);
    std::mt19937_64 random(g_seed ^ (kDoubly ? 0x5bd1e995ull : 0) ^ static_cast<uint64_t>(time_span));
    const std::vector<uint32_t> rank = MakeRank(random);
    const ByTimeThenRank less{&rank};
    typename List::Context context(less, random());
    std::vector<List> lists;
    std::vector<Model> models;
    std::vector<std::map<std::pair<int64_t, uint32_t>, Node*>> nodes(lists_count);  // key -> its node
    for (int i = 0; i < lists_count; ++i) {
      lists.emplace_back(&context);
      models.emplace_back(less);
    }
    auto random_key = [&]() {
      return Key{static_cast<int64_t>(random() % time_span), static_cast<uint32_t>(random() % kIds)};
    };
    auto random_node = [&](int which) {
      auto it = nodes[which].begin();
      std::advance(it, random() % nodes[which].size());
      return it;
    };
    for (int step = 0; step < steps; ++step) {
      const int which = static_cast<int>(random() % lists_count);
      List& list = lists[which];
      Model& model = models[which];
      const unsigned op = random() % 100;
      if (op < 45) {  // insert a key not yet in the list
        const Key key = random_key();
        if (model.count(key) == 0) {
          Node* node = list.Insert(key);
          REQUIRE(node != nullptr && node->key.ts == key.ts && node->key.id == key.id);
          REQUIRE(node->height() >= 1 && node->height() <= List::kMaxHeight);
          model.insert(key);
          nodes[which][{key.ts, key.id}] = node;
        }
      } else if (op < 65) {  // erase a node
        if (!model.empty()) {
          const auto it = random_node(which);
          list.Erase(it->second);
          model.erase(Key{it->first.first, it->first.second});
          nodes[which].erase(it);
        }
      } else if (op < 88) {  // update a node to a new key (newer, mostly: as the engine does)
        if (!model.empty()) {
          const auto it = random_node(which);
          Node* node = it->second;
          Key key = random_key();
          if (random() % 4 != 0) key.ts = it->first.first + 1 + static_cast<int64_t>(random() % 8);
          if (model.count(key) == 0) {
            model.erase(Key{it->first.first, it->first.second});
            nodes[which].erase(it);
            list.Update(node, key);
            REQUIRE(node->key.ts == key.ts && node->key.id == key.id);
            model.insert(key);
            nodes[which][{key.ts, key.id}] = node;
          }
        }
      } else if (op < 92) {  // move the list into another of the same context, and back
        List moved(std::move(list));
        CHECK(list.empty() && list.First() == nullptr && list.Validate());
        Compare(moved, model);
        list = std::move(moved);
        CHECK(moved.empty() && moved.Validate());
      } else if (op < 94) {  // move-assign over a non-empty list: the target's nodes are freed
        const int other = (which + 1) % lists_count;
        if (other != which) {
          lists[other] = std::move(list);
          models[other] = model;
          nodes[other] = nodes[which];
          model.clear();
          nodes[which].clear();
          CHECK(list.empty());
        }
      } else if (op < 95) {  // clear
        list.Clear();
        model.clear();
        nodes[which].clear();
      } else {  // answers of every list
        for (int i = 0; i < lists_count; ++i) Compare(lists[i], models[i]);
        if (g_failures > 0) return;
        continue;
      }
      // After every step: the invariants, and the touched list against its model.
      REQUIRE(list.Validate());
      Compare(list, model);
      if (g_failures > 0) return;
    }
    for (int i = 0; i < lists_count; ++i) Compare(lists[i], models[i]);
  }

  // One long list: many levels, and each step checked against the model.
  static void LongList(int size) {
    g_test = std::string("long list, ") + Mode();
    std::mt19937_64 random(g_seed + 17);
    const std::vector<uint32_t> rank = MakeRank(random);
    const ByTimeThenRank less{&rank};
    typename List::Context context(less, random());
    List list(&context);
    Model model(less);
    std::vector<Node*> nodes;
    // Mostly increasing times with ties and some late keys, as the engine's lists get.
    for (int i = 0; static_cast<int>(model.size()) < size; ++i) {
      Key key{i / 3 - static_cast<int64_t>(random() % 4 == 0 ? random() % 50 : 0), static_cast<uint32_t>(random() % kIds)};
      if (model.count(key) != 0) continue;
      nodes.push_back(list.Insert(key));
      model.insert(key);
    }
    Compare(list, model);
    int tallest = 0;
    for (const Node* node = list.First(); node != nullptr; node = node->next()) {
      tallest = std::max<int>(tallest, node->height());
    }
    // p = 1/4: a list of n keys is about log4(n) levels tall.
    CHECK(tallest >= 4);
    // Erase from the front (eviction), the back and the middle; raise some to the end.
    for (int i = 0; i < size / 2; ++i) {
      Node* node;
      const unsigned op = random() % 3;
      if (op == 0) {
        node = list.First();
      } else if (op == 1) {
        node = list.Last();
      } else {
        node = list.LowerBound(Key{static_cast<int64_t>(random() % (size / 3)), 0});
        if (node == nullptr) node = list.Last();
      }
      model.erase(node->key);
      if (random() % 2 == 0) {
        list.Erase(node);
      } else {
        const Key raised{list.Last()->key.ts + 1, node->key.id};
        list.Update(node, raised);
        model.insert(raised);
      }
      REQUIRE(list.Validate());
      if (i % 64 == 0) Compare(list, model);
    }
    Compare(list, model);
    // Clear() leaves an empty list, and the nodes it frees are reused: twenty rounds of
    // refilling and clearing take less than twice the memory of the first.
    list.Clear();
    CHECK(list.empty() && list.First() == nullptr && list.Last() == nullptr && list.Validate());
    CHECK(list.LowerBound(Key{0, 0}) == nullptr);
    const size_t bytes = context.allocated_bytes();
    for (int round = 0; round < 20; ++round) {
      model.clear();
      for (int i = 0; i < size; ++i) {
        const Key key{i, static_cast<uint32_t>(i % kIds)};
        list.Insert(key);
        model.insert(key);
      }
      if (round == 0) Compare(list, model);
      if (round < 19) list.Clear();
    }
    CHECK(context.allocated_bytes() < 2 * bytes);
    // Abandon, then Reset: the pool takes the nodes back all at once.
    list.Abandon();
    CHECK(list.empty() && list.Validate());
    context.pool().Reset();
    CHECK(context.allocated_bytes() < bytes);
  }

  // Validate() itself: it must see a list whose order was broken behind its back.
  static void ValidateSeesDisorder() {
    g_test = std::string("Validate() sees disorder, ") + Mode();
    std::mt19937_64 random(g_seed + 29);
    const std::vector<uint32_t> rank = MakeRank(random);
    const ByTimeThenRank less{&rank};
    typename List::Context context(less, random());
    List list(&context);
    for (int64_t ts = 0; ts < 200; ++ts) list.Insert(Key{ts, 0});
    REQUIRE(list.Validate());
    Node* node = list.LowerBound(Key{100, 0});
    REQUIRE(node != nullptr);
    node->key.ts = 1000;  // now out of order on level 0
    CHECK(!list.Validate());
    node->key.ts = 100;
    CHECK(list.Validate());
    node->key.ts = 101;  // equal to its successor: the order must be strict
    CHECK(!list.Validate());
    node->key.ts = 100;
    CHECK(list.Validate());
  }
};

// Runs `body` in a child process and reports whether it died of SIGABRT (a failed
// SKIPTRAIL_DCHECK), with its stderr silenced.
bool DiesOfAbort(const std::function<void()>& body) {
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child == 0) {
    if (std::freopen("/dev/null", "w", stderr) == nullptr) _exit(3);
    body();
    _exit(0);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child) return false;
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

// The REQUIRES: of Insert, Erase and Update are checked when SKIPTRAIL_DCHECKS is on.
template <Links kLinks>
void ContractsAreChecked() {
  using H = Harness<kLinks>;
  g_test = std::string("REQUIRES: checked, ") + H::Mode();
  static const std::vector<uint32_t> rank = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  auto with_list = [](const std::function<void(typename H::List&, typename H::List&)>& body) {
    return [body] {
      typename H::List::Context context(ByTimeThenRank{&rank});
      typename H::List list(&context), other(&context);
      for (int64_t ts = 0; ts < 50; ++ts) {
        list.Insert(Key{ts, 1});
        other.Insert(Key{ts, 2});
      }
      body(list, other);
    };
  };
  CHECK(!DiesOfAbort(with_list([](auto& list, auto&) { list.Insert(Key{7, 2}); })));
  CHECK(DiesOfAbort(with_list([](auto& list, auto&) { list.Insert(Key{7, 1}); })));
  CHECK(DiesOfAbort(with_list([](auto& list, auto& other) { list.Erase(other.First()); })));
  CHECK(DiesOfAbort(with_list([](auto& list, auto&) { list.Update(list.First(), Key{9, 1}); })));
  CHECK(DiesOfAbort(with_list([](auto& list, auto& other) { list.Update(other.First(), Key{90, 1}); })));
}

}  // namespace

int main(int argc, char** argv) {
  g_seed = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20261130;
  for (const int64_t span : {4, 64, 100000}) {
    Harness<Links::kForward>::RandomSteps(4000, span, 3);
    Harness<Links::kBoth>::RandomSteps(4000, span, 3);
  }
  Harness<Links::kForward>::LongList(3000);
  Harness<Links::kBoth>::LongList(3000);
  Harness<Links::kForward>::ValidateSeesDisorder();
  Harness<Links::kBoth>::ValidateSeesDisorder();
  if (kDchecksOn) {
    ContractsAreChecked<Links::kForward>();
    ContractsAreChecked<Links::kBoth>();
  } else {
    std::printf("SKIPTRAIL_DCHECKS is off: REQUIRES: checks not tested\n");
  }
  std::printf("skiplist-test (seed %" PRIu64 "): %d checks, %d failures\n", g_seed, g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
