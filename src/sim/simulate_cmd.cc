#include "sim/simulate_cmd.h"

#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "sim/plot.h"
#include "sim/replay.h"

namespace thaw::sim {

SimulateCommand::SimulateCommand(CLI::App& app) {
  cmd_ = app.add_subcommand("simulate",
                            "replay an Azure-2019-format trace through the keep-alive policies");
  cmd_->add_option("--trace", trace_dir_, "directory holding N_inv.csv, N_run.csv, N_mem.csv")
      ->required();
  cmd_->add_option("--sample", sample_, "the sample N (file prefix)")->capture_default_str();
  cmd_->add_option("--policy", policy_, "adaptive | fixed:<seconds> | <seconds>")
      ->capture_default_str();
  cmd_->add_flag("--sweep", sweep_, "fixed 1-120 min and adaptive; writes the Pareto plot");
  cmd_->add_option("--out", out_dir_, "where --sweep writes pareto.{svg,png,csv}")
      ->capture_default_str();
  cmd_->add_option("--start-ms", start_ms_, "how long a worker start takes in the replay")
      ->capture_default_str()
      ->check(CLI::Range(0, 600'000));
  cmd_->add_option("--per-app", per_app_csv_, "also write every app's result to this CSV file");
  cmd_->add_option("--fallback-s", fallback_s_,
                   "adaptive: keep-alive (s) of the extra idle workers while the histogram is "
                   "thin or flat")
      ->capture_default_str();
  cmd_->add_option("--standard-s", standard_s_,
                   "adaptive: keep-alive (s) of the newest idle worker while the histogram is "
                   "thin or flat (0: the histogram's range, 4 h)")
      ->capture_default_str();
  cmd_->add_option("--min-samples", min_samples_,
                   "adaptive: idle times before the histogram is used")
      ->capture_default_str();
  cmd_->add_option("--cv-threshold", cv_threshold_,
                   "adaptive: bin-count coefficient of variation below which it is flat")
      ->capture_default_str();
  cmd_->add_option("--level-share", level_share_,
                   "adaptive: a concurrency level above 1 with fewer idle periods than this share "
                   "of the endpoint's requests keeps the fallback")
      ->capture_default_str();
}

std::optional<int> SimulateCommand::RunParsed() {
  if (!cmd_->parsed()) return std::nullopt;
  auto t0 = std::chrono::steady_clock::now();
  Result<Trace> trace = LoadTrace(trace_dir_, sample_);
  if (!trace.ok()) {
    std::cerr << "error: " << trace.status().message() << "\n";
    return 2;
  }
  fleet::AdaptiveParams adaptive;
  adaptive.fallback_keep_alive = std::chrono::seconds(fallback_s_);
  adaptive.min_samples = min_samples_;
  adaptive.standard_keep_alive = std::chrono::seconds(standard_s_);
  adaptive.cv_threshold = cv_threshold_;
  adaptive.level_share = level_share_;
  std::vector<std::shared_ptr<const fleet::KeepAlivePolicy>> policies;
  if (sweep_) {
    for (int m : {1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120}) {
      policies.push_back(std::make_shared<fleet::FixedKeepAlive>(std::chrono::minutes(m)));
    }
    policies.push_back(std::make_shared<fleet::AdaptiveKeepAlive>(adaptive));
  } else {
    auto p = fleet::ParsePolicy(policy_, adaptive);
    if (!p.ok()) {
      std::cerr << "error: " << p.status().message() << "\n";
      return 2;
    }
    policies.push_back(*p);
  }
  ReplayOptions options;
  options.start_delay = std::chrono::milliseconds(start_ms_);
  options.keep_per_app = !per_app_csv_.empty();

  // Policies replay independently (each owns its PoolStates): two at a time.
  std::vector<Summary> results(policies.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < policies.size();) {
      results[i] = Replay(*trace, *policies[i], options);
    }
  };
  size_t threads = std::min<size_t>(policies.size(), 2);
  std::vector<std::thread> pool;
  for (size_t i = 1; i < threads; ++i) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::cout << fmt::format("trace {}/{}: {} apps, {} invocations, {} minutes\n", trace_dir_,
                           sample_, trace->apps.size(), trace->invocations, trace->minutes);
  std::cout << fmt::format("{:<12} {:>10} {:>10} {:>14} {:>10} {:>10} {:>10}\n", "policy", "cold %",
                           "p75 app %", "idle GB-h", "prewarms", "hits", "wasted");
  std::string csv = "policy,cold_rate,p75_app_cold_rate,idle_gb_hours,prewarms,hits,wasted\n";
  std::vector<PlotPoint> points;
  for (const Summary& s : results) {
    std::cout << fmt::format("{:<12} {:>10.3f} {:>10.2f} {:>14.1f} {:>10} {:>10} {:>10}\n",
                             s.policy, s.cold_rate * 100, s.p75_app_cold * 100, s.idle_gb_hours,
                             s.prewarms, s.prewarm_hits, s.prewarm_wasted);
    csv += fmt::format("{},{:.6f},{:.6f},{:.3f},{},{},{}\n", s.policy, s.cold_rate, s.p75_app_cold,
                       s.idle_gb_hours, s.prewarms, s.prewarm_hits, s.prewarm_wasted);
    std::string label = s.policy == "adaptive"
                            ? "adaptive"
                            : fmt::format("{} min", std::stoi(s.policy.substr(6)) / 60);
    points.push_back({label, s.idle_gb_hours, s.p75_app_cold, s.policy == "adaptive"});
  }
  std::cerr << fmt::format("replayed {} polic{} in {:.1f} s\n", results.size(),
                           results.size() == 1 ? "y" : "ies", secs);
  if (!per_app_csv_.empty()) {
    std::string rows = "policy,app,memory_mb,requests,cold_starts,prewarms,hits,wasted,idle_gb_s\n";
    for (const Summary& s : results) {
      for (size_t i = 0; i < s.per_app.size(); ++i) {
        const AppResult& r = s.per_app[i];
        rows += fmt::format("{},{},{},{},{},{},{},{},{:.1f}\n", s.policy, trace->apps[i].hash,
                            trace->apps[i].memory_mb, r.requests, r.cold_starts, r.prewarms,
                            r.prewarm_hits, r.prewarm_wasted, r.idle_gb_s);
      }
    }
    if (Status st = WriteFile(per_app_csv_, rows); !st.ok()) {
      std::cerr << "error: " << st.message() << "\n";
      return 1;
    }
  }
  if (sweep_) {
    std::filesystem::path out(out_dir_);
    std::string title =
        fmt::format("Keep-alive policies on Azure 2019 sample {} (one day)", sample_);
    for (auto [name, bytes] :
         {std::pair{"pareto.svg", ParetoSvg(points, title)},
          std::pair{"pareto.png", ParetoPng(points)}, std::pair{"pareto.csv", csv}}) {
      Status st = WriteFile(out / name, bytes);
      if (!st.ok()) {
        std::cerr << "error: " << st.message() << "\n";
        return 1;
      }
      std::cerr << "wrote " << (out / name).string() << "\n";
    }
  }
  return 0;
}

}  // namespace thaw::sim
