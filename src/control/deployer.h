#pragma once
// The work of a deploy job that touches the outside world: resolve each variant's model data,
// verify and extract it into the content-addressed cache, and map its image to a runtime.
// Runs on a job thread, never on an I/O thread, and never under the control plane's lock.

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "artifacts/model_cache.h"
#include "artifacts/s3_fetcher.h"
#include "common/clock.h"
#include "common/status.h"

namespace thaw::control {

struct DeployerOptions {
  std::filesystem::path s3_root;  // s3://bucket/key resolves to s3_root/bucket/key
  // With --s3-endpoint: s3:// URLs are downloaded from that store instead (into the cache's
  // directory, then extracted as any archive). Null: the embedded store under s3_root.
  std::shared_ptr<const artifacts::S3Fetcher> remote_s3;
};

class Deployer {
 public:
  Deployer(DeployerOptions options, artifacts::ModelCache& cache, const Clock& clock);
  virtual ~Deployer() = default;

  // From an endpoint snapshot (see control_plane.cc), the deployed form of each variant:
  // [{VariantName, Runtime, RuntimeVersion, ModelDir, ModelDigest, SpecifiedImage,
  //   ResolvedImage, ResolutionTime, and SubmitDirectory when the code was copied next to the
  //   model: the worker's SAGEMAKER_SUBMIT_DIRECTORY}]. The error message is the endpoint's
  //   FailureReason.
  virtual Result<nlohmann::json> Prepare(const nlohmann::json& snapshot);

 private:
  // The scikit-learn runtime's model directory: `model` itself, or with the code that
  // SAGEMAKER_SUBMIT_DIRECTORY names outside it copied in as code/ (artifacts/model_with_code).
  Result<artifacts::CachedModel> WithCode(const artifacts::CachedModel& model,
                                          const nlohmann::json& environment);

  // The extracted archive `url` names (a host file, the embedded store, or a download from the
  // remote S3 store). `download_failed` tells whether the error is about finding or fetching the
  // archive (true) or about its contents (false).
  Result<artifacts::CachedModel> Materialize(const std::string& url, bool& download_failed);

  DeployerOptions options_;
  artifacts::ModelCache& cache_;
  const Clock& clock_;
};

}  // namespace thaw::control
