#include "metrics/aggregator.h"

#include <algorithm>
#include <cstring>

namespace thaw::metrics {

std::string Aggregate::Serialize() const {
  std::string out;
  char buf[sizeof sum];
  std::memcpy(buf, &sum, sizeof sum);
  out.append(buf, sizeof sum);
  sketch.AppendTo(out);
  return out;
}

std::optional<Aggregate> Aggregate::Parse(std::string_view bytes) {
  Aggregate a;
  if (bytes.size() < sizeof a.sum) return std::nullopt;
  std::memcpy(&a.sum, bytes.data(), sizeof a.sum);
  bytes.remove_prefix(sizeof a.sum);
  if (!a.sketch.ReadFrom(bytes) || !bytes.empty()) return std::nullopt;
  return a;
}

const Aggregator::Keys& Aggregator::KeysFor(const std::string& endpoint, const std::string& variant,
                                            int64_t memory_mb) {
  std::string id = endpoint + '\0' + variant + '\0' + std::to_string(memory_mb);
  auto it = keys_.find(id);
  if (it != keys_.end()) return it->second;
  Keys keys;
  for (const MetricInfo& info : AllMetrics()) {
    auto i = static_cast<size_t>(info.id);
    Dimensions dims = {{"EndpointName", endpoint}, {"VariantName", variant}};
    if (info.id == MetricId::kProvisionedConcurrencySeconds) {
      dims.emplace_back("MemorySizeInMB", std::to_string(memory_mb));
    }
    keys.key[i] = SeriesKey::Make(std::string(info.ns), std::string(info.name), std::move(dims));
    keys.canonical[i] = keys.key[i].Canonical();
  }
  const MetricInfo& billed = Info(MetricId::kBilledDuration);
  for (int p = 0; p < 2; ++p) {
    keys.billed_key[p] = SeriesKey::Make(std::string(billed.ns), std::string(billed.name),
                                         {{"EndpointName", endpoint},
                                          {"VariantName", variant},
                                          {"MemorySizeInMB", std::to_string(memory_mb)},
                                          {"Capacity", p ? "Provisioned" : "OnDemand"}});
    keys.billed_canonical[p] = keys.billed_key[p].Canonical();
  }
  return keys_.emplace(std::move(id), std::move(keys)).first->second;
}

void Aggregator::Put(const std::string& canonical, const SeriesKey& key, std::string_view unit,
                     Minute minute, double value) {
  auto it = deltas_.find(canonical);
  if (it == deltas_.end()) {
    it = deltas_.emplace(canonical, SeriesDelta{key, std::string(unit), {}}).first;
  }
  it->second.minutes[minute].Add(value);
}

void Aggregator::Put(const Keys& keys, MetricId id, Minute minute, double value) {
  auto i = static_cast<size_t>(id);
  Put(keys.canonical[i], keys.key[i], Info(id).unit, minute, value);
}

void Aggregator::Add(const InvocationRecord& r) {
  if (r.outcome == Outcome::kThrottled) return;  // never reached a model (§3)
  const Keys& keys = KeysFor(r.endpoint, r.variant, r.memory_mb);
  Minute m = MinuteOf(r.time);
  if (r.setup_only) {
    if (r.setup_us > 0) Put(keys, MetricId::kModelSetupTime, m, static_cast<double>(r.setup_us));
    return;
  }
  Put(keys, MetricId::kInvocations, m, 1);
  Put(keys, MetricId::kInvocation4XXErrors, m, r.outcome == Outcome::kModelClientError ? 1 : 0);
  Put(keys, MetricId::kInvocation5XXErrors, m, r.outcome == Outcome::kModelServerError ? 1 : 0);
  if (r.model_answered) {
    Put(keys, MetricId::kModelLatency, m, static_cast<double>(r.model_latency_us));
    Put(keys, MetricId::kOverheadLatency, m, static_cast<double>(r.overhead_latency_us));
    int p = r.served_by_provisioned ? 1 : 0;
    Put(keys.billed_canonical[p], keys.billed_key[p], Info(MetricId::kBilledDuration).unit, m,
        static_cast<double>(r.BilledMillis()));
  }
  if (r.cold_start && r.setup_us > 0) {
    Put(keys, MetricId::kModelSetupTime, m, static_cast<double>(r.setup_us));
  }
  if (r.has_provisioned) {
    Put(keys,
        r.served_by_provisioned ? MetricId::kProvisionedConcurrencyInvocations
                                : MetricId::kProvisionedConcurrencySpilloverInvocations,
        m, 1);
  }
}

void Aggregator::AddSample(const VariantSample& s, WallTime now, double interval_s) {
  const Keys& keys = KeysFor(s.endpoint, s.variant, s.memory_mb);
  Minute m = MinuteOf(now);
  if (s.max_concurrency > 0) {
    Put(keys, MetricId::kConcurrentExecutionsUtilization, m,
        static_cast<double>(s.executing) / s.max_concurrency);
  }
  if (s.provisioned > 0) {
    int on_pc = std::min(s.executing, s.provisioned);
    Put(keys, MetricId::kProvisionedConcurrencyExecutions, m, on_pc);
    Put(keys, MetricId::kProvisionedConcurrencyUtilization, m,
        static_cast<double>(on_pc) / s.provisioned);
    Put(keys, MetricId::kProvisionedConcurrencySeconds, m, s.provisioned * interval_s);
  }
  for (double percent : s.memory_percent) Put(keys, MetricId::kMemoryUtilization, m, percent);
}

void Aggregator::AddValue(const SeriesKey& key, std::string_view unit, WallTime time,
                          double value) {
  Put(key.Canonical(), key, unit, MinuteOf(time), value);
}

Deltas Aggregator::TakeDeltas() { return std::exchange(deltas_, {}); }

void Aggregator::Restore(Deltas deltas) {
  for (auto& [canonical, delta] : deltas) {
    auto it = deltas_.find(canonical);
    if (it == deltas_.end()) {
      deltas_.emplace(canonical, std::move(delta));
      continue;
    }
    for (auto& [minute, agg] : delta.minutes) it->second.minutes[minute].Merge(agg);
  }
}

}  // namespace thaw::metrics
