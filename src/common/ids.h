#pragma once

#include <string>

namespace thaw {

// A random version-4 UUID in its canonical lower-case text form (request ids). Cheap (no system
// call; a per-thread generator seeded from the OS): not for secrets.
std::string NewUuid();

// `n` random bytes as lower-case hex.
std::string RandomHex(size_t n);

}  // namespace thaw
