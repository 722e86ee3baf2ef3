#include "metrics/prometheus.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace thaw::metrics {
namespace {

constexpr double kPerSecond = 1e6;  // divide (correctly rounded), never multiply by 1e-6
constexpr double kBytesPerMb = 1024.0 * 1024.0;

const char* const kCapacity[2] = {"OnDemand", "Provisioned"};

using Variants = std::map<std::pair<std::string, std::string>, PrometheusRegistry::Variant>;

void Header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

std::string Labels(const std::pair<std::string, std::string>& key) {
  return fmt::format("endpoint=\"{}\",variant=\"{}\"", PromEscape(key.first),
                     PromEscape(key.second));
}

template <typename Get>
void Counter(std::string& out, const Variants& variants, std::string_view name,
             std::string_view help, Get get) {
  Header(out, name, "counter", help);
  for (const auto& [key, v] : variants) {
    fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", name, Labels(key), get(v));
  }
}

void HistogramFamily(std::string& out, const Variants& variants, std::string_view name,
                     std::string_view help,
                     const PrometheusRegistry::Histogram PrometheusRegistry::Variant::*field) {
  Header(out, name, "histogram", help);
  auto it = std::back_inserter(out);
  for (const auto& [key, v] : variants) {
    const PrometheusRegistry::Histogram& h = v.*field;
    std::string labels = Labels(key);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kPromBucketsUs.size(); ++i) {
      cumulative += h.buckets[i];
      fmt::format_to(it, "{}_bucket{{{},le=\"{}\"}} {}\n", name, labels,
                     static_cast<double>(kPromBucketsUs[i]) / kPerSecond, cumulative);
    }
    fmt::format_to(it, "{}_bucket{{{},le=\"+Inf\"}} {}\n", name, labels, h.count);
    fmt::format_to(it, "{}_sum{{{}}} {}\n", name, labels,
                   static_cast<double>(h.sum_us) / kPerSecond);
    fmt::format_to(it, "{}_count{{{}}} {}\n", name, labels, h.count);
  }
}

}  // namespace

std::string PromEscape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void PrometheusRegistry::Histogram::Observe(int64_t us) {
  us = std::max<int64_t>(us, 0);
  auto bucket = std::lower_bound(kPromBucketsUs.begin(), kPromBucketsUs.end(), us);
  ++buckets[static_cast<size_t>(bucket - kPromBucketsUs.begin())];
  sum_us += us;
  ++count;
}

void PrometheusRegistry::Add(const InvocationRecord& r) {
  Variant& v = variants_[{r.endpoint, r.variant}];
  if (r.outcome == Outcome::kThrottled) {
    ++v.throttles;
    return;
  }
  ++v.invocations;
  if (r.outcome == Outcome::kModelClientError) ++v.errors_4xx;
  if (r.outcome == Outcome::kModelServerError) ++v.errors_5xx;
  if (r.model_answered) {
    v.model_latency.Observe(r.model_latency_us);
    v.overhead_latency.Observe(r.overhead_latency_us);
    int p = r.served_by_provisioned ? 1 : 0;
    v.billed_ms[p] += r.BilledMillis();
    v.billed_ms_mb[p] += r.BilledMillis() * r.memory_mb;
  }
  if (r.cold_start && r.setup_us > 0) v.setup.Observe(r.setup_us);
}

void PrometheusRegistry::AddSample(const VariantSample& s, double interval_s) {
  if (s.provisioned <= 0) return;
  variants_[{s.endpoint, s.variant}].provisioned_seconds += s.provisioned * interval_s;
}

void PrometheusRegistry::AppendText(std::string& out) const {
  const Variants& vs = variants_;
  Counter(out, vs, "thaw_invocations_total",
          "Invocations that reached a model (CloudWatch Invocations).",
          [](const Variant& v) { return v.invocations; });
  Header(out, "thaw_invocation_errors_total", "counter",
         "Invocations the model answered with 4xx or failed with 5xx (timeouts, crashes, failed "
         "starts).");
  for (const auto& [key, v] : vs) {
    std::string labels = Labels(key);
    fmt::format_to(std::back_inserter(out),
                   "thaw_invocation_errors_total{{{},class=\"4xx\"}} {}\n"
                   "thaw_invocation_errors_total{{{},class=\"5xx\"}} {}\n",
                   labels, v.errors_4xx, labels, v.errors_5xx);
  }
  Counter(out, vs, "thaw_invocation_throttles_total",
          "Requests refused with ThrottlingException (over MaxConcurrency).",
          [](const Variant& v) { return v.throttles; });
  HistogramFamily(out, vs, "thaw_model_latency_seconds",
                  "ModelLatency: the round trip to the worker.", &Variant::model_latency);
  HistogramFamily(out, vs, "thaw_overhead_latency_seconds",
                  "OverheadLatency: total minus ModelLatency, cold-start wait included.",
                  &Variant::overhead_latency);
  HistogramFamily(out, vs, "thaw_model_setup_seconds",
                  "ModelSetupTime of each cold start (launch to first passing ping).",
                  &Variant::setup);
  auto it = std::back_inserter(out);
  Header(out, "thaw_billed_duration_seconds_total", "counter",
         "Billed duration: ModelLatency rounded up to 1 ms, summed.");
  for (const auto& [key, v] : vs) {
    for (int p = 0; p < 2; ++p) {
      fmt::format_to(it, "thaw_billed_duration_seconds_total{{{},capacity=\"{}\"}} {}\n",
                     Labels(key), kCapacity[p], static_cast<double>(v.billed_ms[p]) / 1000.0);
    }
  }
  Header(out, "thaw_billed_memory_byte_seconds_total", "counter",
         "Billed duration times MemorySizeInMB, in byte-seconds (GB-seconds = value / 2^30).");
  for (const auto& [key, v] : vs) {
    for (int p = 0; p < 2; ++p) {
      fmt::format_to(it, "thaw_billed_memory_byte_seconds_total{{{},capacity=\"{}\"}} {}\n",
                     Labels(key), kCapacity[p],
                     static_cast<double>(v.billed_ms_mb[p]) * kBytesPerMb / 1000.0);
    }
  }
  Counter(out, vs, "thaw_provisioned_concurrency_seconds_total",
          "Allocated ProvisionedConcurrency times seconds (sampled every second).",
          [](const Variant& v) { return v.provisioned_seconds; });
}

}  // namespace thaw::metrics
