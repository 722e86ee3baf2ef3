#include "cli/cost.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace thaw::cli {
namespace {

const WallTime kStart = FromEpochSeconds(1'700'000'000);
const WallTime kDay = kStart + std::chrono::hours(24);

BilledSeries Series(std::string endpoint, int64_t memory_mb, double billed_ms, double requests,
                    std::string capacity = "OnDemand") {
  return {std::move(endpoint), "AllTraffic", memory_mb, std::move(capacity), billed_ms, requests};
}

TEST(Cost, GbSecondsIsBilledSecondsTimesMemoryInGb) {
  EXPECT_DOUBLE_EQ(GbSeconds(1000, 1024), 1.0);
  EXPECT_DOUBLE_EQ(GbSeconds(200, 2048), 0.4);
  EXPECT_DOUBLE_EQ(GbSeconds(1, 3072), 0.003);
}

TEST(Cost, TheSeedsExampleDay) {
  // The seed: 1000 requests/day of 200 ms at 2048 MB, $0.00002 per GB-s, against ml.m5.large.
  Prices prices;
  prices.instance_type = "ml.m5.large";
  prices.instance_per_hour = 0.134;  // the seed's figure
  auto report = ComputeCost({Series("xgb", 2048, 1000 * 200.0, 1000)}, prices, kStart, kDay);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->rows.size(), 1u);
  const CostRow& row = report->rows[0];
  EXPECT_DOUBLE_EQ(row.requests, 1000);
  EXPECT_DOUBLE_EQ(row.billed_seconds, 200);
  EXPECT_DOUBLE_EQ(row.gb_seconds, 400);
  EXPECT_NEAR(row.serverless_usd, 0.008, 1e-12);     // 400 GB-s × $0.00002
  EXPECT_NEAR(row.monthly_usd, 0.24, 1e-12);         // the seed's $0.24/month
  EXPECT_NEAR(row.instance_usd, 0.134 * 24, 1e-12);  // $3.216 for the day
  EXPECT_NEAR(row.savings_usd, 3.216 - 0.008, 1e-12);
  ASSERT_TRUE(row.break_even_per_hour.has_value());
  EXPECT_NEAR(*row.break_even_per_hour, 0.134 / 0.000008, 1e-6);  // 16,750 requests/h
}

TEST(Cost, FoldsSeriesPerVariantAndTotals) {
  Prices prices;
  prices.per_request = 0.000001;
  auto report = ComputeCost({Series("a", 1024, 500, 5), Series("a", 1024, 300, 3, "Provisioned"),
                             Series("b", 6144, 1000, 1)},
                            prices, kStart, kDay);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->rows.size(), 2u);
  EXPECT_EQ(report->rows[0].endpoint, "a");
  EXPECT_DOUBLE_EQ(report->rows[0].requests, 8);
  EXPECT_DOUBLE_EQ(report->rows[0].gb_seconds, 0.8);
  EXPECT_DOUBLE_EQ(report->rows[0].provisioned_gb_seconds, 0.3);
  // 0.5 GB-s on demand × $0.00002 + 0.3 GB-s on provisioned capacity × $0.00001 + 8 requests
  EXPECT_NEAR(report->rows[0].serverless_usd, 0.5 * 0.00002 + 0.3 * 0.00001 + 8 * 0.000001, 1e-15);
  EXPECT_EQ(report->rows[0].instance_type, "ml.t2.medium");  // ≥ 1 GB, smallest
  EXPECT_EQ(report->rows[1].instance_type, "ml.m5.large");   // ≥ 6 GB
  EXPECT_DOUBLE_EQ(report->rows[1].gb_seconds, 6.0);
  EXPECT_DOUBLE_EQ(report->total.requests, 9);
  EXPECT_DOUBLE_EQ(report->total.gb_seconds, 6.8);
  EXPECT_NEAR(report->total.instance_usd, (0.056 + 0.134) * 24, 1e-12);
}

