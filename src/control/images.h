#pragma once
// Which runtime serves a container image. thaw recognises SageMaker's built-in images by
// repository and tag (sagemaker-api.md §6), in any region's ECR registry, by tag or digest; and
// custom containers: an image that names a program on this machine (`file:///path/to/serve`, an
// absolute path, or a directory holding an executable `serve`).

#include <filesystem>
#include <string>
#include <string_view>

#include "common/status.h"

namespace thaw::control {

enum class RuntimeKind { kXGBoost, kSKLearn, kCustom };

struct ImageRuntime {
  RuntimeKind kind;
  std::string framework;  // "xgboost" | "sklearn" | "custom"
  std::string version;    // "1.7-1" | "1.2-1" | "" (custom)
  // "{registry}/{repository}@sha256:{digest}" (DeployedImages.ResolvedImage); for a custom
  // container, set by ResolveProgram.
  std::string resolved;
  std::filesystem::path program;  // custom: the path the image names (not yet checked)
};

// kInvalidArgument with a reason a user can act on when the image is not one thaw runs.
Result<ImageRuntime> RecogniseImage(std::string_view image);

std::string_view RuntimeName(RuntimeKind kind);

// A custom container's executable, checked when an endpoint deploys (the program may appear after
// CreateModel): the image's path, or `serve` inside it when it is a directory; a regular,
// executable file. Also fills `rt.resolved` ("file://{program}@sha256:{digest of the file}").
// kInvalidArgument with the reason otherwise.
Result<std::filesystem::path> ResolveProgram(ImageRuntime& rt);

}  // namespace thaw::control
