#include "server/metrics_wiring.h"

namespace thaw::server {

Result<int64_t> TrackingServing::Deploy(const std::string& endpoint, const nlohmann::json& snapshot,
                                        bool trial_start) {
  Result<int64_t> r = inner_.Deploy(endpoint, snapshot, trial_start);
  if (r.ok()) {
    std::lock_guard lock(mu_);
    endpoints_.insert(endpoint);
  }
  return r;
}

void TrackingServing::Remove(const std::string& endpoint) {
  inner_.Remove(endpoint);
  std::lock_guard lock(mu_);
  endpoints_.erase(endpoint);
}

std::set<std::string> TrackingServing::endpoints() const {
  std::lock_guard lock(mu_);
  return endpoints_;
}

Result<fleet::LaunchedWorker> TrackingLauncher::Launch(const fleet::LaunchSpec& spec) {
  Result<fleet::LaunchedWorker> w = inner_.Launch(spec);
  if (w.ok() && !spec.as_template) {  // a template serves nothing: not in MemoryUtilization
    std::lock_guard lock(mu_);
    workers_[spec.worker_id] = spec.memory_mb;
  }
  return w;
}

Result<fleet::LaunchedWorker> TrackingLauncher::LaunchFrom(pid_t template_pid,
                                                           const fleet::LaunchSpec& spec) {
  Result<fleet::LaunchedWorker> w = inner_.LaunchFrom(template_pid, spec);
  if (w.ok()) {
    std::lock_guard lock(mu_);
    workers_[spec.worker_id] = spec.memory_mb;
  }
  return w;
}

std::map<std::string, std::vector<double>> TrackingLauncher::MemoryPercent() {
  std::map<std::string, int64_t> workers;
  {
    std::lock_guard lock(mu_);
    workers = workers_;
  }
  std::map<std::string, std::vector<double>> out;
  std::vector<std::string> gone;
  for (const auto& [id, mb] : workers) {
    int64_t bytes = usage_(id);
    if (bytes < 0) {
      gone.push_back(id);
      continue;
    }
    if (mb <= 0) continue;
    std::string endpoint = id.substr(0, id.find('.'));
    out[endpoint].push_back(100.0 * static_cast<double>(bytes) /
                            (static_cast<double>(mb) * 1024 * 1024));
  }
  if (!gone.empty()) {
    std::lock_guard lock(mu_);
    for (const std::string& id : gone) workers_.erase(id);
  }
  return out;
}

metrics::SampleSource MakeSampleSource(fleet::Fleet& fleet, const TrackingServing& serving,
                                       TrackingLauncher& launcher) {
  return [&fleet, &serving, &launcher] {
    std::map<std::string, std::vector<double>> memory = launcher.MemoryPercent();
    std::vector<metrics::VariantSample> out;
    for (const std::string& endpoint : serving.endpoints()) {
      std::shared_ptr<fleet::Pool> pool = fleet.Find(endpoint);
      if (!pool) continue;
      const fleet::VariantSpec& spec = pool->spec();
      metrics::VariantSample s;
      s.endpoint = endpoint;
      s.variant = spec.variant;
      s.executing = pool->counts().busy;
      s.max_concurrency = spec.pool.instance_mode ? 0 : spec.pool.max_concurrency;
      s.provisioned = spec.pool.provisioned;
      s.memory_mb = spec.memory_mb;
      if (auto it = memory.find(endpoint); it != memory.end()) s.memory_percent = it->second;
      out.push_back(std::move(s));
    }
    return out;
  };
}

std::vector<metrics::GaugeValue> KeepAliveGaugeValues(const std::string& endpoint,
                                                      const std::string& variant,
                                                      const fleet::KeepAliveReport& r) {
  using metrics::GaugeValue;
  using metrics::SeriesKey;
  const std::string ns(metrics::kKeepAliveNamespace);
  auto seconds = [](std::chrono::microseconds d) { return static_cast<double>(d.count()) / 1e6; };
  std::vector<GaugeValue> out;
  auto put = [&](const char* name, double value, metrics::Dimensions extra = {}) {
    metrics::Dimensions dims = {{"EndpointName", endpoint}, {"VariantName", variant}};
    for (auto& d : extra) dims.push_back(std::move(d));
    out.push_back({SeriesKey::Make(ns, name, std::move(dims)), value});
  };
  // "fixed:600" → fixed: the window itself is KeepAliveSeconds.
  put("Policy", 1, {{"Policy", r.policy.substr(0, r.policy.find(':'))}});
  put("KeepAliveSeconds", seconds(r.window.keep_alive));
  put("PrewarmAfterSeconds", seconds(r.window.prewarm_after));
  if (r.idle_since) {
    double idle_start = ToEpochSeconds(*r.idle_since);
    if (r.window.prewarm_after.count() > 0) {
      put("PrewarmAt", idle_start + seconds(r.window.prewarm_after));
    }
    put("RetireAt", idle_start + seconds(r.window.keep_alive));
  }
  for (size_t i = 0; i < r.idle_counts.size(); ++i) {
    if (r.idle_counts[i] > 0) {
      put("IdleTimes", static_cast<double>(r.idle_counts[i]), {{"Bin", std::to_string(i)}});
    }
  }
  put("IdleTimesOutOfRange", static_cast<double>(r.idle_out_of_range));
  put("IdleTimeBinSeconds", seconds(r.bin));
  put("Requests", static_cast<double>(r.stats.requests));
  put("ColdStarts", static_cast<double>(r.stats.cold_starts));
  put("Prewarms", static_cast<double>(r.stats.prewarms));
  put("PrewarmHits", static_cast<double>(r.stats.prewarm_hits));
  put("WastedPrewarms", static_cast<double>(r.stats.prewarm_wasted));
  double idle_s = static_cast<double>(r.stats.idle_worker_us) / 1e6;
  put("IdleWorkerSeconds", idle_s);
  put("IdleGBSeconds", idle_s * static_cast<double>(r.memory_mb) / 1024.0);
  return out;
}

metrics::GaugeSource MakeGaugeSource(fleet::Fleet& fleet, const TrackingServing& serving) {
  return [&fleet, &serving](const std::string& endpoint) {
    std::vector<metrics::GaugeValue> out;
    std::set<std::string> names;
    if (endpoint.empty()) {
      names = serving.endpoints();
    } else {
      names.insert(endpoint);
    }
    for (const std::string& name : names) {
      std::shared_ptr<fleet::Pool> pool = fleet.Find(name);
      if (!pool) continue;
      for (metrics::GaugeValue& g :
           KeepAliveGaugeValues(name, pool->spec().variant, pool->keep_alive_report())) {
        out.push_back(std::move(g));
      }
    }
    return out;
  };
}

}  // namespace thaw::server
