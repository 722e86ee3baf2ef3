#include "fleet/keep_alive.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace thaw::fleet {

void IdleHistogram::Record(Micros idle) {
  if (idle.count() < 0) idle = Micros(0);
  int64_t b = idle.count() / bin_.count();
  if (b < static_cast<int64_t>(counts_.size())) {
    int64_t& count = counts_[static_cast<size_t>(b)];
    sum_squares_ += 2 * count + 1;  // (c + 1)² − c²
    ++count;
    ++in_range_;
    return;
  }
  ++oob_;
  if (oob_window_ == 0) return;
  recent_oob_.push_back(idle);
  if (recent_oob_.size() > oob_window_) recent_oob_.pop_front();
}

int IdleHistogram::PercentileBin(double q) const {
  if (in_range_ == 0) return -1;
  // The smallest count c with c >= q × n, in integers: ceil(q × n), at least 1.
  auto need = static_cast<int64_t>(std::ceil(q * static_cast<double>(in_range_) - 1e-9));
  if (need < 1) need = 1;
  int64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= need) return static_cast<int>(i);
  }
  return static_cast<int>(counts_.size()) - 1;
}

double IdleHistogram::CountCv() const {
  if (in_range_ == 0 || counts_.empty()) return 0;
  // Population variance of the bin counts: E[c²] − E[c]².
  double n = static_cast<double>(counts_.size());
  double mean = static_cast<double>(in_range_) / n;
  double var = std::max(0.0, static_cast<double>(sum_squares_) / n - mean * mean);
  return std::sqrt(var) / mean;
}

std::string FixedKeepAlive::Name() const {
  return fmt::format("fixed:{}",
                     std::chrono::duration_cast<std::chrono::seconds>(keep_alive_).count());
}

namespace {
Micros Scale(Micros d, double f) {
  return Micros(static_cast<int64_t>(std::llround(static_cast<double>(d.count()) * f)));
}
}  // namespace

KeepAliveWindow AdaptiveKeepAlive::Decide(const IdleHistogram& h, const LevelInfo& level) const {
  // Uncertain pattern: level 1 keeps the standard window, the levels above the fallback (never
  // longer than level 1's).
  const Micros standard =
      p_.standard_keep_alive.count() > 0 ? p_.standard_keep_alive : p_.bin * p_.bins;
  const KeepAliveWindow fallback{
      Micros(0), level.level <= 1 ? standard : std::min(standard, p_.fallback_keep_alive)};
  if (level.level > 1) {
    if (static_cast<double>(h.total()) < p_.level_share * static_cast<double>(level.requests)) {
      // A rare level: the fallback caps its window, it never lengthens it.
      if (h.total() < p_.min_samples) return fallback;
      KeepAliveWindow own = FromHistory(h, fallback);
      if (own.prewarm_after.count() > 0) return fallback;
      return {Micros(0), std::min(own.keep_alive, fallback.keep_alive)};
    }
    if (h.total() < p_.min_samples) return level.below;
  }
  if (h.total() < p_.min_samples) return fallback;
  return FromHistory(h, fallback);
}

KeepAliveWindow AdaptiveKeepAlive::FromHistory(const IdleHistogram& h,
                                               const KeepAliveWindow& fallback) const {
  double oob_share = static_cast<double>(h.oob()) / static_cast<double>(h.total());
  if (oob_share > p_.oob_threshold) {
    // Out of the histogram's range: predict the next idle time as the mean of the last OOB ones.
    const auto& recent = h.recent_oob();
    if (recent.empty()) return fallback;
    Micros sum = std::accumulate(recent.begin(), recent.end(), Micros(0));
    Micros predicted = sum / static_cast<int64_t>(recent.size());
    return {Scale(predicted, 1 - p_.oob_margin), Scale(predicted, 1 + p_.oob_margin)};
  }
  if (h.in_range() < p_.min_samples || h.CountCv() < p_.cv_threshold) return fallback;
  int head = h.PercentileBin(p_.head);
  int tail = h.PercentileBin(p_.tail);
  const Micros keep = Scale(h.bin() * (tail + 1), 1 + p_.margin);
  if (head > 0) return {Scale(h.bin() * head, 1 - p_.margin), keep};
  // Two modes: the longest run of bins in (head, tail) that holds at most the idle times the
  // tail percentile leaves out.
  const auto& c = h.counts();
  const auto spare = static_cast<int64_t>((1 - p_.tail) * static_cast<double>(h.in_range()));
  int gap_begin = 0, gap_end = 0;  // [begin, end) in bins
  auto inside_gap = [&c](int lo, int hi) {
    int64_t n = 0;
    for (int i = lo; i < hi; ++i) n += c[static_cast<size_t>(i)];
    return n;
  };
  int64_t inside = 0;
  for (int lo = head + 1, hi = head + 1; hi < tail; ++hi) {
    inside += c[static_cast<size_t>(hi)];
    while (inside > spare) inside -= c[static_cast<size_t>(lo++)];
    if (hi + 1 - lo > gap_end - gap_begin) gap_begin = lo, gap_end = hi + 1;
  }
  // Two modes only with evidence for both: most idle times below the gap (the short ones of a
  // burst), at least min_samples above it; a thin histogram's empty bins are no gap.
  int64_t below = 0;
  for (int i = 0; i < gap_begin; ++i) below += c[static_cast<size_t>(i)];
  int64_t above = h.in_range() - below - inside_gap(gap_begin, gap_end);
  if (gap_end > gap_begin && 2 * below >= h.in_range() && above >= p_.min_samples) {
    KeepAliveWindow w{Scale(h.bin() * gap_end, 1 - p_.margin), keep,
                      Scale(h.bin() * gap_begin, 1 + p_.margin)};
    if (w.prewarm_after > w.warm_first) return w;
  }
  return {Micros(0), keep};
}

Result<std::shared_ptr<const KeepAlivePolicy>> ParsePolicy(const std::string& spec,
                                                           const AdaptiveParams& adaptive) {
  if (spec == "adaptive")
    return std::shared_ptr<const KeepAlivePolicy>(std::make_shared<AdaptiveKeepAlive>(adaptive));
  std::string seconds = spec;
  if (spec.rfind("fixed:", 0) == 0) seconds = spec.substr(6);
  char* end = nullptr;
  double s = std::strtod(seconds.c_str(), &end);
  if (seconds.empty() || end != seconds.c_str() + seconds.size() || !(s >= 0) || s > 1e7) {
    return InvalidArgument(fmt::format(
        "keep-alive policy '{}': expected 'adaptive', 'fixed:<seconds>' or <seconds>", spec));
  }
  return std::shared_ptr<const KeepAlivePolicy>(
      std::make_shared<FixedKeepAlive>(Micros(static_cast<int64_t>(s * 1e6))));
}

}  // namespace thaw::fleet
