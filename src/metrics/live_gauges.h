#pragma once
// Namespaces served from a live snapshot rather than from stored aggregates: `thaw/KeepAlive`,
// the keep-alive policy's state per endpoint (issue 9: the console's keep-alive page reads it
// through the public CloudWatch API like any other client).
//
// A live series has exactly one datapoint: its value now, in the minute of the request (one
// sample, so Sum = Average = Minimum = Maximum = the value and SampleCount = 1; percentiles go
// through the sketch and are only within its 0.5 %, so ask for Maximum or Average). Nothing is
// stored and there is no history: a query whose [StartTime, EndTime) does not hold the current
// minute gets no datapoint. ListMetrics lists the series the snapshot holds now.
//
// The server wires the source (server/metrics_wiring: the fleet's keep-alive snapshot, the
// one /metrics renders as thaw_keepalive); the metrics module only serves what it returns.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/catalog.h"

namespace thaw::metrics {

inline constexpr std::string_view kKeepAliveNamespace = "thaw/KeepAlive";

struct GaugeInfo {
  std::string_view name;
  std::string_view unit;  // a CloudWatch StandardUnit
};

// Every thaw/KeepAlive metric, declared once (ARCHITECTURE.md § Keep-alive state). All have the
// dimensions EndpointName and VariantName; Policy adds Policy=<fixed|adaptive>, IdleTimes adds
// Bin=<index of the histogram bin>.
const std::vector<GaugeInfo>& KeepAliveGauges();
bool IsLiveNamespace(std::string_view ns);
// The unit of a live metric, "" when `ns`/`name` is not one.
std::string_view LiveUnit(std::string_view ns, std::string_view name);

struct GaugeValue {
  SeriesKey key;
  double value = 0;
};

// The current values of every live series of one endpoint ("" = every endpoint). Called on the
// blocking pool by CloudWatch reads; must be thread-safe and must not call back into metrics.
using GaugeSource = std::function<std::vector<GaugeValue>(const std::string& endpoint)>;

}  // namespace thaw::metrics
