// EnsureIndex: the one helper of the per-id state vectors (indexes and presence keep
// their state in vectors indexed by interned id).
#ifndef SKIPTRAIL_ENSURE_INDEX_H_
#define SKIPTRAIL_ENSURE_INDEX_H_

#include <cstdint>

namespace skiptrail {

// Grows a vector indexed by id so that `id` is a valid index, constructing new
// elements from `args`.
template <typename Vector, typename... Args>
inline void EnsureIndex(Vector& vector, uint32_t id, Args&&... args) {
  while (vector.size() <= id) vector.emplace_back(args...);
}

}  // namespace skiptrail

#endif  // SKIPTRAIL_ENSURE_INDEX_H_