TEST(Cost, ProvisionedConcurrencyIsBilledPerSecondAllocated) {
  // One hour, 2048 MB, ProvisionedConcurrency 1 the whole hour (3,600 PC-seconds); 10 requests
  // served by provisioned capacity (2,000 billed ms) and 2 spilled over on demand (500 ms).
  const WallTime hour_end = kStart + std::chrono::hours(1);
  auto report = ComputeCost(
      {Series("pc", 2048, 2000, 10, "Provisioned"), Series("pc", 2048, 500, 2, "OnDemand")},
      Prices{}, kStart, hour_end, {{"pc", "AllTraffic", 2048, 3600}});
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->rows.size(), 1u);
  const CostRow& row = report->rows[0];
  EXPECT_DOUBLE_EQ(row.requests, 12);
  EXPECT_DOUBLE_EQ(row.gb_seconds, 5.0);              // 2.5 s × 2 GB
  EXPECT_DOUBLE_EQ(row.provisioned_gb_seconds, 4.0);  // 2.0 s × 2 GB
  // 1 GB-s on demand × $0.00002 + 4 GB-s on PC × $0.00001
  EXPECT_NEAR(row.inference_usd, 0.00002 + 0.00004, 1e-15);
  EXPECT_DOUBLE_EQ(row.provisioned_seconds, 3600);
  EXPECT_DOUBLE_EQ(row.provisioned_allocated_gb_seconds, 7200);  // 3,600 s × 2 GB
  EXPECT_NEAR(row.provisioned_usd, 7200 * 0.0000048, 1e-15);     // $0.03456
  EXPECT_NEAR(row.serverless_usd, 0.03462, 1e-12);
  EXPECT_NEAR(row.monthly_usd, 0.03462 * 720, 1e-9);  // 720 hours in the seed's month
  EXPECT_EQ(row.instance_type, "ml.t2.medium");
  EXPECT_NEAR(row.instance_usd, 0.056, 1e-15);
  EXPECT_NEAR(row.savings_usd, 0.056 - 0.03462, 1e-12);
  // ($0.056 - $0.03456 of PC per hour) / ($0.00006 / 12 requests) = 4,288 requests/h
  ASSERT_TRUE(row.break_even_per_hour.has_value());
  EXPECT_NEAR(*row.break_even_per_hour, 4288, 1e-6);
  EXPECT_NEAR(report->total.provisioned_usd, 0.03456, 1e-12);
  EXPECT_NEAR(report->total.serverless_usd, 0.03462, 1e-12);
  EXPECT_NEAR(report->total.monthly_usd, 0.03462 * 720, 1e-9);

  auto j = nlohmann::json::parse(FormatCostJson(*report));
  EXPECT_DOUBLE_EQ(j["Endpoints"][0]["ProvisionedConcurrencySeconds"].get<double>(), 3600);
  EXPECT_DOUBLE_EQ(j["Endpoints"][0]["ProvisionedConcurrencyGBSeconds"].get<double>(), 7200);
  EXPECT_NEAR(j["Total"]["ProvisionedConcurrencyCostUSD"].get<double>(), 0.03456, 1e-12);
  const std::string table = FormatCostTable(*report);
  EXPECT_NE(table.find("PROVISIONED"), std::string::npos) << table;
  EXPECT_NE(table.find("$0.034560"), std::string::npos) << table;
}

TEST(Cost, ProvisionedPricesAreConfigurable) {
  Prices prices;
  prices.per_provisioned_gb_second = 0.001;
  prices.per_provisioned_inference_gb_second = 0.0001;
  // 1024 MB, 2 PC for 10 minutes = 1,200 PC-seconds = 1,200 GB-s; 3 s on PC = 3 GB-s.
  auto report = ComputeCost({Series("a", 1024, 3000, 3, "Provisioned")}, prices, kStart,
                            kStart + std::chrono::minutes(10), {{"a", "AllTraffic", 1024, 1200}});
  ASSERT_TRUE(report.ok());
  const CostRow& row = report->rows[0];
  EXPECT_NEAR(row.provisioned_usd, 1.2, 1e-12);
  EXPECT_NEAR(row.inference_usd, 0.0003, 1e-15);
  EXPECT_NEAR(row.serverless_usd, 1.2003, 1e-12);
  EXPECT_NEAR(row.monthly_usd, 1.2003 * 6 * 720, 1e-9);
  // $1.2 of PC per 10 min is $7.2/h, more than ml.t2.medium's $0.056: never breaks even.
  EXPECT_FALSE(row.break_even_per_hour.has_value());
  EXPECT_LT(row.savings_usd, 0);
}

