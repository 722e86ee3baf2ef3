#include "control/images.h"

#include <regex>
#include <string>

#include "common/hash.h"

namespace thaw::control {
namespace {

constexpr const char* kSupported =
    "thaw runs sagemaker-xgboost:1.7-1 and sagemaker-scikit-learn:1.2-1-cpu-py3 "
    "(e.g. 683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1)";

}  // namespace

std::string_view RuntimeName(RuntimeKind kind) {
  return kind == RuntimeKind::kXGBoost ? "xgboost" : "sklearn";
}

Result<ImageRuntime> RecogniseImage(std::string_view image) {
  static const std::regex kImage(
      R"(^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/([a-z0-9._/-]+)(:([A-Za-z0-9._-]+))?(@sha256:([0-9a-f]{64}))?$)");
  std::string s(image);
  std::smatch m;
  if (s.size() > 255 || !std::regex_match(s, m, kImage) || (!m[5].matched && !m[7].matched)) {
    return InvalidArgument("The container image \"" + s + "\" is not supported: " + kSupported +
                           ".");
  }
  std::string registry = m[1].str() + ".dkr.ecr." + m[2].str() + ".amazonaws.com" + m[3].str();
  std::string repo = m[4].str();
  std::string tag = m[6].str();
  ImageRuntime rt;
  if (repo == "sagemaker-xgboost" && (tag == "1.7-1" || tag.rfind("1.7-1-", 0) == 0)) {
    rt = {RuntimeKind::kXGBoost, "xgboost", "1.7-1", ""};
  } else if (repo == "sagemaker-scikit-learn" &&
             (tag == "1.2-1" || tag.rfind("1.2-1-cpu", 0) == 0)) {
    rt = {RuntimeKind::kSKLearn, "sklearn", "1.2-1", ""};
  } else if (tag.empty() && (repo == "sagemaker-xgboost" || repo == "sagemaker-scikit-learn")) {
    // A digest reference names no version; thaw serves the one version it has.
    rt = repo == "sagemaker-xgboost" ? ImageRuntime{RuntimeKind::kXGBoost, "xgboost", "1.7-1", ""}
                                     : ImageRuntime{RuntimeKind::kSKLearn, "sklearn", "1.2-1", ""};
  } else {
    return InvalidArgument("The container image \"" + s + "\" is not supported: " + kSupported +
                           ".");
  }
  // thaw has no registry; the digest names the runtime build that serves this image.
  std::string digest =
      m[8].matched ? m[8].str() : Sha256Hex("thaw-runtime/" + rt.framework + ":" + rt.version);
  rt.resolved = registry + "/" + repo + "@sha256:" + digest;
  return rt;
}

}  // namespace thaw::control
