#include "metrics/prometheus.h"

#include <gtest/gtest.h>

namespace thaw::metrics {
namespace {

InvocationRecord Rec(Outcome outcome, int64_t model_us, int64_t overhead_us) {
  InvocationRecord r;
  r.endpoint = "ep";
  r.variant = "AllTraffic";
  r.outcome = outcome;
  r.model_answered = outcome != Outcome::kThrottled;
  r.model_latency_us = model_us;
  r.overhead_latency_us = overhead_us;
  r.memory_mb = 2048;
  return r;
}

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(PrometheusRegistry, CountsOutcomesLikeCloudWatch) {
  PrometheusRegistry reg;
  reg.Add(Rec(Outcome::kSuccess, 1000, 200));
  reg.Add(Rec(Outcome::kModelClientError, 3000, 100));
  reg.Add(Rec(Outcome::kModelServerError, 500, 50));
  reg.Add(Rec(Outcome::kThrottled, 0, 0));
  std::string text;
  reg.AppendText(text);
  const std::string l = "endpoint=\"ep\",variant=\"AllTraffic\"";
  EXPECT_TRUE(Has(text, "# TYPE thaw_invocations_total counter"));
  EXPECT_TRUE(Has(text, "thaw_invocations_total{" + l + "} 3"));  // throttles excluded
  EXPECT_TRUE(Has(text, "thaw_invocation_errors_total{" + l + ",class=\"4xx\"} 1"));
  EXPECT_TRUE(Has(text, "thaw_invocation_errors_total{" + l + ",class=\"5xx\"} 1"));
  EXPECT_TRUE(Has(text, "thaw_invocation_throttles_total{" + l + "} 1"));
}

TEST(PrometheusRegistry, HistogramsAreCumulativeInSeconds) {
  PrometheusRegistry reg;
  reg.Add(Rec(Outcome::kSuccess, 100, 10));         // exactly on the first bound: le="0.0001"
  reg.Add(Rec(Outcome::kSuccess, 101, 10));         // next bucket
  reg.Add(Rec(Outcome::kSuccess, 70'000'000, 10));  // past 60 s: only +Inf
  std::string text;
  reg.AppendText(text);
  const std::string l = "endpoint=\"ep\",variant=\"AllTraffic\"";
  EXPECT_TRUE(Has(text, "# TYPE thaw_model_latency_seconds histogram"));
  EXPECT_TRUE(Has(text, "thaw_model_latency_seconds_bucket{" + l + ",le=\"0.0001\"} 1"));
  EXPECT_TRUE(Has(text, "thaw_model_latency_seconds_bucket{" + l + ",le=\"0.00025\"} 2"));
  EXPECT_TRUE(Has(text, "thaw_model_latency_seconds_bucket{" + l + ",le=\"60\"} 2"));
  EXPECT_TRUE(Has(text, "thaw_model_latency_seconds_bucket{" + l + ",le=\"+Inf\"} 3"));
  EXPECT_TRUE(Has(text, "thaw_model_latency_seconds_count{" + l + "} 3"));
  EXPECT_TRUE(Has(text, "thaw_model_latency_seconds_sum{" + l + "} 70.000201"));
  // No cold start: the setup histogram exists with zero samples.
  EXPECT_TRUE(Has(text, "thaw_model_setup_seconds_count{" + l + "} 0"));
}

TEST(PrometheusRegistry, ColdStartsFeedTheSetupHistogram) {
  PrometheusRegistry reg;
  InvocationRecord cold = Rec(Outcome::kSuccess, 2000, 400000);
  cold.cold_start = true;
  cold.setup_us = 390000;
  reg.Add(cold);
  std::string text;
  reg.AppendText(text);
  const std::string l = "endpoint=\"ep\",variant=\"AllTraffic\"";
  EXPECT_TRUE(Has(text, "thaw_model_setup_seconds_bucket{" + l + ",le=\"0.25\"} 0"));
  EXPECT_TRUE(Has(text, "thaw_model_setup_seconds_bucket{" + l + ",le=\"0.5\"} 1"));
  EXPECT_TRUE(Has(text, "thaw_model_setup_seconds_sum{" + l + "} 0.39"));
  EXPECT_TRUE(Has(text, "thaw_model_setup_seconds_count{" + l + "} 1"));
}

TEST(PrometheusRegistry, BillingRoundsEachInvocationUpToAMillisecond) {
  PrometheusRegistry reg;
  reg.Add(Rec(Outcome::kSuccess, 1001, 0));  // billed 2 ms
  reg.Add(Rec(Outcome::kSuccess, 1, 0));     // billed 1 ms
  InvocationRecord pc = Rec(Outcome::kSuccess, 3000, 0);
  pc.served_by_provisioned = true;
  reg.Add(pc);
  std::string text;
  reg.AppendText(text);
  const std::string l = "endpoint=\"ep\",variant=\"AllTraffic\"";
  EXPECT_TRUE(
      Has(text, "thaw_billed_duration_seconds_total{" + l + ",capacity=\"OnDemand\"} 0.003"));
  EXPECT_TRUE(
      Has(text, "thaw_billed_duration_seconds_total{" + l + ",capacity=\"Provisioned\"} 0.003"));
  // 3 ms × 2048 MB × 2^20 B/MB = 6442450.944 byte-seconds (0.006 GB-s).
  EXPECT_TRUE(Has(
      text, "thaw_billed_memory_byte_seconds_total{" + l + ",capacity=\"OnDemand\"} 6442450.944"));
}

TEST(PrometheusRegistry, ProvisionedSecondsComeFromSamples) {
  PrometheusRegistry reg;
  VariantSample s;
  s.endpoint = "ep";
  s.variant = "AllTraffic";
  s.provisioned = 2;
  reg.AddSample(s, 1.0);
  reg.AddSample(s, 1.5);
  s.provisioned = 0;
  reg.AddSample(s, 1.0);
  std::string text;
  reg.AppendText(text);
  EXPECT_TRUE(Has(text,
                  "thaw_provisioned_concurrency_seconds_total{endpoint=\"ep\","
                  "variant=\"AllTraffic\"} 5"));
}

TEST(PrometheusRegistry, EscapesLabelValues) {
  EXPECT_EQ(PromEscape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace thaw::metrics
