// CloudWatch request decoding in its three protocols — awsQuery (form-encoded), awsJson1_0 and
// rpc-v2-cbor — as cloudwatch_api.cc decodes them, then the operation (validation, dimension
// matching, periods, pagination tokens) over a real MetricsService holding a few invocations,
// and the answer encoded back in the request's protocol.
//
// Input: byte 0 picks the protocol (% 3: query, JSON, CBOR), byte 1 the operation for JSON and
// CBOR (% 4: GetMetricStatistics, GetMetricData, PutMetricData, ListMetrics; a query body names
// its own with Action=), the rest is the body.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string_view>

#include "api/cloudwatch_codec.h"
#include "api/cloudwatch_ops.h"
#include "common/clock.h"
#include "common/ids.h"
#include "metrics/metrics_service.h"
#include "store/store.h"

namespace {

using nlohmann::json;
using namespace thaw;

class FixedClock final : public Clock {
 public:
  WallTime Now() const override { return FromEpochSeconds(1'704'074'400); }  // 2024-01-01T02Z
};

struct Fixture {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("thaw-fuzz-cw-" + RandomHex(8));
  FixedClock clock;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<metrics::MetricsService> metrics;

  Fixture() {
    std::filesystem::create_directories(dir);
    auto opened = store::Store::Open(dir / "t.db");
    if (!opened.ok()) abort();
    store = std::move(*opened);
    metrics = std::make_unique<metrics::MetricsService>(*store, clock, metrics::MetricsOptions{},
                                                        nullptr);
    for (int i = 0; i < 20; ++i) {
      metrics::InvocationRecord r;
      r.endpoint = i % 3 ? "ep" : "other";
      r.variant = "AllTraffic";
      r.time = FromEpochSeconds(1'704'067'200 + 37 * i);
      r.outcome = i % 7 ? metrics::Outcome::kSuccess : metrics::Outcome::kModelServerError;
      r.model_answered = true;
      r.model_latency_us = 1000 * (i + 1);
      r.overhead_latency_us = 50 * i;
      r.memory_mb = 2048;
      metrics->Record(r);
    }
    if (!metrics->Flush(clock.Now()).ok()) abort();  // half stored …
    metrics::InvocationRecord late;
    late.endpoint = "ep";
    late.variant = "AllTraffic";
    late.time = FromEpochSeconds(1'704'070'000);
    metrics->Record(late);  // … half pending
  }
  ~Fixture() {
    metrics.reset();
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

Fixture& F() {
  static Fixture fixture;
  return fixture;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  F();  // removed with its directory by the static destructor at exit
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static constexpr std::string_view kOps[] = {"GetMetricStatistics", "GetMetricData",
                                              "PutMetricData", "ListMetrics"};
  const int protocol = data[0] % 3;
  std::string op(kOps[data[1] % 4]);
  std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);

  Result<json> input = json::object();
  if (protocol == 0) {
    std::string action;
    input = api::DecodeQueryForm(body, action);
    if (input.ok() && action.empty()) return 0;  // MissingParameter
    op = action;
  } else if (protocol == 1) {
    json parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) return 0;  // SerializationException
    input = std::move(parsed);
  } else {
    input = api::DecodeCbor(body);
  }
  if (!input.ok()) {
    (void)api::EncodeQueryErrorXml("Sender", "InvalidParameterValue", input.status().message(),
                                   "req");
    return 0;
  }
  Result<json> result = api::RunCloudWatchOp(op, *input, *F().metrics, F().clock.Now());
  if (!result.ok()) {
    (void)api::EncodeQueryErrorXml("Sender", "InvalidParameterValue", result.status().message(),
                                   "req");
    return 0;
  }
  switch (protocol) {
    case 0:
      (void)api::EncodeQueryXml(op, *result, "req");
      break;
    case 1:
      (void)result->dump(-1, ' ', false, json::error_handler_t::replace);
      break;
    default: {
      // What the server writes, its own CBOR reader must read back.
      if (!api::DecodeCbor(api::EncodeCbor(*result)).ok()) __builtin_trap();
    }
  }
  return 0;
}
