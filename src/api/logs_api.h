#pragma once
// The CloudWatch Logs API for the endpoints' logs (awsJson1_1, SigV4 service "logs"):
//
//   POST /, X-Amz-Target: Logs_20140328.<Op>
//     DescribeLogGroups, DescribeLogStreams, GetLogEvents, FilterLogEvents
//
// over logs::LogStore: one group per endpoint ("/aws/sagemaker/Endpoints/{EndpointName}"), one
// stream per worker ("{VariantName}/{worker id}"). Reads run on the blocking pool after a
// LogService::Flush, so a client reads what was written before its request. Errors go through
// the error table (Protocol::kLogs): a missing group or stream is ResourceNotFoundException.
//
// Pagination tokens name a position in the interleaved order of events (logs::EventKey): by
// timestamp, then stream, then place in the stream. They stay valid while the events they
// point between exist; a token this server did not issue is InvalidParameterException.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/http_server.h"
#include "common/arn.h"
#include "common/status.h"
#include "logs/log_service.h"

namespace thaw::api {

// The operation of a CloudWatch Logs request (from X-Amz-Target), or nullopt.
std::optional<std::string> MatchLogs(const Request& request);

// "arn:aws:logs:{region}:{account}:log-group:/aws/sagemaker/Endpoints/{endpoint}:log-stream:{s}"
std::string LogStreamArn(const Identity& identity, const std::string& endpoint,
                         const std::string& stream);

// One operation on the store (pure but for reading files): what the API answers.
Result<nlohmann::json> RunLogsOp(const std::string& op, const nlohmann::json& input,
                                 const logs::LogStore& store, const Identity& identity,
                                 int64_t retention_days);

class LogsApi {
 public:
  LogsApi(Identity identity, boost::asio::thread_pool& blocking)
      : identity_(std::move(identity)), blocking_(blocking) {}
  // Set before the server starts; without it every operation is ServiceUnavailableException.
  void SetService(logs::LogService* logs, int64_t retention_days) {
    logs_ = logs;
    retention_days_ = retention_days;
  }
  boost::asio::awaitable<Response> Handle(Request& request, RequestContext& context,
                                          const std::string& op);

 private:
  Identity identity_;
  boost::asio::thread_pool& blocking_;
  logs::LogService* logs_ = nullptr;
  int64_t retention_days_ = 30;
};

}  // namespace thaw::api
