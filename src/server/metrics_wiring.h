#pragma once
// How the server feeds the metrics sampler without the fleet or the sandbox knowing about
// metrics: two decorators over the seams main() already owns, and the sample source on top.
//
//   TrackingServing   remembers which endpoints are live (Deploy/Remove pass through)
//   TrackingLauncher  remembers each launched worker's id and memory size (Launch/Kill pass
//                     through); its cgroup usage is read through `usage` (Zygote::MemoryUsage)
//   MakeSampleSource  per live endpoint: busy workers, MaxConcurrency, ProvisionedConcurrency
//                     from the fleet, and each live worker's memory use ÷ its limit
//   MakeGaugeSource   the thaw/KeepAlive namespace (metrics/live_gauges.h) from each live
//                     endpoint's keep-alive snapshot (Pool::keep_alive_report)

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "control/serving.h"
#include "fleet/fleet.h"
#include "fleet/launcher.h"
#include "metrics/live_gauges.h"
#include "metrics/record.h"

namespace thaw::server {

class TrackingServing final : public control::Serving {
 public:
  explicit TrackingServing(control::Serving& inner) : inner_(inner) {}
  Result<int64_t> Deploy(const std::string& endpoint, const nlohmann::json& snapshot,
                         bool trial_start) override;
  void Remove(const std::string& endpoint) override;
  std::set<std::string> endpoints() const;

 private:
  control::Serving& inner_;
  mutable std::mutex mu_;  // guards endpoints_
  std::set<std::string> endpoints_;
};

class TrackingLauncher final : public fleet::Launcher {
 public:
  // `usage(worker_id)`: bytes in use by the worker's memory cgroup, -1 once it is gone.
  TrackingLauncher(fleet::Launcher& inner, std::function<int64_t(const std::string&)> usage)
      : inner_(inner), usage_(std::move(usage)) {}
  Result<fleet::LaunchedWorker> Launch(const fleet::LaunchSpec& spec) override;
  Result<fleet::LaunchedWorker> LaunchFrom(pid_t template_pid,
                                           const fleet::LaunchSpec& spec) override;
  void Kill(pid_t pid) override { inner_.Kill(pid); }
  void Stop(pid_t pid, std::chrono::milliseconds grace) override { inner_.Stop(pid, grace); }
  void Note(const std::string& endpoint, const std::string& log_stream, std::string line) override {
    inner_.Note(endpoint, log_stream, std::move(line));
  }
  // endpoint → memory use of each live worker in percent of its limit. Forgets workers whose
  // cgroup is gone.
  std::map<std::string, std::vector<double>> MemoryPercent();

 private:
  fleet::Launcher& inner_;
  std::function<int64_t(const std::string&)> usage_;
  std::mutex mu_;                           // guards workers_
  std::map<std::string, int64_t> workers_;  // worker id ("<endpoint>.<n>.<hex>") → MB
};

metrics::SampleSource MakeSampleSource(fleet::Fleet& fleet, const TrackingServing& serving,
                                       TrackingLauncher& launcher);

// The thaw/KeepAlive values of one variant (pure): every metric of KeepAliveGauges() but
// PrewarmAt and RetireAt, which exist only while the endpoint is idle (and PrewarmAt only with a
// pre-warm window), and IdleTimes, one series per non-empty bin.
std::vector<metrics::GaugeValue> KeepAliveGaugeValues(const std::string& endpoint,
                                                      const std::string& variant,
                                                      const fleet::KeepAliveReport& report);

metrics::GaugeSource MakeGaugeSource(fleet::Fleet& fleet, const TrackingServing& serving);

}  // namespace thaw::server
