#pragma once
// Replays a trace through fleet::PoolState and a fleet::KeepAlivePolicy — the very objects the
// server's pools run — with time as plain numbers (the fake clock of the replay): no threads, no
// processes, deterministic. One PoolState per app (the unit the paper keeps alive).
//
// Model: the n invocations of a function in minute m arrive at m·60 s + (i + ½)·60 s / n; each
// runs for the function's average execution time; MaxConcurrency is unlimited; a start takes
// `start_delay` (0: a cold start costs a wait of none, it is only counted). The day ends at
// `minutes`; workers still idle then are counted idle until then.

#include <cstdint>
#include <string>
#include <vector>

#include "fleet/keep_alive.h"
#include "sim/trace.h"

namespace thaw::sim {

struct ReplayOptions {
  std::chrono::microseconds start_delay{0};
  bool keep_per_app = false;  // fill Summary::per_app
};

struct AppResult {
  int64_t requests = 0;
  int64_t cold_starts = 0;
  int64_t prewarms = 0;
  int64_t prewarm_hits = 0;
  int64_t prewarm_wasted = 0;
  double idle_gb_s = 0;  // idle worker-seconds × memory in GB
};

struct Summary {
  std::string policy;
  int64_t requests = 0;
  int64_t cold_starts = 0;
  double cold_rate = 0;      // overall
  double p75_app_cold = 0;   // the 75th percentile of per-app cold-start rates
  double idle_gb_hours = 0;  // idle worker memory-time
  int64_t prewarms = 0;
  int64_t prewarm_hits = 0;
  int64_t prewarm_wasted = 0;
  int apps = 0;                    // apps with at least one request
  std::vector<AppResult> per_app;  // in trace order, with ReplayOptions::keep_per_app
};

AppResult ReplayApp(const AppTrace& app, int minutes, const fleet::KeepAlivePolicy& policy,
                    const ReplayOptions& options = {});
Summary Replay(const Trace& trace, const fleet::KeepAlivePolicy& policy,
               const ReplayOptions& options = {});
// The q-quantile (nearest rank) of `values`; 0 when empty.
double Quantile(std::vector<double> values, double q);

}  // namespace thaw::sim
