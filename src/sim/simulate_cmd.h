#pragma once
// `thaw simulate --trace DIR --sample N --policy P [--sweep] [--out DIR]`: replays a trace
// sample through the keep-alive policies (replay.h) and prints, per policy, the cold-start
// rate overall and the 75th percentile of per-app rates, idle GB-hours and pre-warm counts.
// --sweep replays fixed keep-alives of 1–120 minutes and the adaptive policy, and writes the
// Pareto plot as pareto.svg and pareto.png (and the table as pareto.csv) under --out.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace thaw::sim {

class SimulateCommand {
 public:
  explicit SimulateCommand(CLI::App& app);
  // The exit code when `simulate` was the parsed subcommand.
  std::optional<int> RunParsed();

 private:
  CLI::App* cmd_;
  std::string trace_dir_;
  int sample_ = 1000;
  std::string policy_ = "adaptive";
  bool sweep_ = false;
  std::string out_dir_ = ".";
  int64_t start_ms_ = 0;
  std::string per_app_csv_;
  int64_t fallback_s_ = 600;
  int64_t min_samples_ = 5;
  int64_t standard_s_ = 0;
  double cv_threshold_ = 2.0;
  double level_share_ = 0.02;
};

}  // namespace thaw::sim
