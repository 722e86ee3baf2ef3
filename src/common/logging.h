#pragma once
// Leveled, per-component structured logging on spdlog. A line reads
//   2026-11-27T22:53:13.123Z info  api  request op=CreateModel request_id=… status=200
// Level checks are inlined, so a disabled level costs a branch.

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace thaw {

// Configures the process-wide sink and level ("trace", "debug", "info", "warn", "error", "off").
// Returns false for an unknown level name.
bool InitLogging(const std::string& level);

// The logger of one component ("api", "control", "store", …), created on first use.
std::shared_ptr<spdlog::logger> Logger(const std::string& component);

}  // namespace thaw
