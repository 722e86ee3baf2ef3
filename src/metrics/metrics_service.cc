#include "metrics/metrics_service.h"

#include <nlohmann/json.hpp>

#include "common/logging.h"

namespace thaw::metrics {
namespace {

std::string MergeBytes(std::string_view stored, std::string_view delta) {
  auto a = Aggregate::Parse(stored);
  auto b = Aggregate::Parse(delta);
  if (!b) return std::string(stored);  // cannot happen: we wrote it
  if (!a) {
    Logger("metrics")->warn("replacing an unreadable stored aggregate");
    return std::string(delta);
  }
  a->Merge(*b);
  return a->Serialize();
}

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kSuccess:
      return "success";
    case Outcome::kModelClientError:
      return "model_4xx";
    case Outcome::kModelServerError:
      return "model_5xx";
    case Outcome::kThrottled:
      return "throttled";
  }
  return "?";
}

}  // namespace

MetricsService::MetricsService(store::Store& store, const Clock& clock, MetricsOptions options,
                               SampleSource source)
    : store_(store), clock_(clock), options_(options), source_(std::move(source)) {}

MetricsService::~MetricsService() { Stop(); }

void MetricsService::Start() {
  std::lock_guard lock(thread_mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Run(); });
}

void MetricsService::Stop() {
  {
    std::lock_guard lock(thread_mu_);
    if (stop_) return;
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (Status st = Flush(clock_.Now()); !st.ok()) {
    Logger("metrics")->warn("final metrics flush failed: {}", st.ToString());
  }
}

void MetricsService::Run() {
  std::unique_lock lock(thread_mu_);
  while (!stop_) {
    wake_.wait_for(lock, options_.sample_interval, [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    Tick(clock_.Now());
    lock.lock();
  }
}

void MetricsService::Tick(WallTime now) {
  // The fleet is read outside mu_: the source takes the fleet's own locks.
  std::vector<VariantSample> samples;
  bool sample_due = source_ && now - last_sample_ >= options_.sample_interval;
  if (sample_due) samples = source_();
  std::lock_guard lock(mu_);
  if (sample_due) {
    double interval_s = last_sample_ == WallTime{}
                            ? static_cast<double>(options_.sample_interval.count())
                            : std::chrono::duration<double>(now - last_sample_).count();
    last_sample_ = now;
    for (const VariantSample& s : samples) {
      aggregator_.AddSample(s, now, interval_s);
      prometheus_.AddSample(s, interval_s);
    }
  }
  DrainLocked();
  if (now - last_flush_ >= options_.flush_interval) {
    last_flush_ = now;
    if (Status st = FlushLocked(); !st.ok()) {
      Logger("metrics")->warn("metrics flush failed (kept for the next one): {}", st.ToString());
    }
  }
  if (now - last_prune_ >= std::chrono::minutes(1)) {
    last_prune_ = now;
    Minute keep_from = MinuteOf(now) - options_.retention_days * 24 * 60;
    if (Status st = store_.DeleteMetricsBefore(keep_from); !st.ok()) {
      Logger("metrics")->warn("metrics retention failed: {}", st.ToString());
    }
  }
}

void MetricsService::DrainLocked() {
  auto log = Logger("metrics");
  bool trace = log->should_log(spdlog::level::debug);
  for (const InvocationRecord& r : recorder_.Drain()) {
    // One line per record at debug level (off the hot path): what each invocation was measured
    // at, for diagnosis and for tests that check aggregates against the individual values.
    if (trace) {
      log->debug(
          "record endpoint={} variant={} outcome={} model_latency_us={} overhead_latency_us={} "
          "cold_start={} setup_us={} billed_ms={}",
          r.endpoint, r.variant, OutcomeName(r.outcome), r.model_latency_us, r.overhead_latency_us,
          r.cold_start, r.setup_us, r.BilledMillis());
    }
    aggregator_.Add(r);
    prometheus_.Add(r);
  }
}

std::string MetricsService::PrometheusText() {
  std::string out;
  std::lock_guard lock(mu_);
  DrainLocked();
  prometheus_.AppendText(out);
  return out;
}

Status MetricsService::Flush(WallTime now) {
  std::lock_guard lock(mu_);
  DrainLocked();
  last_flush_ = now;
  return FlushLocked();
}

Status MetricsService::FlushLocked() {
  Deltas deltas = aggregator_.TakeDeltas();
  if (deltas.empty()) return Status::Ok();
  std::vector<store::MetricSeriesRow> series;
  std::vector<store::MetricMinuteRow> minutes;
  for (const auto& [canonical, delta] : deltas) {
    if (delta.minutes.empty()) continue;
    series.push_back({canonical, delta.key.ns, delta.key.metric, delta.key.DimensionsJson(),
                      delta.unit, delta.minutes.rbegin()->first});
    for (const auto& [minute, agg] : delta.minutes) {
      minutes.push_back({canonical, minute, agg.Serialize()});
    }
  }
  Status st = store_.MergeMetrics(series, minutes, &MergeBytes);
  if (!st.ok()) aggregator_.Restore(std::move(deltas));
  return st;
}

Result<std::vector<MinutePoint>> MetricsService::Fetch(const SeriesKey& key, Minute from,
                                                       Minute to) {
  if (IsLiveNamespace(key.ns)) return FetchLive(key, from, to);
  std::lock_guard lock(mu_);
  DrainLocked();
  std::string canonical = key.Canonical();
  THAW_ASSIGN_OR_RETURN(std::vector<store::MetricMinuteRow> rows,
                        store_.ReadMetricMinutes(canonical, from, to));
  std::map<Minute, Aggregate> merged;
  for (const store::MetricMinuteRow& row : rows) {
    auto agg = Aggregate::Parse(row.data);
    if (!agg)
      return Internal("unreadable metric aggregate for minute " + std::to_string(row.minute));
    merged[row.minute] = std::move(*agg);
  }
  auto it = aggregator_.deltas().find(canonical);
  if (it != aggregator_.deltas().end()) {
    for (auto m = it->second.minutes.lower_bound(from);
         m != it->second.minutes.end() && m->first < to; ++m) {
      merged[m->first].Merge(m->second);
    }
  }
  std::vector<MinutePoint> out;
  out.reserve(merged.size());
  for (auto& [minute, agg] : merged) out.push_back({minute, std::move(agg)});
  return out;
}

Result<std::vector<MinutePoint>> MetricsService::FetchLive(const SeriesKey& key, Minute from,
                                                           Minute to) const {
  std::vector<MinutePoint> out;
  Minute now = MinuteOf(clock_.Now());
  if (!gauges_ || now < from || now >= to) return out;
  std::string endpoint;
  for (const auto& [name, value] : key.dims) {
    if (name == "EndpointName") endpoint = value;
  }
  if (endpoint.empty()) return out;  // every live series has one
  for (const GaugeValue& g : gauges_(endpoint)) {
    if (g.key == key) {
      Aggregate a;
      a.Add(g.value);
      out.push_back({now, std::move(a)});
      break;
    }
  }
  return out;
}

Result<std::vector<SeriesInfo>> MetricsService::ListSeries() {
  std::vector<GaugeValue> live;
  if (gauges_) live = gauges_("");  // outside mu_: the source takes the fleet's locks
  Minute now = MinuteOf(clock_.Now());
  std::lock_guard lock(mu_);
  DrainLocked();
  THAW_ASSIGN_OR_RETURN(std::vector<store::MetricSeriesRow> rows, store_.ListMetricSeries());
  std::map<std::string, SeriesInfo> all;
  for (store::MetricSeriesRow& row : rows) {
    Dimensions dims;
    auto parsed = nlohmann::json::parse(row.dimensions, nullptr, false);
    if (parsed.is_array()) {
      for (const auto& d : parsed) {
        dims.emplace_back(d.value("Name", ""), d.value("Value", ""));
      }
    }
    all[row.series_key] = {SeriesKey::Make(row.ns, row.metric_name, std::move(dims)), row.unit,
                           row.last_minute};
  }
  for (const auto& [canonical, delta] : aggregator_.deltas()) {
    if (delta.minutes.empty()) continue;
    Minute last = delta.minutes.rbegin()->first;
    auto [it, inserted] = all.try_emplace(canonical, SeriesInfo{delta.key, delta.unit, last});
    if (!inserted) it->second.last_minute = std::max(it->second.last_minute, last);
  }
  std::vector<SeriesInfo> out;
  out.reserve(all.size() + live.size());
  for (auto& [canonical, info] : all) out.push_back(std::move(info));
  for (GaugeValue& g : live) {
    std::string unit(LiveUnit(g.key.ns, g.key.metric));
    out.push_back({std::move(g.key), std::move(unit), now});
  }
  return out;
}

}  // namespace thaw::metrics