TEST(Cost, AllocatedButUnusedStillCosts) {
  // Provisioned concurrency with no invocation in the window: a row, priced, no break-even.
  auto report = ComputeCost({}, Prices{}, kStart, kDay, {{"idle", "AllTraffic", 3072, 86400}});
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->rows.size(), 1u);
  EXPECT_EQ(report->rows[0].memory_mb, 3072);
  EXPECT_DOUBLE_EQ(report->rows[0].requests, 0);
  EXPECT_NEAR(report->rows[0].provisioned_usd, 86400 * 3 * 0.0000048, 1e-12);  // $1.2442
  EXPECT_NEAR(report->rows[0].serverless_usd, 86400 * 3 * 0.0000048, 1e-12);
  EXPECT_FALSE(report->rows[0].break_even_per_hour.has_value());
  EXPECT_EQ(FormatCostTable(*report).find("no billed invocations"), std::string::npos);
}

TEST(Cost, CommandLineDefaultsAreTheListPrices) {
  const ClientOptions o;
  EXPECT_EQ(o.price_per_gb_second, kDefaultPricePerGbSecond);
  EXPECT_EQ(o.price_provisioned_gb_second, kDefaultPriceProvisionedPerGbSecond);
  EXPECT_EQ(o.price_provisioned_inference_gb_second, kDefaultPriceProvisionedInferencePerGbSecond);
}

TEST(Cost, PricesAreTheSharedJsonFile) {
  // src/cli/prices.json is the one source: the console imports it, the build compiles it in.
  std::ifstream in(THAW_PRICES_JSON);
  ASSERT_TRUE(in) << THAW_PRICES_JSON;
  auto j = nlohmann::json::parse(in);
  EXPECT_EQ(kDefaultPricePerGbSecond, j["serverless"]["per_gb_second"].get<double>());
  EXPECT_EQ(kDefaultPricePerRequest, j["serverless"]["per_request"].get<double>());
  EXPECT_EQ(kDefaultPriceProvisionedPerGbSecond,
            j["serverless"]["provisioned_per_gb_second"].get<double>());
  EXPECT_EQ(kDefaultPriceProvisionedInferencePerGbSecond,
            j["serverless"]["provisioned_inference_per_gb_second"].get<double>());
  ASSERT_EQ(InstancePrices().size(), j["instances"].size());
  for (size_t i = 0; i < InstancePrices().size(); ++i) {
    EXPECT_EQ(InstancePrices()[i].type, j["instances"][i]["type"].get<std::string>());
    EXPECT_EQ(InstancePrices()[i].memory_mb, j["instances"][i]["memory_mb"].get<int64_t>());
    EXPECT_EQ(InstancePrices()[i].usd_per_hour, j["instances"][i]["usd_per_hour"].get<double>());
  }
}

TEST(Cost, TheSeedsInstancePrice) {
  // The seed's persistent_hourly_rate for ml.m5.large, without --instance-price.
  ASSERT_NE(FindInstance("ml.m5.large"), nullptr);
  EXPECT_DOUBLE_EQ(FindInstance("ml.m5.large")->usd_per_hour, 0.134);
  Prices prices;
  prices.instance_type = "ml.m5.large";
  auto report = ComputeCost({Series("xgb", 2048, 1000 * 200.0, 1000)}, prices, kStart, kDay);
  ASSERT_TRUE(report.ok());
  EXPECT_NEAR(report->rows[0].instance_usd, 3.216, 1e-12);
}

