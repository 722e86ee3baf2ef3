// The CloudWatch codecs (query form, XML, CBOR) and operations (validation, semantics).
#include <gtest/gtest.h>

#include "api/cloudwatch_codec.h"
#include "api/cloudwatch_ops.h"
#include "api/error_table.h"
#include "common/hash.h"
#include "fakes/fake_clock.h"
#include "fakes/temp_dir.h"
#include "metrics/live_gauges.h"

namespace thaw::api {
namespace {

using nlohmann::json;

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(CloudWatchCodec, DecodesQueryFormIntoTheNeutralTree) {
  std::string action;
  auto tree = DecodeQueryForm(
      "Action=GetMetricData&Version=2010-08-01&MetricDataQueries.member.1.Id=q1"
      "&MetricDataQueries.member.1.MetricStat.Metric.Namespace=AWS%2FSageMaker"
      "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.2.Name=VariantName"
      "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.2.Value=AllTraffic"
      "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name=EndpointName"
      "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value=e+1"
      "&MetricDataQueries.member.1.ReturnData=true&StartTime=2023-01-01T00%3A00%3A00Z",
      action);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  EXPECT_EQ(action, "GetMetricData");
  EXPECT_EQ(*tree, json::parse(R"({
    "MetricDataQueries": [{"Id": "q1", "ReturnData": "true", "MetricStat": {"Metric": {
      "Namespace": "AWS/SageMaker",
      "Dimensions": [{"Name": "EndpointName", "Value": "e 1"},
                     {"Name": "VariantName", "Value": "AllTraffic"}]}}}],
    "StartTime": "2023-01-01T00:00:00Z"})"));
  EXPECT_FALSE(DecodeQueryForm("A=%zz", action).ok());
  EXPECT_FALSE(DecodeQueryForm("A.member.x=1", action).ok());
}

TEST(CloudWatchCodec, DecodesBotocoresCborRequest) {
  // modern-clients.md §4.1: botocore 1.43's GetMetricStatistics, tag-1 timestamps.
  std::string body = FromHex(
      "a7694e616d6573706163656d4157532f536167654d616b65726a4d65747269634e616d656b496e766f63617469"
      "6f6e736a44696d656e73696f6e7382a2644e616d656c456e64706f696e744e616d656556616c75656365703"
      "1a2644e616d656b56617269616e744e616d656556616c75656a416c6c54726166666963695374617274546"
      "96d65c11a6592008067456e6454696d65c11a6593520066506572696f64190e106a5374617469737469637"
      "3816353756d");
  auto tree = DecodeCbor(body);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  EXPECT_EQ((*tree)["StartTime"], 1704067200);
  EXPECT_EQ((*tree)["EndTime"], 1704153600);
  EXPECT_EQ((*tree)["Period"], 3600);
  EXPECT_EQ((*tree)["Dimensions"][1]["Value"], "AllTraffic");
  // JS sends a float64 when the time has a fraction, and may use indefinite lengths.
  auto js = DecodeCbor(FromHex("bf69537461727454696d65c1fb41d9648020100000ff"));
  ASSERT_TRUE(js.ok());
  EXPECT_DOUBLE_EQ((*js)["StartTime"].get<double>(), 1704067200.25);
  EXPECT_FALSE(DecodeCbor(FromHex("8101")).ok());      // an array, not a map
  EXPECT_FALSE(DecodeCbor(FromHex("a1")).ok());        // truncated
  EXPECT_FALSE(DecodeCbor(FromHex("a1c1")).ok());      // a tag with nothing after it
  EXPECT_FALSE(DecodeCbor(FromHex("a16141ff")).ok());  // a break outside an indefinite item
  // A one-byte tag head inside a string is text, not a tag.
  auto text = DecodeCbor(FromHex("a1614162c1c1"));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ((*text)["A"], "\xc1\xc1");
  auto tagged_float16 = DecodeCbor(FromHex("a16154c1f93c00"));  // tag 1 + half float 1.0
  ASSERT_TRUE(tagged_float16.ok());
  EXPECT_EQ((*tagged_float16)["T"], 1.0);
}

TEST(CloudWatchCodec, CborTimestampsAreTag1AndDoublesFloat64) {
  json result = {{"Label", "Invocations"},
                 {"Datapoints",
                  json::array({{{"Timestamp", 1704067200.0}, {"Sum", 42.0}, {"Unit", "None"}}})}};
  std::string hex = HexEncode(EncodeCbor(result));
  // {"Datapoints":[{"Sum":42.0,"Timestamp":tag1(1704067200),"Unit":"None"}],"Label":…}
  EXPECT_EQ(hex,
            "a26a44617461706f696e747381a36353756dfb40450000000000006954696d657374616d70c11a659200"
            "8064556e6974644e6f6e65654c6162656c6b496e766f636174696f6e73");
  json fractional = {{"Timestamps", json::array({1704067200.5})}};
  EXPECT_EQ(HexEncode(EncodeCbor(fractional)), "a16a54696d657374616d707381c1fb41d9648020200000");
}

TEST(CloudWatchCodec, XmlHasMembersEntriesAndIsoTimes) {
  json result = {{"Label", "ModelLatency"},
                 {"Datapoints", json::array({{{"Timestamp", 1672531200.0},
                                              {"Average", 1500.5},
                                              {"Unit", "Microseconds"},
                                              {"ExtendedStatistics", {{"p99", 2000.0}}}}})}};
  std::string xml = EncodeQueryXml("GetMetricStatistics", result, "rid<1>");
  EXPECT_EQ(xml,
            "<GetMetricStatisticsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/"
            "\"><GetMetricStatisticsResult><Datapoints><member><Average>1500.5</Average>"
            "<ExtendedStatistics><entry><key>p99</key><value>2000.0</value></entry>"
            "</ExtendedStatistics><Timestamp>2023-01-01T00:00:00Z</Timestamp><Unit>Microseconds"
            "</Unit></member></Datapoints><Label>ModelLatency</Label></GetMetricStatisticsResult>"
            "<ResponseMetadata><RequestId>rid&lt;1&gt;</RequestId></ResponseMetadata>"
            "</GetMetricStatisticsResponse>");
}

TEST(CloudWatchErrors, EachProtocolHasItsShape) {
  Request req{http::verb::post, "/", 11};
  Status st(Code::kInvalidArgument, "The parameter Period must be a multiple of 60.");
  Response q = ErrorResponse(st, Protocol::kCloudWatchQuery, req, "r1");
  EXPECT_EQ(q.result_int(), 400);
  EXPECT_EQ(q.body(),
            "<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><Error>"
            "<Type>Sender</Type><Code>InvalidParameterValue</Code><Message>The parameter Period "
            "must be a multiple of 60.</Message></Error><RequestId>r1</RequestId></ErrorResponse>");
  Response j = ErrorResponse(st, Protocol::kCloudWatchJson, req, "r1");
  EXPECT_EQ(j[http::field::content_type], "application/x-amz-json-1.0");
  EXPECT_EQ(j["x-amzn-query-error"], "InvalidParameterValue;Sender");
  EXPECT_EQ(json::parse(j.body())["__type"],
            "com.amazonaws.cloudwatch#InvalidParameterValueException");
  Response c =
      ErrorResponse(Status(Code::kMissingParameter, "m"), Protocol::kCloudWatchCbor, req, "r1");
  EXPECT_EQ(c["x-amzn-query-error"], "MissingParameter;Sender");
  EXPECT_EQ(c["smithy-protocol"], "rpc-v2-cbor");
  json body = json::from_cbor(c.body());
  EXPECT_EQ(body["__type"], "com.amazonaws.cloudwatch#MissingRequiredParameterException");
  Response internal = ErrorResponse(Internal("x"), Protocol::kCloudWatchJson, req, "r1");
  EXPECT_EQ(internal.result_int(), 500);
  EXPECT_EQ(internal["x-amzn-query-error"], "InternalServiceError;Receiver");
}

// ---- operations over a real MetricsService -------------------------------------------------

class CloudWatchOps : public ::testing::Test {
 protected:
  CloudWatchOps()
      : store_(std::move(*store::Store::Open(dir_.path() / "t.db"))),
        metrics_(*store_, clock_, {}, nullptr) {}

