// CloudWatch Logs request decoding (api/logs_api.h): the awsJson1_1 body parsed as LogsApi does,
// then the operation — names, prefixes, limits, time ranges, filter patterns, pagination tokens
// — over a real LogStore holding two interleaved streams of one endpoint.
//
// Input: byte 0 picks the operation (% 5: DescribeLogGroups, DescribeLogStreams, GetLogEvents,
// FilterLogEvents, an unknown one), the rest is the JSON body. A token the answer hands back is
// followed once more (what a paginating client does).
#include <filesystem>
#include <string_view>

#include "api/logs_api.h"
#include "common/clock.h"
#include "common/ids.h"
#include "logs/log_service.h"

namespace {

using nlohmann::json;
using namespace thaw;

class StepClock final : public Clock {
 public:
  WallTime Now() const override { return now; }
  WallTime now = FromEpochSeconds(1'700'000'000);
};

struct Fixture {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("thaw-fuzz-logs-" + RandomHex(8));
  StepClock clock;
  logs::LogService service{{dir}, clock};

  Fixture() {
    if (!service.Start().ok()) abort();
    for (int i = 0; i < 12; ++i) {
      service.Append("ep", i % 2 ? "AllTraffic/b" : "AllTraffic/a",
                     (i % 3 == 0 ? "ERROR " : "info ") + std::to_string(i) + " {\"k\": 1}");
      service.Append("other", "AllTraffic/c", "line " + std::to_string(i));
      service.Flush();
      clock.now += std::chrono::milliseconds(i % 4 == 0 ? 0 : 1);  // some equal timestamps
    }
    service.Stop();
  }
  ~Fixture() {
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
  F();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const std::string kOps[] = {"DescribeLogGroups", "DescribeLogStreams", "GetLogEvents",
                                     "FilterLogEvents", "PutLogEvents"};
  const std::string& op = kOps[data[0] % 5];
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  json input = json::object();
  if (!body.empty()) {
    input = json::parse(body, nullptr, false);
    if (input.is_discarded() || !input.is_object()) return 0;  // SerializationException
  }
  Identity identity;
  Result<json> out = api::RunLogsOp(op, input, F().service.store(), identity, 30);
  if (!out.ok()) return 0;
  (void)out->dump(-1, ' ', false, json::error_handler_t::replace);
  for (const char* key : {"nextToken", "nextForwardToken", "nextBackwardToken"}) {
    if (out->contains(key) && (*out)[key].is_string()) {
      json next = input;
      next["nextToken"] = (*out)[key];  // GetLogEvents takes either token as nextToken
      (void)api::RunLogsOp(op, next, F().service.store(), identity, 30);
    }
  }
  return 0;
}
