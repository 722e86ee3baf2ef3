#include "metrics/catalog.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace thaw::metrics {

const std::vector<MetricInfo>& AllMetrics() {
  using M = MetricId;
  static const std::vector<MetricInfo> kAll = {
      {M::kInvocations, kSageMakerNamespace, "Invocations", "None"},
      {M::kInvocation4XXErrors, kSageMakerNamespace, "Invocation4XXErrors", "None"},
      {M::kInvocation5XXErrors, kSageMakerNamespace, "Invocation5XXErrors", "None"},
      {M::kModelLatency, kSageMakerNamespace, "ModelLatency", "Microseconds"},
      {M::kOverheadLatency, kSageMakerNamespace, "OverheadLatency", "Microseconds"},
      {M::kModelSetupTime, kSageMakerNamespace, "ModelSetupTime", "Microseconds"},
      {M::kConcurrentExecutionsUtilization, kSageMakerNamespace,
       "ServerlessConcurrentExecutionsUtilization", "None"},
      {M::kProvisionedConcurrencyExecutions, kSageMakerNamespace,
       "ServerlessProvisionedConcurrencyExecutions", "Count"},
      {M::kProvisionedConcurrencyUtilization, kSageMakerNamespace,
       "ServerlessProvisionedConcurrencyUtilization", "None"},
      {M::kProvisionedConcurrencyInvocations, kSageMakerNamespace,
       "ServerlessProvisionedConcurrencyInvocations", "Count"},
      {M::kProvisionedConcurrencySpilloverInvocations, kSageMakerNamespace,
       "ServerlessProvisionedConcurrencySpilloverInvocations", "Count"},
      {M::kMemoryUtilization, kEndpointsNamespace, "MemoryUtilization", "Percent"},
      {M::kBilledDuration, kBillingNamespace, "BilledDuration", "Milliseconds"},
      {M::kProvisionedConcurrencySeconds, kBillingNamespace, "ProvisionedConcurrencySeconds",
       "Count"},
  };
  return kAll;
}

const MetricInfo& Info(MetricId id) { return AllMetrics()[static_cast<size_t>(id)]; }

SeriesKey SeriesKey::Make(std::string ns, std::string metric, Dimensions dims) {
  std::sort(dims.begin(), dims.end());
  return {std::move(ns), std::move(metric), std::move(dims)};
}

std::string SeriesKey::Canonical() const {
  // Unit separators cannot appear in CloudWatch names or values (they are printable).
  Dimensions sorted = dims;
  std::sort(sorted.begin(), sorted.end());
  std::string key = ns + '\x1f' + metric;
  for (const auto& [name, value] : sorted) key += '\x1e' + name + '\x1f' + value;
  return key;
}

std::string SeriesKey::DimensionsJson() const {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& [name, value] : dims) arr.push_back({{"Name", name}, {"Value", value}});
  return arr.dump();
}

SeriesKey VariantSeries(MetricId id, const std::string& endpoint, const std::string& variant) {
  const MetricInfo& info = Info(id);
  return SeriesKey::Make(std::string(info.ns), std::string(info.name),
                         {{"EndpointName", endpoint}, {"VariantName", variant}});
}

}  // namespace thaw::metrics
