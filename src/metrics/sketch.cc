#include "metrics/sketch.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace thaw::metrics {
namespace {

const double kGamma = (1 + LogSketch::kRelativeAccuracy) / (1 - LogSketch::kRelativeAccuracy);
const double kInvLogGamma = 1.0 / std::log(kGamma);

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

void PutDouble(std::string& out, double d) {
  char buf[sizeof d];
  std::memcpy(buf, &d, sizeof d);
  out.append(buf, sizeof d);
}

bool GetDouble(std::string_view& in, double& d) {
  if (in.size() < sizeof d) return false;
  std::memcpy(&d, in.data(), sizeof d);
  in.remove_prefix(sizeof d);
  return true;
}

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Keeps a corrupt row from allocating gigabytes: 1e-9..1e300 spans ~70,000 bins at α = 0.5 %.
constexpr uint64_t kMaxBins = 1 << 17;

}  // namespace

int32_t LogSketch::IndexOf(double value) {
  return static_cast<int32_t>(std::ceil(std::log(value) * kInvLogGamma));
}

double LogSketch::ValueOf(int32_t index) { return 2 * std::pow(kGamma, index) / (kGamma + 1); }

void LogSketch::Grow(int32_t index) {
  if (bins_.empty()) {
    offset_ = index;
    bins_.assign(1, 0);
  } else if (index < offset_) {
    bins_.insert(bins_.begin(), static_cast<size_t>(offset_ - index), 0);
    offset_ = index;
  } else if (index >= offset_ + static_cast<int32_t>(bins_.size())) {
    bins_.resize(static_cast<size_t>(index - offset_ + 1), 0);
  }
}

void LogSketch::Add(double value, uint64_t n) {
  if (n == 0 || std::isnan(value)) return;
  if (count_ == 0) {
    min_ = max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  count_ += n;
  if (value <= kMinPositive) {
    zero_count_ += n;
    return;
  }
  int32_t index = IndexOf(value);
  Grow(index);
  bins_[static_cast<size_t>(index - offset_)] += n;
}

void LogSketch::Merge(const LogSketch& other) {
  if (other.count_ == 0) return;
  if (count_ == 0) {
    *this = other;
    return;
  }
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  zero_count_ += other.zero_count_;
  if (other.bins_.empty()) return;
  Grow(other.offset_);
  Grow(other.offset_ + static_cast<int32_t>(other.bins_.size()) - 1);
  for (size_t i = 0; i < other.bins_.size(); ++i) {
    bins_[static_cast<size_t>(other.offset_ - offset_) + i] += other.bins_[i];
  }
}

std::optional<double> LogSketch::Quantile(double q) const {
  if (count_ == 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  if (q == 0) return min_;
  if (q == 1) return max_;
  double rank = q * static_cast<double>(count_ - 1);
  uint64_t seen = zero_count_;
  if (static_cast<double>(seen) > rank) return std::clamp(0.0, min_, max_);
  for (size_t i = 0; i < bins_.size(); ++i) {
    seen += bins_[i];
    if (static_cast<double>(seen) > rank) {
      return std::clamp(ValueOf(offset_ + static_cast<int32_t>(i)), min_, max_);
    }
  }
  return max_;
}

void LogSketch::AppendTo(std::string& out) const {
  PutVarint(out, count_);
  if (count_ == 0) return;
  PutVarint(out, zero_count_);
  PutDouble(out, min_);
  PutDouble(out, max_);
  PutVarint(out, ZigZag(offset_));
  PutVarint(out, bins_.size());
  for (uint64_t b : bins_) PutVarint(out, b);
}

bool LogSketch::ReadFrom(std::string_view& in) {
  *this = LogSketch();
  if (!GetVarint(in, count_)) return false;
  if (count_ == 0) return true;
  uint64_t offset = 0, size = 0;
  if (!GetVarint(in, zero_count_) || !GetDouble(in, min_) || !GetDouble(in, max_) ||
      !GetVarint(in, offset) || !GetVarint(in, size) || size > kMaxBins) {
    return false;
  }
  offset_ = static_cast<int32_t>(UnZigZag(offset));
  bins_.resize(size);
  uint64_t total = zero_count_;
  for (uint64_t& b : bins_) {
    if (!GetVarint(in, b)) return false;
    total += b;
  }
  return total == count_;
}

}  // namespace thaw::metrics