  void Invoke(WallTime t, int64_t model_us, metrics::Outcome outcome = metrics::Outcome::kSuccess) {
    metrics::InvocationRecord r;
    r.endpoint = "ep";
    r.variant = "AllTraffic";
    r.time = t;
    r.outcome = outcome;
    r.model_answered = true;
    r.model_latency_us = model_us;
    r.memory_mb = 2048;
    metrics_.Record(r);
  }

  Result<json> Run(std::string_view op, const json& in) {
    return RunCloudWatchOp(op, in, metrics_, clock_.Now());
  }

  static json Dims() {
    return json::array({{{"Name", "EndpointName"}, {"Value", "ep"}},
                        {{"Name", "VariantName"}, {"Value", "AllTraffic"}}});
  }
  json Stats(json extra) {
    json in = {{"Namespace", "AWS/SageMaker"}, {"MetricName", "Invocations"},
               {"Dimensions", Dims()},         {"StartTime", kT0 - 3600},
               {"EndTime", kT0 + 3600},        {"Period", 60},
               {"Statistics", {"Sum"}}};
    if (extra.is_object()) in.update(extra);
    return in;
  }

  static constexpr double kT0 = 1'704'067'200;  // 2024-01-01T00:00:00Z
  testing::TempDir dir_;
  testing::FakeClock clock_{FromEpochSeconds(kT0 + 7200)};
  std::unique_ptr<store::Store> store_;
  metrics::MetricsService metrics_;
};

TEST_F(CloudWatchOps, GetMetricStatisticsSumsPerPeriod) {
  for (int i = 0; i < 5; ++i) Invoke(FromEpochSeconds(kT0 + 10), 1000);
  for (int i = 0; i < 3; ++i) Invoke(FromEpochSeconds(kT0 + 70), 3000);
  auto r =
      Run("GetMetricStatistics", Stats({{"Period", 3600}, {"Statistics", {"Sum", "SampleCount"}}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ((*r)["Datapoints"].size(), 1u);
  EXPECT_EQ((*r)["Datapoints"][0]["Sum"], 8.0);
  EXPECT_EQ((*r)["Datapoints"][0]["Timestamp"], kT0);
  EXPECT_EQ((*r)["Datapoints"][0]["Unit"], "None");
  EXPECT_EQ((*r)["Label"], "Invocations");

  auto lat = Run("GetMetricStatistics", Stats({{"MetricName", "ModelLatency"},
                                               {"Statistics", nullptr},
                                               {"ExtendedStatistics", {"p50", "p99"}}}));
  ASSERT_TRUE(lat.ok()) << lat.status().ToString();
  ASSERT_EQ((*lat)["Datapoints"].size(), 2u);
  EXPECT_EQ((*lat)["Datapoints"][1]["ExtendedStatistics"]["p99"], 3000.0);
}

TEST_F(CloudWatchOps, DimensionSetsMatchExactlyAndUnitsFilter) {
  Invoke(FromEpochSeconds(kT0), 1000);
  auto partial =
      Run("GetMetricStatistics",
          Stats({{"Dimensions", json::array({{{"Name", "EndpointName"}, {"Value", "ep"}}})}}));
  ASSERT_TRUE(partial.ok());
  EXPECT_TRUE((*partial)["Datapoints"].empty());
  auto wrong_unit = Run("GetMetricStatistics", Stats({{"Unit", "Seconds"}}));
  ASSERT_TRUE(wrong_unit.ok());
  EXPECT_TRUE((*wrong_unit)["Datapoints"].empty());
  auto right_unit = Run("GetMetricStatistics", Stats({{"Unit", "None"}}));
  ASSERT_TRUE(right_unit.ok());
  EXPECT_EQ((*right_unit)["Datapoints"].size(), 1u);
  // EndTime is exclusive: a datapoint at exactly EndTime is not included.
  auto before = Run("GetMetricStatistics", Stats({{"EndTime", kT0}}));
  ASSERT_TRUE(before.ok());
  EXPECT_TRUE((*before)["Datapoints"].empty());
}

TEST_F(CloudWatchOps, GetMetricStatisticsErrors) {
  auto code = [&](json in) { return Run("GetMetricStatistics", in).status(); };
  json no_ns = Stats({});
  no_ns.erase("Namespace");
  EXPECT_EQ(code(no_ns).code(), Code::kMissingParameter);
  EXPECT_EQ(code(no_ns).message(), "The parameter Namespace is required.");
  EXPECT_EQ(code(Stats({{"Period", 90}})).message(),
            "The parameter Period must be a multiple of 60.");
  EXPECT_EQ(code(Stats({{"Statistics", {"Median"}}})).message(),
            "The parameter Statistics.member.1 must be a value in the set [ Minimum, Maximum, "
            "Average, SampleCount, Sum ].");
  EXPECT_EQ(code(Stats({{"Statistics", nullptr}})).code(), Code::kInvalidCombination);
  EXPECT_EQ(code(Stats({{"ExtendedStatistics", {"p99"}}})).code(), Code::kInvalidCombination);
  EXPECT_EQ(code(Stats({{"StartTime", kT0}, {"EndTime", kT0}})).code(), Code::kInvalidArgument);
  Status over = code(Stats({{"StartTime", kT0}, {"EndTime", kT0 + 86400 + 60}}));
  EXPECT_EQ(over.code(), Code::kInvalidCombination);
  EXPECT_EQ(over.message(),
            "You have requested up to 1,441 datapoints, which exceeds the limit of 1,440. You may "
            "reduce the datapoints requested by increasing Period, or decreasing the time range.");
  EXPECT_TRUE(
      Run("GetMetricStatistics", Stats({{"StartTime", kT0}, {"EndTime", kT0 + 86400}})).ok());
  // Query-protocol strings are read leniently; a bad one is InvalidParameterValue.
  EXPECT_TRUE(
      Run("GetMetricStatistics", Stats({{"Period", "60"}, {"StartTime", "2024-01-01T00:00:00Z"}}))
          .ok());
  EXPECT_EQ(code(Stats({{"Period", "sixty"}})).code(), Code::kInvalidArgument);
  // A whole float beyond int64 is refused, not cast (fuzz/regressions/fuzz_cloudwatch/).
  EXPECT_EQ(code(Stats({{"Period", 2e121}})).message(), "The parameter Period must be an integer.");
  EXPECT_EQ(code(Stats({{"Period", -2e121}})).code(), Code::kInvalidArgument);
  EXPECT_EQ(code(Stats({{"StartTime", 1.70407e19}})).message(),
            "The parameter StartTime must be a timestamp.");
  EXPECT_EQ(Run("PutMetricData", json::object()).status().code(), Code::kUnknownOperation);
}

TEST_F(CloudWatchOps, GetMetricDataOrdersPagesAndLabels) {
  for (int m = 0; m < 5; ++m) {
    for (int i = 0; i <= m; ++i) Invoke(FromEpochSeconds(kT0 + 60 * m), 100);
  }
  json query = {
      {"Id", "q1"},
      {"MetricStat",
       {{"Metric",
         {{"Namespace", "AWS/SageMaker"}, {"MetricName", "Invocations"}, {"Dimensions", Dims()}}},
        {"Period", 60},
        {"Stat", "Sum"}}}};
  json in = {{"MetricDataQueries", {query}}, {"StartTime", kT0}, {"EndTime", kT0 + 3600}};
  auto r = Run("GetMetricData", in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const json& res = (*r)["MetricDataResults"][0];
  EXPECT_EQ(res["Id"], "q1");
  EXPECT_EQ(res["Label"], "Invocations");
  EXPECT_EQ(res["Values"], json({5.0, 4.0, 3.0, 2.0, 1.0}));  // newest first
  EXPECT_EQ(res["Timestamps"][0], kT0 + 240);
  EXPECT_EQ(res["StatusCode"], "Complete");

  in["ScanBy"] = "TimestampAscending";
  in["MaxDatapoints"] = 2;
  std::vector<double> all;
  for (int page = 0; page < 5; ++page) {
    auto p = Run("GetMetricData", in);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    for (const auto& v : (*p)["MetricDataResults"][0]["Values"]) all.push_back(v.get<double>());
    if (!p->contains("NextToken")) break;
    EXPECT_EQ((*p)["MetricDataResults"][0]["StatusCode"], "PartialData");
    in["NextToken"] = (*p)["NextToken"];
  }
  EXPECT_EQ(all, (std::vector<double>{1, 2, 3, 4, 5}));

  in["NextToken"] = "garbage";
  EXPECT_EQ(Run("GetMetricData", in).status().code(), Code::kInvalidNextToken);
  in.erase("NextToken");
  query["Id"] = "Q1";
  EXPECT_EQ(Run("GetMetricData",
                {{"MetricDataQueries", {query}}, {"StartTime", kT0}, {"EndTime", kT0 + 60}})
                .status()
                .code(),
            Code::kInvalidArgument);
  query["Id"] = "q1";
  query["MetricStat"]["Stat"] = "Median";
  Status bad = Run("GetMetricData",
                   {{"MetricDataQueries", {query}}, {"StartTime", kT0}, {"EndTime", kT0 + 60}})
                   .status();
  EXPECT_EQ(bad.message(),
            "The value Median for parameter MetricDataQueries.member.1.MetricStat.Stat is not a "
            "valid statistic.");
}

TEST_F(CloudWatchOps, ListMetricsFilters) {
  Invoke(FromEpochSeconds(kT0), 100);
  auto all = Run("ListMetrics", {{"Namespace", "AWS/SageMaker"}});
  ASSERT_TRUE(all.ok());
  std::set<std::string> names;
  for (const auto& m : (*all)["Metrics"]) names.insert(m["MetricName"]);
  EXPECT_TRUE(names.count("Invocations"));
  EXPECT_TRUE(names.count("ModelLatency"));
  EXPECT_FALSE(names.count("BilledDuration"));  // another namespace
  auto one = Run("ListMetrics",
                 {{"MetricName", "Invocations"},
                  {"Dimensions", json::array({{{"Name", "EndpointName"}, {"Value", "ep"}}})}});
  ASSERT_TRUE(one.ok());
  ASSERT_EQ((*one)["Metrics"].size(), 1u);
  EXPECT_EQ((*one)["Metrics"][0]["Dimensions"], Dims());
  auto none = Run("ListMetrics",
                  {{"Dimensions", json::array({{{"Name", "EndpointName"}, {"Value", "other"}}})}});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE((*none)["Metrics"].empty());
  clock_.Advance(std::chrono::hours(4));
  auto recent = Run("ListMetrics", {{"RecentlyActive", "PT3H"}});
  ASSERT_TRUE(recent.ok());
  EXPECT_TRUE((*recent)["Metrics"].empty());
  EXPECT_EQ(Run("ListMetrics", {{"RecentlyActive", "PT1H"}}).status().code(),
            Code::kInvalidArgument);
}

// thaw/KeepAlive is served from a live snapshot (metrics/live_gauges.h): one datapoint, the value
// now, in the current minute; listed by ListMetrics with its extra dimensions.
TEST_F(CloudWatchOps, LiveKeepAliveNamespaceAnswersTheCurrentValue) {
  int calls = 0;
  metrics_.set_gauge_source([&](const std::string& endpoint) {
    ++calls;
    std::vector<metrics::GaugeValue> out;
    for (std::string ep : {"ep", "other"}) {
      if (!endpoint.empty() && endpoint != ep) continue;
      auto key = [&](const char* name, metrics::Dimensions extra = {}) {
        metrics::Dimensions d = {{"EndpointName", ep}, {"VariantName", "AllTraffic"}};
        for (auto& e : extra) d.push_back(e);
        return metrics::SeriesKey::Make("thaw/KeepAlive", name, std::move(d));
      };
      out.push_back({key("KeepAliveSeconds"), 600});
      out.push_back({key("RetireAt"), kT0 + 7200 + 600});
      out.push_back({key("IdleTimes", {{"Bin", "3"}}), 4});
      out.push_back({key("Policy", {{"Policy", "adaptive"}}), 1});
    }
    return out;
  });
  json ka = Stats({{"Namespace", "thaw/KeepAlive"},
                   {"MetricName", "KeepAliveSeconds"},
                   {"StartTime", kT0 + 7200 - 600},
                   {"EndTime", kT0 + 7200 + 60},
                   {"Statistics", {"Maximum", "SampleCount"}}});
  auto r = Run("GetMetricStatistics", ka);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ((*r)["Datapoints"].size(), 1u);
  EXPECT_EQ((*r)["Datapoints"][0]["Maximum"], 600.0);
  EXPECT_EQ((*r)["Datapoints"][0]["SampleCount"], 1.0);
  EXPECT_EQ((*r)["Datapoints"][0]["Timestamp"], kT0 + 7200);  // the current minute
  EXPECT_EQ((*r)["Datapoints"][0]["Unit"], "Seconds");
  // No history: a window without the current minute has no datapoint.
  auto past = Run("GetMetricStatistics", Stats({{"Namespace", "thaw/KeepAlive"},
                                                {"MetricName", "KeepAliveSeconds"},
                                                {"EndTime", kT0 + 3600}}));
  ASSERT_TRUE(past.ok());
  EXPECT_TRUE((*past)["Datapoints"].empty());

  // GetMetricData: epoch seconds survive as float64 (Maximum is exact), a Bin series.
  json q = {{"StartTime", kT0 + 7200 - 600}, {"EndTime", kT0 + 7200 + 60}};
  auto stat = [&](const char* id, const char* name, json dims) {
    return json{
        {"Id", id},
        {"MetricStat",
         {{"Metric", {{"Namespace", "thaw/KeepAlive"}, {"MetricName", name}, {"Dimensions", dims}}},
          {"Period", 60},
          {"Stat", "Maximum"}}}};
  };
  json bin = Dims();
  bin.push_back({{"Name", "Bin"}, {"Value", "3"}});
  q["MetricDataQueries"] = {stat("retire", "RetireAt", Dims()), stat("bin", "IdleTimes", bin)};
  auto d = Run("GetMetricData", q);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ((*d)["MetricDataResults"][0]["Values"][0], kT0 + 7200 + 600);
  EXPECT_EQ((*d)["MetricDataResults"][1]["Values"][0], 4.0);

  auto list = Run("ListMetrics",
                  {{"Namespace", "thaw/KeepAlive"},
                   {"Dimensions", json::array({{{"Name", "EndpointName"}, {"Value", "ep"}}})}});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ((*list)["Metrics"].size(), 4u);
  bool policy = false;
  for (const json& m : (*list)["Metrics"]) {
    if (m["MetricName"] == "Policy") {
      policy = true;
      EXPECT_EQ(m["Dimensions"].size(), 3u);
      EXPECT_EQ(m["Dimensions"][0]["Name"], "EndpointName");
      EXPECT_EQ(m["Dimensions"][1]["Name"], "Policy");
      EXPECT_EQ(m["Dimensions"][1]["Value"], "adaptive");
    }
  }
  EXPECT_TRUE(policy);
  // A live series is recently active, and never stored: the stored namespaces are unchanged.
  auto recent = Run("ListMetrics", {{"Namespace", "thaw/KeepAlive"}, {"RecentlyActive", "PT3H"}});
  ASSERT_TRUE(recent.ok());
  EXPECT_EQ((*recent)["Metrics"].size(), 8u);
  ASSERT_TRUE(metrics_.Flush(clock_.Now()).ok());
  auto stored = store_->ListMetricSeries();
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored->empty());
  EXPECT_GT(calls, 0);
}

}  // namespace
}  // namespace thaw::api
