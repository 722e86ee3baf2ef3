#include "control/deployer.h"

#include <fmt/format.h>

#include "artifacts/resolve.h"
#include "control/images.h"

namespace thaw::control {

using nlohmann::json;

Deployer::Deployer(DeployerOptions options, artifacts::ModelCache& cache, const Clock& clock)
    : options_(std::move(options)), cache_(cache), clock_(clock) {}

Result<json> Deployer::Prepare(const json& snapshot) {
  json deployed = json::array();
  const json& config = snapshot.at("EndpointConfig");
  for (const json& variant : config.at("ProductionVariants")) {
    std::string variant_name = variant.at("VariantName");
    std::string model_name = variant.at("ModelName");
    const json& model = snapshot.at("Models").at(model_name);
    const json* container = nullptr;
    if (model.contains("PrimaryContainer")) {
      container = &model["PrimaryContainer"];
    } else if (model.contains("Containers") && model["Containers"].size() == 1) {
      container = &model["Containers"][0];
    } else {
      return InvalidArgument(fmt::format(
          "Model \"{}\" of production variant {} defines {} containers; thaw serves models with "
          "exactly one container (inference pipelines are not supported).",
          model_name, variant_name, model.value("Containers", json::array()).size()));
    }
    std::string image = container->value("Image", "");
    auto runtime = RecogniseImage(image);
    if (!runtime.ok()) {
      return InvalidArgument(
          fmt::format("Production variant {}: {}", variant_name, runtime.status().message()));
    }
    if (container->value("Mode", "SingleModel") == "MultiModel") {
      return InvalidArgument(fmt::format(
          "Production variant {}: multi-model containers are not supported.", variant_name));
    }
    std::string program;
    if (runtime->kind == RuntimeKind::kCustom) {
      auto resolved = ResolveProgram(*runtime);
      if (!resolved.ok()) {
        return InvalidArgument(
            fmt::format("Production variant {}: {}", variant_name, resolved.status().message()));
      }
      program = resolved->native();
    }
    std::string url = container->value("ModelDataUrl", "");
    artifacts::CachedModel cached;
    if (url.empty() && runtime->kind != RuntimeKind::kCustom) {
      return InvalidArgument(fmt::format(
          "Model \"{}\" of production variant {} has no ModelDataUrl; the {} runtime needs model "
          "data.",
          model_name, variant_name, RuntimeName(runtime->kind)));
    }
    if (!url.empty()) {  // a custom container without model data sees an empty /opt/ml/model
      auto local = artifacts::ResolveLocal(url, options_.s3_root);
      if (!local.ok()) {
        return InvalidArgument(fmt::format("Failed to download model data from URL \"{}\". {}", url,
                                           local.status().message()));
      }
      auto materialized = cache_.Materialize(*local);
      if (!materialized.ok()) {
        return InvalidArgument(fmt::format(
            "Failed to extract model data archive from URL \"{}\". Please ensure that the object "
            "located at the URL is a valid tar.gz archive. ({})",
            url, materialized.status().message()));
      }
      cached = *std::move(materialized);
    }
    deployed.push_back({
        {"VariantName", variant_name},
        {"Runtime", RuntimeName(runtime->kind)},
        {"RuntimeVersion", runtime->version},
        {"ModelDir", cached.dir.string()},
        {"ModelDigest", cached.digest},
        {"SpecifiedImage", image},
        {"ResolvedImage", runtime->resolved},
        {"ResolutionTime", ToEpochSeconds(clock_.Now())},
    });
    if (!program.empty()) deployed.back()["Program"] = program;
  }
  return deployed;
}

}  // namespace thaw::control
