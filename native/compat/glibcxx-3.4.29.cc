// Compiled into the prebuilt addon only (binding.gyp: skiptrail_portable=1, set by
// scripts/prebuild.mjs), so that it loads with the C++ runtime of distributions older
// than GCC 11 (Debian 11, Ubuntu 20.04, RHEL 8).
//
// GCC 11's <new> allocator calls std::__throw_bad_array_new_length() when a container is
// asked for more than max_size() elements; that function is the only one the addon would
// otherwise take from libstdc++'s symbol version GLIBCXX_3.4.29 (everything else it uses
// is GLIBCXX_3.4.21 or older). This hidden definition is linked in its place. The addon is
// built without exceptions, so the throw it stands for could only end the process;
// aborting is the same outcome. No request the addon makes can reach it: every size is
// bounded by the index's options long before max_size().
#include <cstdlib>

namespace std {

__attribute__((visibility("hidden"), noreturn)) void __throw_bad_array_new_length() { std::abort(); }

}  // namespace std
