#pragma once
// An Azure-Functions-2019-format trace sample (Shahrad et al., ATC'20; the vHive `invitro`
// resampling in ../shared/traces): per function, invocations per minute of one day; per
// function, the average execution time; per app, the average allocated memory.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"

namespace thaw::sim {

struct FunctionTrace {
  std::string hash;
  int64_t duration_us = 0;           // N_run.csv Average (ms), at least 1 ms
  std::vector<uint32_t> per_minute;  // invocations in each minute of the day
};

// One app: the unit of keep-alive (an app's functions share its workers, as in the paper).
struct AppTrace {
  std::string hash;
  int64_t memory_mb = 0;  // N_mem.csv AverageAllocatedMb; kDefaultMemoryMb when absent
  std::vector<FunctionTrace> functions;
};

struct Trace {
  int minutes = 0;
  std::vector<AppTrace> apps;  // sorted by hash: the replay order is deterministic
  int64_t invocations = 0;
};

inline constexpr int64_t kDefaultMemoryMb = 170;  // the trace's median app (§2.1)

// Reads DIR/N_inv.csv, DIR/N_run.csv and DIR/N_mem.csv.
Result<Trace> LoadTrace(const std::filesystem::path& dir, int sample);

}  // namespace thaw::sim
