#pragma once
// `thaw deploy`: model + serverless endpoint config + endpoint (or UpdateEndpoint when the
// endpoint exists) in one command, then wait for InService. The decisions — image aliases, model
// paths, names, request bodies — are pure functions below; RunDeploy only sequences the calls.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/console.h"
#include "cli/options.h"
#include "cli/sagemaker_client.h"
#include "common/clock.h"
#include "common/status.h"

namespace thaw::cli {

// The account of SageMaker's built-in image registry in `region` (sagemaker-api.md §6).
std::optional<std::string_view> ImageRegistryAccount(std::string_view region);

// Image aliases: "xgboost[:TAG]" →
// "{acct}.dkr.ecr.{region}.amazonaws.com[.cn]/sagemaker-xgboost:TAG" (TAG defaults to 1.7-1);
// "sklearn[:VER]" → ".../sagemaker-scikit-learn:VER-cpu-py3" (VER defaults to 1.2-1). Anything with
// a '/' is an image URI and passes through unchanged.
Result<std::string> ResolveImage(std::string_view image, std::string_view region);

// s3:// and file:// pass through; any other "scheme://" is refused; a local path becomes an
// absolute, lexically normal path (relative ones against `cwd`). The file is not checked: the
// server reads it on its own host.
Result<std::string> ResolveModelUrl(std::string_view model, const std::filesystem::path& cwd);

// ["K=V", …] → {K: V}. A later K overrides an earlier one; "K=" is an empty value.
Result<std::map<std::string, std::string>> ParseEnv(const std::vector<std::string>& assignments);

// "NAME-yyyymmddHHMMSS" (UTC). NAME is cut to 48 characters so the result stays within
// SageMaker's 63.
std::string VersionedName(std::string_view name, WallTime now);

// Everything a deployment sends, resolved.
struct DeploySpec {
  std::string endpoint_name;
  std::string model_name;
  std::string config_name;
  std::string image;
  std::string model_url;
  std::string execution_role_arn;
  int64_t memory_mb = 2048;
  int64_t max_concurrency = 5;
  int64_t provisioned = 0;  // 0: omitted
  std::map<std::string, std::string> env;
};

Result<DeploySpec> MakeDeploySpec(const ClientOptions& options, const std::filesystem::path& cwd,
                                  WallTime now);

nlohmann::json CreateModelRequest(const DeploySpec& spec);
nlohmann::json CreateEndpointConfigRequest(const DeploySpec& spec);
nlohmann::json CreateEndpointRequest(const DeploySpec& spec);
nlohmann::json UpdateEndpointRequest(const DeploySpec& spec);

// True for the answer DescribeEndpoint gives for a missing endpoint (ValidationException
// "Could not find endpoint …", sagemaker-api.md §2.5).
bool IsEndpointMissing(const ApiError& error);

struct WaitOptions {
  std::chrono::milliseconds interval{200};
  std::chrono::milliseconds timeout{1800 * 1000};
  // When set (an update), InService on another config means the update failed and rolled back.
  std::string expected_config;
};

// Polls DescribeEndpoint (first poll at once) until InService (prints the result to `out`,
// returns 0) or Failed / a failed update / an error / the timeout (prints why to `err`, returns
// 1). `start` is when the command began; elapsed times count from it.
int WaitForEndpoint(SageMakerClient& client, std::string_view name, const WaitOptions& options,
                    Console& console, std::chrono::steady_clock::time_point start);

// The whole command; returns the process exit code.
int RunDeploy(const ClientOptions& options, SageMakerClient& client, Console& console,
              std::chrono::milliseconds poll_interval = std::chrono::milliseconds(200));

}  // namespace thaw::cli
