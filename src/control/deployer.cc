#include "control/deployer.h"

#include <fmt/format.h>

#include "artifacts/model_with_code.h"
#include "artifacts/resolve.h"
#include "artifacts/s3_url.h"
#include "control/images.h"

namespace thaw::control {

using nlohmann::json;

Deployer::Deployer(DeployerOptions options, artifacts::ModelCache& cache, const Clock& clock)
    : options_(std::move(options)), cache_(cache), clock_(clock) {}

Result<artifacts::CachedModel> Deployer::Materialize(const std::string& url,
                                                     bool& download_failed) {
  download_failed = true;
  const bool remote = options_.remote_s3 != nullptr && url.size() > 5 &&
                      (url.starts_with("s3://") || url.starts_with("S3://"));
  if (!remote) {
    THAW_ASSIGN_OR_RETURN(std::filesystem::path local,
                          artifacts::ResolveLocal(url, options_.s3_root));
    download_failed = false;
    return cache_.Materialize(local);
  }
  THAW_ASSIGN_OR_RETURN(artifacts::S3Object object, artifacts::ParseS3Url(url));
  std::error_code ec;
  std::filesystem::create_directories(cache_.root(), ec);
  // Downloads land in the cache's directory under the cache's temporary prefix, so a crash
  // mid-download leaves nothing RemoveLeftovers does not clear.
  THAW_ASSIGN_OR_RETURN(artifacts::FetchedObject fetched,
                        options_.remote_s3->Fetch(object, cache_.root(), ".tmp-download-"));
  download_failed = false;
  auto cached = cache_.Materialize(fetched.path);
  std::filesystem::remove(fetched.path, ec);
  return cached;
}

Result<artifacts::CachedModel> Deployer::WithCode(const artifacts::CachedModel& model,
                                                  const json& environment) {
  const json submit = environment.value("SAGEMAKER_SUBMIT_DIRECTORY", json(""));
  const std::string value = submit.is_string() ? submit.get<std::string>() : "";
  std::error_code ec;
  const bool is_directory =
      !value.empty() && value.front() == '/' && std::filesystem::is_directory(value, ec);
  switch (artifacts::ClassifySubmitDirectory(value, is_directory)) {
    case artifacts::CodeLocation::kInModel:
      return model;
    case artifacts::CodeLocation::kInvalid:
      return InvalidArgument(fmt::format(
          "SAGEMAKER_SUBMIT_DIRECTORY \"{}\" is not supported: use an s3:// or file:// URL of a "
          "sourcedir.tar.gz, an absolute path of a directory or tarball on the server, or "
          "/opt/ml/model/code for code packaged in the model archive.",
          value));
    case artifacts::CodeLocation::kDirectory: {
      auto digest = artifacts::TreeDigest(value);
      if (!digest.ok()) {
        return InvalidArgument(
            fmt::format("Failed to read the code in SAGEMAKER_SUBMIT_DIRECTORY "
                        "\"{}\". {}",
                        value, digest.status().message()));
      }
      return artifacts::AddCode(cache_, model, value, *digest, false);
    }
    case artifacts::CodeLocation::kArchive: {
      bool download_failed = false;
      auto code = Materialize(value, download_failed);
      if (!code.ok() && download_failed) {
        return InvalidArgument(
            fmt::format("Failed to download the code from SAGEMAKER_SUBMIT_DIRECTORY \"{}\". {}",
                        value, code.status().message()));
      }
      if (!code.ok()) {
        return InvalidArgument(fmt::format(
            "Failed to extract the code archive from SAGEMAKER_SUBMIT_DIRECTORY \"{}\". Please "
            "ensure that it is a valid tar.gz archive. ({})",
            value, code.status().message()));
      }
      return artifacts::AddCode(cache_, model, code->dir, code->digest, true);
    }
  }
  return model;
}

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
      bool download_failed = false;
      auto materialized = Materialize(url, download_failed);
      if (!materialized.ok() && download_failed) {
        return InvalidArgument(fmt::format("Failed to download model data from URL \"{}\". {}", url,
                                           materialized.status().message()));
      }
      if (!materialized.ok()) {
        return InvalidArgument(fmt::format(
            "Failed to extract model data archive from URL \"{}\". Please ensure that the object "
            "located at the URL is a valid tar.gz archive. ({})",
            url, materialized.status().message()));
      }
      cached = *std::move(materialized);
    }
    std::string submit_directory;
    if (runtime->kind == RuntimeKind::kSKLearn) {
      auto with_code = WithCode(cached, container->value("Environment", json::object()));
      if (!with_code.ok()) {
        return InvalidArgument(
            fmt::format("Production variant {}: {}", variant_name, with_code.status().message()));
      }
      if (with_code->dir != cached.dir) submit_directory = "/opt/ml/model/code";
      cached = std::move(with_code).value();
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
    if (!submit_directory.empty()) deployed.back()["SubmitDirectory"] = submit_directory;
  }
  return deployed;
}

}  // namespace thaw::control
