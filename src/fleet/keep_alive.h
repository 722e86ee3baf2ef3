#pragma once
// Keep-alive policies (issue 8): from an endpoint's history of idle times, when an idle worker
// retires and whether a worker is pre-warmed ahead of the predicted next request. Pure: no clock
// reads, no I/O. PoolState (pool_state.h) owns one IdleHistogram per pool, feeds it the idle
// time of every idle period that ends, asks its policy for a KeepAliveWindow whenever a new
// idle period begins, and carries the window out in Tick. `thaw simulate` (src/sim) replays
// traces through the same PoolState and policy objects.
//
// An idle period of an endpoint runs from the moment its last in-flight request finished to the
// arrival of the next request. Both windows count from its start:
//  - prewarm_after = 0: the workers stay warm until keep_alive after they were last used;
//  - prewarm_after > 0: a worker is unloaded as soon as it goes idle; one worker is started again
//    at idle start + prewarm_after (a pre-warm) and kept until idle start + keep_alive.
//
// The adaptive policy is the hybrid histogram of "Serverless in the Wild" (Shahrad et al.,
// ATC'20), with the thresholds of the dslab reproduction (PERFORMANCE-ANCHORS.md §2.1):
//  - idle times in `bins` bins of `bin` width (1 min × 240 = 4 h); longer ones are out of bounds
//    (OOB);
//  - representative histogram (at least `min_samples` in-range idle times and a coefficient of
//    variation of the bin counts of at least `cv_threshold`): pre-warm at the lower edge of the
//    head (5th percentile) bin × (1 − margin), keep until the upper edge of the tail (99th
//    percentile) bin × (1 + margin). A head of bin 0 means no pre-warm;
//  - more than `oob_threshold` of the idle times OOB (and at least `min_samples`): the paper
//    fits ARIMA; we use a documented simpler predictor, the mean of the last `oob_window` OOB
//    idle times, pre-warm at prediction × (1 − oob_margin) and keep until × (1 + oob_margin);
//  - otherwise (thin or flat history): the paper's standard keep-alive, no pre-warm and the
//    most recently used worker kept for `standard_keep_alive` (default: the histogram's range,
//    4 h), the other idle workers for `fallback_keep_alive`. One worker per endpoint is what
//    makes a rare endpoint warm; the burst's extra workers are what costs memory (issue 8:
//    keeping the newest worker 10 min instead of 4 h left the 75th-percentile app cold).
// Concurrency (the paper keeps one container per app): the windows above apply to the most
// recently used worker; other idle workers keep min(window, fallback_keep_alive); a pre-warm
// starts as many workers as the last busy period ran at once.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace thaw::fleet {

using Micros = std::chrono::microseconds;

struct KeepAliveWindow {
  Micros prewarm_after{0};  // 0: no pre-warm, keep the workers warm
  Micros keep_alive{0};
  // For idle workers other than the most recently used one: the histogram predicts when the
  // endpoint's next request comes, not how many run at once, so the extra workers a burst
  // needed keep a standard window (never longer than keep_alive).
  Micros extra_keep_alive{0};
  friend bool operator==(const KeepAliveWindow&, const KeepAliveWindow&) = default;
};

// A range-limited histogram of an endpoint's idle times.
class IdleHistogram {
 public:
  IdleHistogram(Micros bin, int bins, size_t oob_window)
      : bin_(bin), counts_(static_cast<size_t>(bins), 0), oob_window_(oob_window) {}

  void Record(Micros idle);

  Micros bin() const { return bin_; }
  int bins() const { return static_cast<int>(counts_.size()); }
  int64_t in_range() const { return in_range_; }
  int64_t oob() const { return oob_; }
  int64_t total() const { return in_range_ + oob_; }
  const std::vector<int64_t>& counts() const { return counts_; }
  // The bin holding the q-th quantile (0 < q <= 1) of the in-range idle times: the first bin at
  // which the cumulative count reaches q × in_range. -1 when empty.
  int PercentileBin(double q) const;
  // Coefficient of variation (stddev / mean) of the bin counts; 0 when empty. O(1): the sum
  // of the squared counts is kept as they grow (Decide runs at every idle start).
  double CountCv() const;
  // The last OOB idle times, oldest first (at most oob_window).
  const std::deque<Micros>& recent_oob() const { return recent_oob_; }

 private:
  Micros bin_;
  std::vector<int64_t> counts_;
  int64_t in_range_ = 0;
  int64_t oob_ = 0;
  int64_t sum_squares_ = 0;  // Σ counts_[i]²
  size_t oob_window_;
  std::deque<Micros> recent_oob_;
};

class KeepAlivePolicy {
 public:
  virtual ~KeepAlivePolicy() = default;
  // A fresh, empty history for one endpoint, shaped for this policy.
  virtual IdleHistogram NewHistory() const = 0;
  // The window for the idle period that starts now, from the history of the previous ones.
  virtual KeepAliveWindow Decide(const IdleHistogram& history) const = 0;
  virtual std::string Name() const = 0;
};

// Today's --keep-alive: the same window for every endpoint, never a pre-warm.
class FixedKeepAlive final : public KeepAlivePolicy {
 public:
  explicit FixedKeepAlive(Micros keep_alive) : keep_alive_(keep_alive) {}
  IdleHistogram NewHistory() const override { return IdleHistogram(std::chrono::minutes(1), 1, 0); }
  KeepAliveWindow Decide(const IdleHistogram&) const override {
    return {Micros(0), keep_alive_, keep_alive_};
  }
  std::string Name() const override;

 private:
  Micros keep_alive_;
};

struct AdaptiveParams {
  Micros bin = std::chrono::minutes(1);
  int bins = 240;  // 4 h range
  double head = 0.05;
  double tail = 0.99;
  double margin = 0.10;
  double cv_threshold = 2.0;
  double oob_threshold = 0.5;
  int64_t min_samples = 5;
  Micros fallback_keep_alive = std::chrono::minutes(10);
  // The newest worker's keep-alive while the pattern is uncertain; 0: the histogram's range
  // (bins × bin), as in the paper.
  Micros standard_keep_alive{0};
  size_t oob_window = 4;
  double oob_margin = 0.15;
};

class AdaptiveKeepAlive final : public KeepAlivePolicy {
 public:
  explicit AdaptiveKeepAlive(AdaptiveParams params = {}) : p_(params) {}
  IdleHistogram NewHistory() const override {
    return IdleHistogram(p_.bin, p_.bins, p_.oob_window);
  }
  KeepAliveWindow Decide(const IdleHistogram& history) const override;
  std::string Name() const override { return "adaptive"; }
  const AdaptiveParams& params() const { return p_; }

 private:
  AdaptiveParams p_;
};

// "fixed:<seconds>" or "adaptive" (the form `thaw simulate --policy` and the server take).
Result<std::shared_ptr<const KeepAlivePolicy>> ParsePolicy(const std::string& spec,
                                                           const AdaptiveParams& adaptive = {});

}  // namespace thaw::fleet
