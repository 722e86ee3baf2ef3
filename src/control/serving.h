#pragma once
// The control plane's view of serving: what a deploy job asks of the fleet. The server wires a
// FleetServing over fleet::Fleet; control unit tests use a fake.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "fleet/fleet.h"

namespace thaw::control {

struct ServingOptions {
  std::chrono::microseconds keep_alive = std::chrono::seconds(300);
  std::chrono::milliseconds invocation_timeout{60000};
  std::chrono::milliseconds startup_timeout{180000};
  std::chrono::milliseconds stop_grace{30000};  // retirement: socket closed → SIGKILL after this
  size_t instance_queue = 64;  // instance variants: requests queued beyond busy workers
  // The server's keep-alive policy (--keep-alive-policy); null: fixed `keep_alive`. An
  // EndpointConfig tag `thaw:keep-alive` (seconds, or "adaptive") overrides it per endpoint.
  std::shared_ptr<const fleet::KeepAlivePolicy> keep_alive_policy;
  fleet::AdaptiveParams adaptive;  // what a tag "adaptive" gets
  bool sklearn_templates = true;   // --sklearn-templates: PoolConfig::templates for scikit-learn
};

class Serving {
 public:
  virtual ~Serving() = default;
  // Makes `snapshot` (with its "Deployed" variants) the endpoint's live variant. With
  // `trial_start`, first starts one worker and waits for its /ping: on failure nothing changes
  // and the error message is the FailureReason. Returns the trial start's setup time (µs).
  virtual Result<int64_t> Deploy(const std::string& endpoint, const nlohmann::json& snapshot,
                                 bool trial_start) = 0;
  // Stops serving the endpoint; in-flight requests finish first.
  virtual void Remove(const std::string& endpoint) = 0;
};

// The variant that serves an endpoint snapshot, in the fleet's terms. The first production
// variant takes all traffic (weighted routing between several is not implemented).
Result<fleet::VariantSpec> VariantOf(const std::string& endpoint, const nlohmann::json& snapshot,
                                     const ServingOptions& options);

class FleetServing final : public Serving {
 public:
  FleetServing(fleet::Fleet& fleet, ServingOptions options);
  Result<int64_t> Deploy(const std::string& endpoint, const nlohmann::json& snapshot,
                         bool trial_start) override;
  void Remove(const std::string& endpoint) override;

 private:
  fleet::Fleet& fleet_;
  ServingOptions options_;
};

}  // namespace thaw::control