TEST(Cost, UnknownInstanceNeedsAPrice) {
  Prices prices;
  prices.instance_type = "ml.p4d.24xlarge";
  EXPECT_FALSE(ComputeCost({Series("a", 1024, 1, 1)}, prices, kStart, kDay).ok());
  prices.instance_per_hour = 37.688;
  auto report = ComputeCost({Series("a", 1024, 1, 1)}, prices, kStart, kDay);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->rows[0].instance_type, "ml.p4d.24xlarge");
  EXPECT_NEAR(report->rows[0].instance_usd, 37.688 * 24, 1e-9);
}

TEST(Cost, NoRequestsNoBreakEven) {
  auto report = ComputeCost({}, Prices{}, kStart, kDay);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->rows.empty());
  EXPECT_FALSE(report->total.break_even_per_hour.has_value());
  EXPECT_NE(FormatCostTable(*report).find("no billed invocations"), std::string::npos);
}

TEST(Cost, SimilarInstanceBySize) {
  EXPECT_STREQ(SimilarInstance(1024).type, "ml.t2.medium");
  EXPECT_STREQ(SimilarInstance(4096).type, "ml.t2.medium");
  EXPECT_STREQ(SimilarInstance(4097).type, "ml.m5.large");
  EXPECT_STREQ(SimilarInstance(1 << 20).type, "ml.m5.2xlarge");  // the largest
}

TEST(Cost, Durations) {
  EXPECT_EQ(ParseDuration("90s").value(), std::chrono::seconds(90));
  EXPECT_EQ(ParseDuration("30m").value(), std::chrono::minutes(30));
  EXPECT_EQ(ParseDuration("24h").value(), std::chrono::hours(24));
  EXPECT_EQ(ParseDuration("7d").value(), std::chrono::hours(168));
  EXPECT_EQ(ParseDuration("1w").value(), std::chrono::hours(168));
  for (const char* bad : {"", "h", "5", "5y", "-1h", "0m", "1.5h"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(Cost, Window) {
  ClientOptions o;
  auto w = CostWindow(o, kDay);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->first, kStart);  // default: the last 24 h
  EXPECT_EQ(w->second, kDay);
  o.since = "1h";
  EXPECT_EQ(CostWindow(o, kDay)->first, kDay - std::chrono::hours(1));
  o.start = "2023-11-14T22:13:20Z";
  EXPECT_FALSE(CostWindow(o, kDay).ok());  // --since excludes --start
  o.since.clear();
  o.end = "1700003600";
  w = CostWindow(o, kDay);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->first, kStart);
  EXPECT_EQ(w->second, kStart + std::chrono::hours(1));
  o.end = o.start;
  EXPECT_FALSE(CostWindow(o, kDay).ok());  // empty
  o.end = "yesterday";
  EXPECT_FALSE(CostWindow(o, kDay).ok());
}

TEST(Cost, PeriodKeepsUnder1440Datapoints) {
  EXPECT_EQ(PeriodFor(kStart, kStart + std::chrono::minutes(10)), 60);
  EXPECT_EQ(PeriodFor(kStart, kDay), 120);  // 1,441 minutes with the rounded-down start
  auto month = kStart + std::chrono::hours(24 * 30);
  int64_t p = PeriodFor(kStart, month);
  EXPECT_EQ(p % 60, 0);
  EXPECT_LE((30 * 86400 + 60) / p, 1440);
}

TEST(Cost, JsonCarriesTheFigures) {
  auto report = ComputeCost({Series("a", 2048, 1500, 3)}, Prices{}, kStart, kDay);
  ASSERT_TRUE(report.ok());
  auto j = nlohmann::json::parse(FormatCostJson(*report));
  EXPECT_EQ(j["Endpoints"][0]["Endpoint"], "a");
  EXPECT_DOUBLE_EQ(j["Endpoints"][0]["GBSeconds"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(j["Endpoints"][0]["Requests"].get<double>(), 3);
  EXPECT_DOUBLE_EQ(j["Total"]["ServerlessCostUSD"].get<double>(), 3.0 * 0.00002);
  EXPECT_EQ(j["WindowSeconds"], 86400);
}

}  // namespace
}  // namespace thaw::cli
