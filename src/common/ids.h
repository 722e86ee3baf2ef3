#pragma once

#include <string>

namespace thaw {

// A random version-4 UUID in its canonical lower-case text form (request ids).
std::string NewUuid();

// `n` random bytes as lower-case hex.
std::string RandomHex(size_t n);

}  // namespace thaw
