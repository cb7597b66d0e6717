// SKIPTRAIL_DCHECK(condition): checks a `REQUIRES:` contract in the builds made to
// find bugs, and compiles to nothing elsewhere.
//
// On when SKIPTRAIL_DCHECKS is defined: the Debug (ASan + UBSan) addon of binding.gyp,
// the native tests (scripts/native-tests.sh) and the fuzzer (scripts/fuzz.sh). Off in
// the Release addon and the benchmarks, where the condition is not even evaluated (so
// it may cost what it likes, but must have no side effect). A failed check prints the
// condition and where it is to stderr and aborts: the caller broke a contract, and
// going on would corrupt the engine.
//
// Only for conditions that are cheap next to the call they guard: O(1), or linear in
// what the call touches anyway. Input from JavaScript or a file is never checked this
// way; it is validated, and bad input is an error, not a broken contract.
#ifndef SKIPTRAIL_DCHECK_H_
#define SKIPTRAIL_DCHECK_H_

#ifdef SKIPTRAIL_DCHECKS

#include <cstdio>
#include <cstdlib>

namespace skiptrail {
constexpr bool kDchecksOn = true;
[[noreturn]] inline void DcheckFailed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: SKIPTRAIL_DCHECK failed: %s\n", file, line, condition);
  std::abort();
}
}  // namespace skiptrail

#define SKIPTRAIL_DCHECK(condition) \
  ((condition) ? static_cast<void>(0) : ::skiptrail::DcheckFailed(#condition, __FILE__, __LINE__))

#else

namespace skiptrail {
constexpr bool kDchecksOn = false;
}  // namespace skiptrail

// sizeof keeps the condition compiled (names and types checked) but never evaluated.
#define SKIPTRAIL_DCHECK(condition) static_cast<void>(sizeof(!(condition)))

#endif  // SKIPTRAIL_DCHECKS

#endif  // SKIPTRAIL_DCHECK_H_
