#pragma once
// thaw's front door: tells requests apart (sagemaker-api.md §0) and hands each to the module that
// serves it, in the wire shape its protocol wants.
//
//   GET  /ping                               server health (200 once ready)
//   GET  /metrics                            Prometheus text
//   GET  /console, /console/…                the web console's static files (static_files.h)
//   POST /  X-Amz-Target: SageMaker.<Op>     control plane, awsJson1_1
//   POST /endpoints/{name}/invocations       runtime, rest-json
//   POST / X-Amz-Target: GraniteServiceVersion20100801.<Op>, POST /service/GraniteService…/
//        operation/<Op>, POST / form-encoded Action=<Op>    CloudWatch (cloudwatch_api.h)
//   SigV4 scope `s3`, or unsigned and none of the above    S3 subset (s3_api.h)
//   SigV4 scope `sts`, or POST / Action=GetCallerIdentity  STS (s3_api.h)
//   POST /  X-Amz-Target: Logs_20140328.<Op>  CloudWatch Logs, awsJson1_1 (logs_api.h)
//   anything else                            404 UnknownOperationException (JSON)
//
// Every request but GET /ping, /metrics and /console/… passes the AuthGate (SigV4) first;
// /ping and /metrics skip it only for the peers --open-endpoints opens them to (loopback).
//
// Handle() runs on an I/O thread; control-plane work (SQLite) is moved to the blocking pool and
// the coroutine resumes on the connection's executor when it is done.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include "api/auth_gate.h"
#include "api/cloudwatch_api.h"
#include "api/http_server.h"
#include "api/http_types.h"
#include "api/logs_api.h"
#include "api/runtime_api.h"
#include "api/s3_api.h"
#include "api/static_files.h"
#include "control/control_plane.h"
#include "fleet/fleet.h"
#include "metrics/metrics_service.h"

namespace thaw::api {

// The answer to a body over the server's limit, in the shape of the API the path belongs to.
Response BodyTooLarge(const Request& header, const std::string& request_id);

class Api {
 public:
  // `metrics` (may be null: no metrics) records invocations and answers CloudWatch.
  Api(control::ControlPlane& control, fleet::Fleet& fleet, boost::asio::thread_pool& blocking,
      metrics::MetricsService* metrics = nullptr);

  boost::asio::awaitable<Response> Handle(Request& request, RequestContext& context);

  // /ping answers 200 only after the server has finished starting.
  void SetReady(bool ready) { ready_.store(ready); }
  // SigV4 for every request the gate does not leave open; null: no authentication (--auth none).
  // Set before the server starts.
  void SetAuthGate(const AuthGate* gate) { gate_ = gate; }
  // The embedded S3 subset and STS (null: neither is served). Set before the server starts.
  void SetS3(S3Api* s3) { s3_ = s3; }
  // HttpServerOptions::body_sink_for: S3 PUT bodies stream to a temporary file.
  std::shared_ptr<BodySink> BodySinkFor(const http::request_header<>& header) const;
  // The console's files; null: /console/ is not served. Set before the server starts.
  void SetConsole(const StaticFiles* console) { console_ = console; }
  // The endpoints' logs: the CloudWatch Logs API and ModelError's LogStreamArn; null: none.
  // Set before the server starts.
  void SetLogs(logs::LogService* logs, int64_t retention_days = 30) {
    logs_.SetService(logs, retention_days);
    runtime_.SetLogs(logs);
  }

 private:
  boost::asio::awaitable<Response> HandleSageMaker(Request& request, RequestContext& context,
                                                   std::string op);

  control::ControlPlane& control_;
  fleet::Fleet& fleet_;
  RuntimeApi runtime_;
  CloudWatchApi cloudwatch_;
  LogsApi logs_;
  boost::asio::thread_pool& blocking_;
  std::atomic<bool> ready_{false};
  const AuthGate* gate_ = nullptr;
  metrics::MetricsService* metrics_;  // null: no invocation counters on /metrics
  S3Api* s3_ = nullptr;
  const StaticFiles* console_ = nullptr;
};

}  // namespace thaw::api
