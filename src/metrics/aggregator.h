#pragma once
// Folds invocation records and fleet samples into per-minute aggregates, one per (namespace,
// metric, exact dimension set): SampleCount, Sum, Minimum, Maximum and a LogSketch for pNN.
//
// Pure bookkeeping, no clock, no I/O, not thread-safe (MetricsService serialises it). It holds
// only what was added since the last TakeDeltas(): the store merges those deltas into its rows,
// so a late record for an old minute is merged, never overwrites, and memory stays small.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "metrics/catalog.h"
#include "metrics/record.h"
#include "metrics/sketch.h"

namespace thaw::metrics {

struct Aggregate {
  double sum = 0;
  LogSketch sketch;  // also holds SampleCount, Minimum, Maximum (exact)

  void Add(double value) {
    sum += value;
    sketch.Add(value);
  }
  void Merge(const Aggregate& other) {
    sum += other.sum;
    sketch.Merge(other.sketch);
  }
  uint64_t count() const { return sketch.count(); }
  std::string Serialize() const;
  static std::optional<Aggregate> Parse(std::string_view bytes);
};

struct SeriesDelta {
  SeriesKey key;
  std::string unit;
  std::map<Minute, Aggregate> minutes;
};

// canonical series key → what was added to it
using Deltas = std::map<std::string, SeriesDelta>;

inline Minute MinuteOf(WallTime t) {
  int64_t us = ToEpochMicros(t);
  return (us >= 0 ? us : us - 59'999'999) / 60'000'000;
}

class Aggregator {
 public:
  void Add(const InvocationRecord& record);
  // One sampling instant; `interval_s` is the time the sample stands for (billing of PC).
  void AddSample(const VariantSample& sample, WallTime now, double interval_s);
  void AddValue(const SeriesKey& key, std::string_view unit, WallTime time, double value);

  Deltas TakeDeltas();
  // Puts deltas back (merging) after a failed write, so nothing is lost.
  void Restore(Deltas deltas);
  const Deltas& deltas() const { return deltas_; }

 private:
  struct Keys {
    std::string canonical[static_cast<size_t>(MetricId::kProvisionedConcurrencySeconds) + 1];
    SeriesKey key[static_cast<size_t>(MetricId::kProvisionedConcurrencySeconds) + 1];
    std::string billed_canonical[2];  // BilledDuration by Capacity: OnDemand, Provisioned
    SeriesKey billed_key[2];
  };
  const Keys& KeysFor(const std::string& endpoint, const std::string& variant, int64_t memory_mb);
  void Put(const std::string& canonical, const SeriesKey& key, std::string_view unit, Minute minute,
           double value);
  void Put(const Keys& keys, MetricId id, Minute minute, double value);

  Deltas deltas_;
  std::map<std::string, Keys> keys_;  // endpoint \0 variant \0 memory → its series keys
};

}  // namespace thaw::metrics
