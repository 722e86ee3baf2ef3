#pragma once
// Which runtime serves a container image. thaw recognises SageMaker's built-in images by
// repository and tag (sagemaker-api.md §6), in any region's ECR registry, by tag or digest.

#include <string>
#include <string_view>

#include "common/status.h"

namespace thaw::control {

enum class RuntimeKind { kXGBoost, kSKLearn };

struct ImageRuntime {
  RuntimeKind kind;
  std::string framework;  // "xgboost" | "sklearn"
  std::string version;    // "1.7-1" | "1.2-1"
  std::string resolved;  // "{registry}/{repository}@sha256:{digest}" (DeployedImages.ResolvedImage)
};

// kInvalidArgument with a reason a user can act on when the image is not one thaw runs.
Result<ImageRuntime> RecogniseImage(std::string_view image);

std::string_view RuntimeName(RuntimeKind kind);

}  // namespace thaw::control
