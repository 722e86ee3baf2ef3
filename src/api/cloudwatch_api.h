#pragma once
// The CloudWatch API on thaw's port, in whichever of its three protocols a request speaks
// (sagemaker-api.md §0, modern-clients.md §8), answered in that same protocol:
//
//   POST /, X-Amz-Target: GraniteServiceVersion20100801.<Op>            awsJson1_0
//   POST /service/GraniteServiceVersion20100801/operation/<Op>          smithy-rpc-v2-cbor
//   POST /, Content-Type: application/x-www-form-urlencoded, Action=<Op>  awsQuery (XML)
//
// Decoding and encoding are in cloudwatch_codec, the operations in cloudwatch_ops (run on the
// blocking pool: they read SQLite), errors in the one error table.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <optional>
#include <string>

#include "api/error_table.h"
#include "api/http_server.h"
#include "metrics/metrics_service.h"

namespace thaw::api {

struct CloudWatchCall {
  Protocol protocol;
  std::string op;  // empty for awsQuery until the body is read (Action=)
};

// The CloudWatch protocol and operation of a request, or nullopt when it is not CloudWatch.
std::optional<CloudWatchCall> MatchCloudWatch(const Request& request);

class CloudWatchApi {
 public:
  // `metrics` may be null (a server without metrics answers ServiceUnavailable).
  CloudWatchApi(metrics::MetricsService* metrics, boost::asio::thread_pool& blocking)
      : metrics_(metrics), blocking_(blocking) {}

  boost::asio::awaitable<Response> Handle(Request& request, RequestContext& context,
                                          CloudWatchCall& call);

 private:
  metrics::MetricsService* metrics_;
  boost::asio::thread_pool& blocking_;
};

}  // namespace thaw::api
