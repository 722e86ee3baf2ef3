#pragma once
// Versioned schema. Migration N brings the database from user_version N-1 to N; a released
// migration is never edited, only followed by a new one.

#include <span>

namespace thaw::store {

struct Migration {
  int version;
  const char* sql;
};

std::span<const Migration> Migrations();

}  // namespace thaw::store
