#pragma once
// Every metric thaw publishes, declared once, named and united as CloudWatch names them
// (sagemaker-api.md §3), and the identity of a metric series: namespace + name + the exact
// dimension set (CloudWatch matches dimension sets exactly, never by subset).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace thaw::metrics {

inline constexpr std::string_view kSageMakerNamespace = "AWS/SageMaker";
inline constexpr std::string_view kEndpointsNamespace = "/aws/sagemaker/Endpoints";
// thaw's own: what the cost report needs, kept with the other aggregates.
inline constexpr std::string_view kBillingNamespace = "thaw/Billing";

enum class MetricId {
  kInvocations,
  kInvocation4XXErrors,
  kInvocation5XXErrors,
  kModelLatency,
  kOverheadLatency,
  kModelSetupTime,
  kConcurrentExecutionsUtilization,
  kProvisionedConcurrencyExecutions,
  kProvisionedConcurrencyUtilization,
  kProvisionedConcurrencyInvocations,
  kProvisionedConcurrencySpilloverInvocations,
  kMemoryUtilization,
  kBilledDuration,                 // thaw/Billing, ms, + MemorySizeInMB and Capacity dims
  kProvisionedConcurrencySeconds,  // thaw/Billing, PC allocated × seconds, + MemorySizeInMB
};

struct MetricInfo {
  MetricId id;
  std::string_view ns;
  std::string_view name;
  std::string_view unit;  // a CloudWatch StandardUnit
};

const MetricInfo& Info(MetricId id);
const std::vector<MetricInfo>& AllMetrics();

using Dimensions = std::vector<std::pair<std::string, std::string>>;

struct SeriesKey {
  std::string ns;
  std::string metric;
  Dimensions dims;  // sorted by name (Canonical() sorts a copy; Make() sorts)

  static SeriesKey Make(std::string ns, std::string metric, Dimensions dims);
  // A unique string for the (namespace, metric, dimension set): the storage key.
  std::string Canonical() const;
  std::string DimensionsJson() const;  // [{"Name":…,"Value":…}, …]
  bool operator==(const SeriesKey&) const = default;
};

SeriesKey VariantSeries(MetricId id, const std::string& endpoint, const std::string& variant);

// Minutes since the epoch: the time axis of every aggregate.
using Minute = int64_t;

}  // namespace thaw::metrics
