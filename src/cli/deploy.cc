#include "cli/deploy.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <system_error>
#include <thread>
#include <utility>

namespace thaw::cli {
namespace {

namespace fs = std::filesystem;
using std::chrono::steady_clock;

// sagemaker-api.md §6: one account per region for both sagemaker-xgboost and
// sagemaker-scikit-learn.
constexpr std::array<std::pair<std::string_view, std::string_view>, 27> kImageAccounts = {{
    {"us-east-1", "683313688378"},      {"us-east-2", "257758044811"},
    {"us-west-1", "746614075791"},      {"us-west-2", "246618743249"},
    {"ca-central-1", "341280168497"},   {"sa-east-1", "737474898029"},
    {"eu-west-1", "141502667606"},      {"eu-west-2", "764974769150"},
    {"eu-west-3", "659782779980"},      {"eu-central-1", "492215442770"},
    {"eu-north-1", "662702820516"},     {"eu-south-1", "978288397137"},
    {"ap-northeast-1", "354813040037"}, {"ap-northeast-2", "366743142698"},
    {"ap-northeast-3", "867004704886"}, {"ap-southeast-1", "121021644041"},
    {"ap-southeast-2", "783357654285"}, {"ap-southeast-3", "951798379941"},
    {"ap-south-1", "720646828776"},     {"ap-east-1", "651117190479"},
    {"af-south-1", "510948584623"},     {"me-south-1", "801668240914"},
    {"me-central-1", "272398656194"},   {"cn-north-1", "450853457545"},
    {"cn-northwest-1", "451049120500"}, {"us-gov-west-1", "414596584902"},
    {"us-gov-east-1", "237065988967"},
}};

constexpr size_t kMaxBaseName = 63 - 15;  // room for "-yyyymmddHHMMSS"

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string JsonString(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int PrintError(Console& console, const ApiError& error) {
  console.err << FormatError(error) << "\n";
  return 1;
}

}  // namespace

std::optional<std::string_view> ImageRegistryAccount(std::string_view region) {
  for (const auto& [r, account] : kImageAccounts) {
    if (r == region) return account;
  }
  return std::nullopt;
}

Result<std::string> ResolveImage(std::string_view image, std::string_view region) {
  if (image.find('/') != std::string_view::npos) return std::string(image);
  size_t colon = image.find(':');
  std::string framework = Lower(image.substr(0, colon));
  std::string tag = colon == std::string_view::npos ? "" : std::string(image.substr(colon + 1));
  if (colon != std::string_view::npos && tag.empty()) {
    return InvalidArgument("image alias \"" + std::string(image) + "\" has an empty tag");
  }
  std::string repository;
  if (framework == "xgboost") {
    repository = "sagemaker-xgboost";
    if (tag.empty()) tag = "1.7-1";
  } else if (framework == "sklearn" || framework == "scikit-learn") {
    repository = "sagemaker-scikit-learn";
    if (tag.empty()) tag = "1.2-1";
    if (!EndsWith(tag, "-cpu-py3")) tag += "-cpu-py3";
  } else {
    return InvalidArgument("unknown image \"" + std::string(image) +
                           "\": give a full image URI or an alias (xgboost:1.7-1, sklearn:1.2-1)");
  }
  std::optional<std::string_view> account = ImageRegistryAccount(region);
  if (!account) {
    return InvalidArgument("no SageMaker image registry is known for region \"" +
                           std::string(region) + "\"; give a full image URI");
  }
  std::string host_suffix = StartsWith(region, "cn-") ? ".amazonaws.com.cn" : ".amazonaws.com";
  return fmt::format("{}.dkr.ecr.{}{}/{}:{}", *account, region, host_suffix, repository, tag);
}

Result<std::string> ResolveModelUrl(std::string_view model, const fs::path& cwd) {
  if (model.empty()) return InvalidArgument("--model is empty");
  if (StartsWith(model, "s3://") || StartsWith(model, "file://")) return std::string(model);
  if (model.find("://") != std::string_view::npos) {
    return InvalidArgument("model \"" + std::string(model) +
                           "\": use a local path, file:// or s3:// (the server fetches nothing "
                           "else)");
  }
  fs::path path(model);
  if (path.is_relative()) path = cwd / path;
  return path.lexically_normal().string();
}

Result<std::map<std::string, std::string>> ParseEnv(const std::vector<std::string>& assignments) {
  std::map<std::string, std::string> env;
  for (const std::string& a : assignments) {
    size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("--env \"" + a + "\" is not KEY=VALUE");
    }
    env[a.substr(0, eq)] = a.substr(eq + 1);
  }
  return env;
}

std::string VersionedName(std::string_view name, WallTime now) {
  using namespace std::chrono;
  std::string base(name.substr(0, kMaxBaseName));
  while (!base.empty() && base.back() == '-') base.pop_back();
  auto day = floor<days>(now);
  year_month_day ymd{day};
  hh_mm_ss hms{floor<seconds>(now - day)};
  return fmt::format("{}-{:04}{:02}{:02}{:02}{:02}{:02}", base, static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

Result<DeploySpec> MakeDeploySpec(const ClientOptions& options, const fs::path& cwd, WallTime now) {
  if (options.name.empty()) return InvalidArgument("--name is empty");
  const std::string& account = options.account_id;
  if (account.size() != 12 ||
      !std::all_of(account.begin(), account.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return InvalidArgument("--account-id must be 12 digits, got \"" + account + "\"");
  }
  if (options.provisioned > options.max_concurrency) {
    return InvalidArgument("--provisioned cannot exceed --max-concurrency");
  }
  DeploySpec spec;
  spec.endpoint_name = options.name;
  spec.model_name = spec.config_name = VersionedName(options.name, now);
  THAW_ASSIGN_OR_RETURN(spec.image, ResolveImage(options.image, options.region));
  THAW_ASSIGN_OR_RETURN(spec.model_url, ResolveModelUrl(options.model, cwd));
  spec.execution_role_arn = "arn:aws:iam::" + account + ":role/thaw";
  spec.memory_mb = options.memory;
  spec.max_concurrency = options.max_concurrency;
  spec.provisioned = options.provisioned;
  THAW_ASSIGN_OR_RETURN(spec.env, ParseEnv(options.env));
  return spec;
}

nlohmann::json CreateModelRequest(const DeploySpec& spec) {
  nlohmann::json container = {{"Image", spec.image}, {"ModelDataUrl", spec.model_url}};
  if (!spec.env.empty()) container["Environment"] = spec.env;
  return {{"ModelName", spec.model_name},
          {"ExecutionRoleArn", spec.execution_role_arn},
          {"PrimaryContainer", std::move(container)}};
}

nlohmann::json CreateEndpointConfigRequest(const DeploySpec& spec) {
  nlohmann::json serverless = {{"MemorySizeInMB", spec.memory_mb},
                               {"MaxConcurrency", spec.max_concurrency}};
  if (spec.provisioned > 0) serverless["ProvisionedConcurrency"] = spec.provisioned;
  nlohmann::json variant = {{"VariantName", "AllTraffic"},
                            {"ModelName", spec.model_name},
                            {"ServerlessConfig", std::move(serverless)}};
  return {{"EndpointConfigName", spec.config_name},
          {"ProductionVariants", nlohmann::json::array({std::move(variant)})}};
}

nlohmann::json CreateEndpointRequest(const DeploySpec& spec) {
  return {{"EndpointName", spec.endpoint_name}, {"EndpointConfigName", spec.config_name}};
}

nlohmann::json UpdateEndpointRequest(const DeploySpec& spec) { return CreateEndpointRequest(spec); }

bool IsEndpointMissing(const ApiError& error) {
  return (error.code == "ValidationException" || error.code == "ResourceNotFound") &&
         error.message.find("Could not find") != std::string::npos;
}

int WaitForEndpoint(SageMakerClient& client, std::string_view name, const WaitOptions& options,
                    Console& console, steady_clock::time_point start) {
  const steady_clock::time_point wait_start = steady_clock::now();
  const nlohmann::json input = {{"EndpointName", name}};
  std::string last_status;
  bool line_open = false;  // a \r progress line is on the terminal
  auto clear_line = [&] {
    if (line_open) console.err << "\r\x1b[K" << std::flush;
    line_open = false;
  };
  for (;;) {
    ApiResult<nlohmann::json> described = client.Call("DescribeEndpoint", input);
    const auto now = steady_clock::now();
    const std::string elapsed = FormatSeconds(now - start);
    if (!described.ok()) {
      clear_line();
      return PrintError(console, described.error());
    }
    const std::string status = JsonString(*described, "EndpointStatus");
    const std::string reason = JsonString(*described, "FailureReason");
    if (status == "InService") {
      clear_line();
      const std::string config = JsonString(*described, "EndpointConfigName");
      if (!options.expected_config.empty() && config != options.expected_config) {
        console.err << "error: the update of endpoint " << name << " failed after " << elapsed
                    << "; it still serves endpoint config " << config
                    << (reason.empty() ? "" : ": " + reason) << "\n";
        return 1;
      }
      console.out << "endpoint " << name << " is InService (" << elapsed << ")\n"
                  << JsonString(*described, "EndpointArn") << "\n";
      return 0;
    }
    if (status == "Failed") {
      clear_line();
      console.err << "error: endpoint " << name << " Failed after " << elapsed << ": "
                  << (reason.empty() ? "(no FailureReason)" : reason) << "\n";
      return 1;
    }
    if (console.err_is_tty) {
      console.err << "\r" << name << ": " << status << "  " << elapsed << "\x1b[K" << std::flush;
      line_open = true;
    } else if (status != last_status) {
      console.err << name << ": " << status << " (" << elapsed << ")\n";
    }
    last_status = status;
    if (now - wait_start + options.interval > options.timeout) {
      clear_line();
      console.err << "error: endpoint " << name << " is still " << status << " after " << elapsed
                  << "; giving up (--wait-timeout)\n";
      return 1;
    }
    std::this_thread::sleep_for(options.interval);
  }
}

int RunDeploy(const ClientOptions& options, SageMakerClient& client, Console& console,
              std::chrono::milliseconds poll_interval) {
  const auto start = steady_clock::now();
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  Result<DeploySpec> spec = MakeDeploySpec(options, cwd, SystemClock().Now());
  if (!spec.ok()) {
    console.err << "error: " << spec.status().message() << "\n";
    return 1;
  }
  if (spec->model_url.front() == '/' && !fs::exists(spec->model_url, ec)) {
    console.err << "warning: " << spec->model_url << " does not exist on this machine\n";
  }

  ApiResult<nlohmann::json> existing =
      client.Call("DescribeEndpoint", {{"EndpointName", spec->endpoint_name}});
  if (!existing.ok() && !IsEndpointMissing(existing.error())) {
    return PrintError(console, existing.error());
  }
  const bool update = existing.ok();
  console.err << (update ? "updating" : "creating") << " endpoint " << spec->endpoint_name
              << " (model and endpoint config " << spec->model_name << ", image " << spec->image
              << ")\n";

  if (auto r = client.Call("CreateModel", CreateModelRequest(*spec)); !r.ok()) {
    return PrintError(console, r.error());
  }
  if (auto r = client.Call("CreateEndpointConfig", CreateEndpointConfigRequest(*spec)); !r.ok()) {
    return PrintError(console, r.error());
  }
  ApiResult<nlohmann::json> endpoint =
      update ? client.Call("UpdateEndpoint", UpdateEndpointRequest(*spec))
             : client.Call("CreateEndpoint", CreateEndpointRequest(*spec));
  if (!endpoint.ok()) return PrintError(console, endpoint.error());

  if (options.no_wait) {
    console.out << "endpoint " << spec->endpoint_name << " is "
                << (update ? "Updating" : "Creating") << "\n"
                << JsonString(*endpoint, "EndpointArn") << "\n";
    return 0;
  }
  WaitOptions wait;
  wait.interval = poll_interval;
  wait.timeout = std::chrono::seconds(options.wait_timeout);
  if (update) wait.expected_config = spec->config_name;
  return WaitForEndpoint(client, spec->endpoint_name, wait, console, start);
}

}  // namespace thaw::cli
