#pragma once
// SageMaker Runtime (rest-json): POST /endpoints/{EndpointName}/invocations.
// Headers the model may see are forwarded exactly as received (none invented); errors follow
// sagemaker-api.md §1.2 — never 429/500/503 for a model's failure, which boto3 would re-run.

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "api/http_server.h"
#include "common/arn.h"
#include "common/clock.h"
#include "fleet/fleet.h"
#include "logs/log_service.h"
#include "metrics/record.h"

namespace thaw::api {

// The endpoint name of an invocation path, or nullopt when `target` is not one.
std::optional<std::string> InvocationEndpoint(std::string_view target);

// The response to a body over the limit on an invocation path (AWS's serverless wording).
Response OversizeResponse(const Request& header, const std::string& request_id);

class RuntimeApi {
 public:
  // `recorder` (may be null) gets one record per invocation; `clock` times it.
  RuntimeApi(fleet::Fleet& fleet, Identity identity, metrics::Recorder* recorder,
             const Clock& clock);
  boost::asio::awaitable<Response> Invoke(Request& request, RequestContext& context,
                                          std::string endpoint);
  // Failed invocations are noted in the failing worker's log stream. Set before serving.
  void SetLogs(logs::LogService* logs) { logs_ = logs; }

 private:
  // `result` names the worker's log stream (LogStreamArn) and is noted there.
  Response ModelError(const Request& req, const RequestContext& ctx, const std::string& endpoint,
                      const fleet::InvokeResult& result, unsigned original_status,
                      const std::string& original_message);

  fleet::Fleet& fleet_;
  Identity identity_;
  metrics::Recorder* recorder_;
  const Clock& clock_;
  logs::LogService* logs_ = nullptr;
};

}  // namespace thaw::api
