#pragma once
// The SageMaker control plane: Models, EndpointConfigs and Endpoints, their validation, their
// lifecycle, and the deploy jobs that move endpoints between statuses.
//
// Handle() is called by api/ on a blocking-work thread (it writes SQLite). Mutations are
// serialised by `mu_`: each checks, then commits exactly one store transaction, then answers —
// so an acknowledged mutation is durable. Endpoints keep their own snapshot of the config and
// models they were deployed from (the "pending"/"current" documents), so deleting a config or a
// model never changes a live endpoint.
//
// Deploy jobs run on the JobRunner. A job carries the endpoint's generation; it commits its
// result only if no other mutation happened meanwhile.

#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/arn.h"
#include "common/clock.h"
#include "common/status.h"
#include "control/deployer.h"
#include "control/serving.h"
#include "store/store.h"

namespace thaw::control {

struct ControlOptions {
  Identity identity;
  size_t max_endpoints = 50;             // endpoints per server (AWS: 50 serverless per region)
  int64_t max_total_concurrency = 1000;  // sum of MaxConcurrency over serverless endpoints
};

// Where deploy jobs run. The server posts them to a thread pool; tests queue and drain them.
class JobRunner {
 public:
  virtual ~JobRunner() = default;
  virtual void Post(std::function<void()> job) = 0;
};

class ControlPlane {
 public:
  ControlPlane(store::Store& store, const Clock& clock, Deployer& deployer, Serving& serving,
               JobRunner& jobs, ControlOptions options);

  // One awsJson1_1 operation; `op` is the part of X-Amz-Target after "SageMaker.".
  Result<nlohmann::json> Handle(std::string_view op, const nlohmann::json& body);

  // After a restart: serves every InService endpoint again (at zero workers) and resubmits the
  // jobs of endpoints caught Creating, Updating or Deleting.
  Status Recover();

  const Identity& identity() const { return options_.identity; }

 private:
  using Json = nlohmann::json;

  Result<Json> CreateModel(const Json& body);
  Result<Json> DescribeModel(const Json& body);
  Result<Json> ListModels(const Json& body);
  Result<Json> DeleteModel(const Json& body);
  Result<Json> CreateEndpointConfig(const Json& body);
  Result<Json> DescribeEndpointConfig(const Json& body);
  Result<Json> ListEndpointConfigs(const Json& body);
  Result<Json> DeleteEndpointConfig(const Json& body);
  Result<Json> CreateEndpoint(const Json& body);
  Result<Json> DescribeEndpoint(const Json& body);
  Result<Json> ListEndpoints(const Json& body);
  Result<Json> UpdateEndpoint(const Json& body);
  Result<Json> DeleteEndpoint(const Json& body);

  std::string Arn(std::string_view kind, std::string_view name) const;
  // The config and every model it names, frozen into one document for the endpoint.
  Result<Json> Snapshot(const std::string& config_name, WallTime now);
  Status CheckLimits(const Json& snapshot, const std::string& replacing_endpoint);

  void Schedule(const std::string& endpoint, int64_t generation);
  void RunJob(const std::string& endpoint, int64_t generation);

  store::Store& store_;
  const Clock& clock_;
  Deployer& deployer_;
  Serving& serving_;
  JobRunner& jobs_;
  ControlOptions options_;
  std::mutex mu_;  // serialises every check-then-write on the store
};

}  // namespace thaw::control
