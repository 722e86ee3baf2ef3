#include "control/serving.h"

namespace thaw::control {

using nlohmann::json;

Result<fleet::VariantSpec> VariantOf(const std::string& endpoint, const json& snapshot,
                                     const ServingOptions& options) {
  const json& variants = snapshot["EndpointConfig"]["ProductionVariants"];
  const json& deployed = snapshot["Deployed"];
  if (!variants.is_array() || variants.empty() || !deployed.is_array() || deployed.empty()) {
    return Internal("the endpoint snapshot has no deployed variant");
  }
  const json& pv = variants[0];
  const json& d = deployed[0];
  fleet::VariantSpec spec;
  spec.endpoint = endpoint;
  spec.variant = pv["VariantName"];
  spec.runtime = d["Runtime"];
  if (d.contains("Program")) spec.runtime = "custom:" + d["Program"].get<std::string>();
  spec.model_dir = d["ModelDir"].get<std::string>();
  const json& model = snapshot["Models"][pv["ModelName"].get<std::string>()];
  const json& container =
      model.contains("PrimaryContainer") ? model["PrimaryContainer"] : model["Containers"][0];
  const json environment = container.value("Environment", json::object());
  for (const auto& [k, v] : environment.items()) {
    spec.env.emplace_back(k, v.get<std::string>());
  }
  if (d.contains("SubmitDirectory")) {  // the deploy copied the code next to the model
    spec.env.emplace_back("SAGEMAKER_SUBMIT_DIRECTORY", d["SubmitDirectory"].get<std::string>());
  }
  if (pv.contains("ServerlessConfig")) {
    const json& sc = pv["ServerlessConfig"];
    spec.memory_mb = sc["MemorySizeInMB"];
    spec.pool.max_concurrency = sc["MaxConcurrency"];
    spec.pool.provisioned = sc.value("ProvisionedConcurrency", 0);
  } else {
    // An instance variant behaves like a persistent endpoint: always-on workers that queue.
    spec.memory_mb = 4096;
    spec.pool.instance_mode = true;
    spec.pool.instance_count = pv["InitialInstanceCount"];
    spec.pool.max_concurrency = spec.pool.instance_count;
    spec.pool.max_queue = options.instance_queue;
  }
  spec.pool.keep_alive = options.keep_alive;
  spec.pool.templates = options.sklearn_templates && spec.runtime == "sklearn";
  spec.pool.policy = options.keep_alive_policy;
  // A user pins an endpoint's keep-alive with the EndpointConfig tag thaw:keep-alive.
  const json tags = snapshot["EndpointConfig"].value("Tags", json::array());
  for (const json& tag : tags) {
    if (!tag.is_object() || tag.value("Key", "") != "thaw:keep-alive") continue;
    auto policy = fleet::ParsePolicy(tag.value("Value", ""), options.adaptive);
    if (!policy.ok()) return InvalidArgument("EndpointConfig tag " + policy.status().message());
    spec.pool.policy = *policy;
  }
  spec.invocation_timeout = options.invocation_timeout;
  spec.startup_timeout = options.startup_timeout;
  spec.stop_grace = options.stop_grace;
  return spec;
}

FleetServing::FleetServing(fleet::Fleet& fleet, ServingOptions options)
    : fleet_(fleet), options_(options) {}

Result<int64_t> FleetServing::Deploy(const std::string& endpoint, const json& snapshot,
                                     bool trial_start) {
  THAW_ASSIGN_OR_RETURN(fleet::VariantSpec spec, VariantOf(endpoint, snapshot, options_));
  auto pool = fleet_.NewPool(std::move(spec));
  int64_t setup_us = 0;
  if (trial_start) {
    THAW_ASSIGN_OR_RETURN(setup_us, fleet_.TrialStart(pool));
  }
  fleet_.Activate(endpoint, std::move(pool));
  return setup_us;
}

void FleetServing::Remove(const std::string& endpoint) { fleet_.Remove(endpoint); }

}  // namespace thaw::control
