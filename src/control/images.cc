#include "control/images.h"

#include <regex>
#include <string>

#include "common/hash.h"

namespace thaw::control {
namespace {

constexpr const char* kSupported =
    "thaw runs sagemaker-xgboost:1.7-1 and sagemaker-scikit-learn:1.2-1-cpu-py3 "
    "(e.g. 683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1), and custom "
    "containers named by a program on this machine (file:///path/to/serve)";

}  // namespace

std::string_view RuntimeName(RuntimeKind kind) {
  switch (kind) {
    case RuntimeKind::kXGBoost:
      return "xgboost";
    case RuntimeKind::kSKLearn:
      return "sklearn";
    case RuntimeKind::kCustom:
      return "custom";
  }
  return "unknown";
}

Result<ImageRuntime> RecogniseImage(std::string_view image) {
  constexpr std::string_view kFileScheme = "file://";
  if (image.substr(0, kFileScheme.size()) == kFileScheme || image.substr(0, 1) == "/") {
    std::string_view path = image.substr(0, 1) == "/" ? image : image.substr(kFileScheme.size());
    if (path.substr(0, 1) != "/") {
      return InvalidArgument("The container image \"" + std::string(image) +
                             "\" names a program by a relative path; use file:///absolute/path.");
    }
    ImageRuntime rt{RuntimeKind::kCustom, "custom", "", "", std::filesystem::path(path)};
    return rt;
  }
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
    rt = {RuntimeKind::kXGBoost, "xgboost", "1.7-1", "", {}};
  } else if (repo == "sagemaker-scikit-learn" &&
             (tag == "1.2-1" || tag.rfind("1.2-1-cpu", 0) == 0)) {
    rt = {RuntimeKind::kSKLearn, "sklearn", "1.2-1", "", {}};
  } else if (tag.empty() && (repo == "sagemaker-xgboost" || repo == "sagemaker-scikit-learn")) {
    // A digest reference names no version; thaw serves the one version it has.
    rt = repo == "sagemaker-xgboost"
             ? ImageRuntime{RuntimeKind::kXGBoost, "xgboost", "1.7-1", "", {}}
             : ImageRuntime{RuntimeKind::kSKLearn, "sklearn", "1.2-1", "", {}};
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

Result<std::filesystem::path> ResolveProgram(ImageRuntime& rt) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path program = rt.program;
  if (fs::is_directory(program, ec)) program /= "serve";
  fs::file_status st = fs::status(program, ec);
  if (ec || !fs::exists(st)) {
    return InvalidArgument("The container program " + program.native() + " does not exist.");
  }
  if (!fs::is_regular_file(st)) {
    return InvalidArgument("The container program " + program.native() + " is not a regular file.");
  }
  constexpr auto kExec = fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec;
  if ((st.permissions() & kExec) == fs::perms::none) {
    return InvalidArgument("The container program " + program.native() + " is not executable.");
  }
  auto digest = Sha256File(program);
  if (!digest.ok()) {
    return InvalidArgument("The container program " + program.native() +
                           " cannot be read: " + digest.status().message());
  }
  rt.resolved = "file://" + program.native() + "@sha256:" + *digest;
  return program;
}

}  // namespace thaw::control
