#pragma once
// Keep-alive policies (issue 8): from an endpoint's history of idle times, when an idle worker
// retires and whether a worker is pre-warmed ahead of the predicted next request. Pure: no clock
// reads, no I/O. PoolState (pool_state.h) owns one IdleHistogram per concurrency level of a
// pool, feeds it the idle time of every idle period of that level that ends, asks its policy
// for a KeepAliveWindow whenever a new one begins, and carries the windows out in Tick. `thaw
// simulate` (src/sim) replays traces through the same PoolState and policy objects.
//
// Concurrency levels. An endpoint that runs k requests at once needs k workers, so its history
// is kept per level: level k is idle from the moment fewer than k requests are in flight to the
// moment the k-th is admitted again. Level 1 is the endpoint's own idle period (nothing in
// flight); level k > 1 is the k-th concurrent worker's. Each level has its own histogram and
// window, both counted from the start of its idle period:
//  - prewarm_after = 0: the worker that went idle stays warm for keep_alive;
//  - prewarm_after > 0: it is unloaded at once; at idle start + prewarm_after the pool is
//    brought back to k workers (a pre-warm), kept until idle start + keep_alive.
// With most recently used assignment, the worker released when the level fell is the one the
// level takes again, so a level's window is its worker's.
//
// The adaptive policy is the hybrid histogram of "Serverless in the Wild" (Shahrad et al.,
// ATC'20), with the thresholds of the dslab reproduction (PERFORMANCE-ANCHORS.md §2.1), applied
// to each level's histogram:
//  - idle times in `bins` bins of `bin` width (1 min × 240 = 4 h); longer ones are out of bounds
//    (OOB);
//  - representative histogram (at least `min_samples` in-range idle times and a coefficient of
//    variation of the bin counts of at least `cv_threshold`): pre-warm at the lower edge of the
//    head (5th percentile) bin × (1 − margin), keep until the upper edge of the tail (99th
//    percentile) bin × (1 + margin). A head of bin 0 means no pre-warm, unless the histogram
//    has two modes: when bins between the head and the tail hold no more idle times than the
//    tail leaves out (1 − tail), the longest such gap is slept through: warm until its lower
//    edge × (1 + margin), pre-warm at its upper edge × (1 − margin). A burst's worker that is
//    re-used within seconds inside a burst and again at the next burst half an hour later (the
//    Azure trace's periodic apps) is then not kept through the half hour;
//  - more than `oob_threshold` of the idle times OOB (and at least `min_samples`): the paper
//    fits ARIMA; we use a documented simpler predictor, the mean of the last `oob_window` OOB
//    idle times, pre-warm at prediction × (1 − oob_margin) and keep until × (1 + oob_margin);
//  - otherwise (thin or flat history): the paper's standard keep-alive, no pre-warm; level 1
//    (one warm worker per endpoint: what makes a rare endpoint warm) keeps `standard_keep_alive`
//    (default: the histogram's range, 4 h), the levels above `fallback_keep_alive` (never
//    longer): a burst's extra workers are what costs memory until their level has a pattern.
// Two rules for levels above 1, where histograms are thin and many:
//  - prior: while a level has fewer than `min_samples` idle times, it takes the window of the
//    level below (its idle periods contain that level's: reaching k passes k − 1);
//  - share: a level whose idle periods so far number fewer than `level_share` (2 %) of the
//    endpoint's requests keeps at most the fallback, and no pre-warm, whatever its histogram
//    says (its own window when that is shorter). The paper's measure is
//    each endpoint's cold-start rate; such a level can move it by less than that share, and an
//    endpoint running hundreds at once (a periodic burst every 30 min in the Azure trace) would
//    otherwise keep hundreds of workers through every gap.
// The paper keeps one container per app; bursty apps of the Azure trace run tens to hundreds at
// once, and their extra workers' levels are where their cold starts come from (issue 8).

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
  // With a pre-warm: how long the worker stays warm first (the short idle times of a two-mode
  // history), before it is unloaded until the pre-warm. 0: unloaded at once.
  Micros warm_first{0};
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

// What a policy knows of the level it decides for besides its history.
struct LevelInfo {
  int level = 1;          // 1: the endpoint
  int64_t requests = 0;   // the endpoint's admitted requests so far
  KeepAliveWindow below;  // level − 1's current window (level > 1)
};

class KeepAlivePolicy {
 public:
  virtual ~KeepAlivePolicy() = default;
  // A fresh, empty history for one endpoint, shaped for this policy.
  virtual IdleHistogram NewHistory() const = 0;
  // The window for the idle period of a concurrency level (see above) that starts now, from
  // that level's history of the previous ones.
  virtual KeepAliveWindow Decide(const IdleHistogram& history, const LevelInfo& level) const = 0;
  virtual std::string Name() const = 0;
};

// Today's --keep-alive: the same window for every endpoint, never a pre-warm.
class FixedKeepAlive final : public KeepAlivePolicy {
 public:
  explicit FixedKeepAlive(Micros keep_alive) : keep_alive_(keep_alive) {}
  IdleHistogram NewHistory() const override { return IdleHistogram(std::chrono::minutes(1), 1, 0); }
  KeepAliveWindow Decide(const IdleHistogram&, const LevelInfo&) const override {
    return {Micros(0), keep_alive_};
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
  // Levels above 1: keep-alive while their pattern is uncertain.
  Micros fallback_keep_alive = std::chrono::minutes(10);
  // Level 1: keep-alive while the pattern is uncertain; 0: the histogram's range (bins × bin),
  // as in the paper.
  Micros standard_keep_alive{0};
  size_t oob_window = 4;
  double oob_margin = 0.15;
  // Levels above 1: a level whose idle periods so far are fewer than this share of the
  // endpoint's requests keeps the fallback (its cold starts could move the endpoint's
  // cold-start rate by less than this share).
  double level_share = 0.02;
};

class AdaptiveKeepAlive final : public KeepAlivePolicy {
 public:
  explicit AdaptiveKeepAlive(AdaptiveParams params = {}) : p_(params) {}
  IdleHistogram NewHistory() const override {
    return IdleHistogram(p_.bin, p_.bins, p_.oob_window);
  }
  KeepAliveWindow Decide(const IdleHistogram& history, const LevelInfo& level) const override;
  std::string Name() const override { return "adaptive"; }
  const AdaptiveParams& params() const { return p_; }

 private:
  // The hybrid-histogram window from `h` (at least min_samples idle times), `fallback` when it
  // is flat or its out-of-bounds predictor has nothing.
  KeepAliveWindow FromHistory(const IdleHistogram& h, const KeepAliveWindow& fallback) const;
  AdaptiveParams p_;
};

// "fixed:<seconds>" or "adaptive" (the form `thaw simulate --policy` and the server take).
Result<std::shared_ptr<const KeepAlivePolicy>> ParsePolicy(const std::string& spec,
                                                           const AdaptiveParams& adaptive = {});

}  // namespace thaw::fleet
