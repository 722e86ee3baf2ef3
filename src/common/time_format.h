#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace thaw {

// "2023-01-01T00:00:00Z" (whole seconds) or with ".123Z" when `millis` is set.
std::string FormatIso8601(WallTime t, bool millis = false);

// Parses "YYYY-MM-DDThh:mm:ss[.fff]Z" (also "+00:00"). nullopt when malformed.
std::optional<WallTime> ParseIso8601(std::string_view s);

}  // namespace thaw
