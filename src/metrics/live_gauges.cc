#include "metrics/live_gauges.h"

namespace thaw::metrics {

const std::vector<GaugeInfo>& KeepAliveGauges() {
  static const std::vector<GaugeInfo> kAll = {
      {"Policy", "None"},                  // 1; dimension Policy = fixed | adaptive
      {"KeepAliveSeconds", "Seconds"},     // the current window, from the idle period's start
      {"PrewarmAfterSeconds", "Seconds"},  // 0: no pre-warm (the workers stay warm)
      {"PrewarmAt", "Seconds"},  // epoch seconds of the next pre-warm (only while one is due)
      {"RetireAt", "Seconds"},   // epoch seconds at which the last warm worker retires (idle)
      {"IdleTimes", "Count"},    // idle times recorded in the histogram bin Bin (non-zero bins)
      {"IdleTimesOutOfRange", "Count"},   // idle times longer than the histogram's range
      {"IdleTimeBinSeconds", "Seconds"},  // the width of one histogram bin
      {"Requests", "Count"},              // admitted since the endpoint's deploy
      {"ColdStarts", "Count"},
      {"Prewarms", "Count"},
      {"PrewarmHits", "Count"},
      {"WastedPrewarms", "Count"},
      {"IdleWorkerSeconds", "Seconds"},  // worker-seconds spent idle (ended idle spells)
      {"IdleGBSeconds", "None"},         // the same × MemorySizeInMB / 1024
  };
  return kAll;
}

bool IsLiveNamespace(std::string_view ns) { return ns == kKeepAliveNamespace; }

std::string_view LiveUnit(std::string_view ns, std::string_view name) {
  if (!IsLiveNamespace(ns)) return {};
  for (const GaugeInfo& g : KeepAliveGauges()) {
    if (g.name == name) return g.unit;
  }
  return {};
}

}  // namespace thaw::metrics
