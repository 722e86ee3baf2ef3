#pragma once
// A mergeable percentile sketch with a relative-error guarantee (the DDSketch idea: Masson,
// Rim & Lee, VLDB 2019), written for thaw's per-minute aggregates.
//
// A positive value v falls in bin i = ceil(log_γ v) with γ = (1+α)/(1-α); the bin answers
// 2γ^i/(γ+1), which is within α of every value in it. So any quantile it returns is within a
// relative α of the value at that rank in the exact sorted data, whatever the distribution, and
// merging two sketches (adding their bins) loses nothing: a minute's sketch is the sum of its
// records', an hour's the sum of its minutes'. α = 0.5 % here, half of issue 5's 1 % budget.
//
// Values at or below kMinPositive (0 and negatives included: thaw's metrics are latencies,
// counts and utilisations, all ≥ 0) share one "zero" bin that answers 0.
//
// Bins are dense (a vector with an index offset): a minute of latencies spanning 100 µs..10 s
// is ~1,150 bins, varint-encoded to about as many bytes. Not thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace thaw::metrics {

class LogSketch {
 public:
  static constexpr double kRelativeAccuracy = 0.005;
  static constexpr double kMinPositive = 1e-9;

  void Add(double value, uint64_t n = 1);
  void Merge(const LogSketch& other);

  uint64_t count() const { return count_; }
  double min() const { return min_; }  // exact; meaningless when count() == 0
  double max() const { return max_; }
  // The value at rank q·(count-1) (lower rank), within kRelativeAccuracy, clamped to
  // [min, max]. q in [0, 1]. nullopt when empty.
  std::optional<double> Quantile(double q) const;

  // A compact binary form (varints); Parse(Serialize()) reproduces the sketch exactly.
  void AppendTo(std::string& out) const;
  // Reads a sketch from the front of `in` and advances it; false on malformed input.
  bool ReadFrom(std::string_view& in);

  bool operator==(const LogSketch&) const = default;

 private:
  static int32_t IndexOf(double value);
  static double ValueOf(int32_t index);
  void Grow(int32_t index);

  uint64_t count_ = 0;
  uint64_t zero_count_ = 0;
  double min_ = 0, max_ = 0;
  int32_t offset_ = 0;          // index of bins_[0]
  std::vector<uint64_t> bins_;  // counts of bins offset_ .. offset_ + size - 1
};

}  // namespace thaw::metrics
