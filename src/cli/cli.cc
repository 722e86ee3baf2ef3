#include "cli/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>

#include "cli/cost.h"
#include "cli/deploy.h"
#include "cli/endpoints.h"
#include "cli/http_client.h"
#include "cli/invoke.h"
#include "cli/logs.h"
#include "cli/sagemaker_client.h"
#include "cli/signer.h"

namespace thaw::cli {
namespace {

constexpr std::chrono::seconds kMaxConnectTimeout{10};

// Adds to `sub` every row of the option table that belongs to `command`.
void AddOptions(CLI::App& sub, unsigned command, ClientOptions& opts) {
  for (const ClientOptionSpec& spec : ClientOptionTable()) {
    if (!(spec.commands & command)) continue;
    CLI::Option* opt = nullptr;
    if (auto* s = std::get_if<std::string ClientOptions::*>(&spec.field)) {
      // The environment gives the default here, not through CLI11's envname: CLI11 applies an
      // envname to every subcommand, parsed or not, and the subcommands share one field, so
      // the last subcommand's env value overwrote a flag given to an earlier one.
      if (spec.env != nullptr) {
        if (const char* value = std::getenv(spec.env); value != nullptr && *value != '\0') {
          opts.*(*s) = value;
        }
      }
      opt = sub.add_option(spec.name, opts.*(*s), spec.help)->capture_default_str();
    } else if (auto* i = std::get_if<int64_t ClientOptions::*>(&spec.field)) {
      opt = sub.add_option(spec.name, opts.*(*i), spec.help)
                ->capture_default_str()
                ->check(CLI::Range(spec.min, spec.max));
    } else if (auto* d = std::get_if<double ClientOptions::*>(&spec.field)) {
      opt = sub.add_option(spec.name, opts.*(*d), spec.help)->capture_default_str();
    } else if (auto* b = std::get_if<bool ClientOptions::*>(&spec.field)) {
      opt = sub.add_flag(spec.name, opts.*(*b), spec.help);
    } else {
      auto list = std::get<std::vector<std::string> ClientOptions::*>(spec.field);
      // One value per occurrence: `--env A=1 --env B=2`.
      opt = sub.add_option(spec.name, opts.*list, spec.help)->allow_extra_args(false);
    }
    if (spec.required) opt->required();
  }
}

}  // namespace

ClientCommands::ClientCommands(CLI::App& app) {
  deploy_ = app.add_subcommand(
      "deploy", "create (or update) a serverless endpoint from a model and wait until InService");
  invoke_ = app.add_subcommand("invoke", "invoke an endpoint; the response body goes to stdout");
  // Before `endpoints`: CLI11 applies the THAW_ENDPOINT_URL default of every subcommand's
  // --endpoint-url (one shared field) in registration order, and the test of that default
  // expects `endpoints` last (ClientCommandsTest.EndpointUrlDefaultsFromTheEnvironment).
  logs_ = app.add_subcommand("logs", "print an endpoint's log events (CloudWatch Logs API)");
  endpoints_ = app.add_subcommand("endpoints", "list endpoints with their serverless configs");
  cost_ = app.add_subcommand(
      "cost", "serverless cost per endpoint over a window, against a persistent instance");
  AddOptions(*logs_, kLogs, options_);
  AddOptions(*deploy_, kDeploy, options_);
  AddOptions(*invoke_, kInvoke, options_);
  AddOptions(*endpoints_, kEndpoints, options_);
  AddOptions(*cost_, kCost, options_);
  invoke_->get_option("--body")->excludes(invoke_->get_option("--file"));
}

std::optional<int> ClientCommands::RunParsed() {
  unsigned command = deploy_->parsed()      ? kDeploy
                     : invoke_->parsed()    ? kInvoke
                     : endpoints_->parsed() ? kEndpoints
                     : cost_->parsed()      ? kCost
                     : logs_->parsed()      ? kLogs
                                            : 0u;
  if (command == 0) return std::nullopt;

  Console console{std::cout, std::cerr, isatty(STDERR_FILENO) != 0};
  Result<EndpointUrl> url = ParseEndpointUrl(options_.endpoint_url);
  if (!url.ok()) {
    console.err << "error: " << url.status().message() << "\n";
    return 2;
  }
  HttpClientOptions http_options;
  http_options.request_timeout = std::chrono::seconds(options_.timeout);
  http_options.connect_timeout =
      std::min<std::chrono::milliseconds>(kMaxConnectTimeout, http_options.request_timeout);
  HttpClient http(*url, http_options);
  // Signed like any AWS client when credentials are found; unsigned otherwise (a server started
  // with --auth none accepts that; one with auth on says MissingAuthenticationToken).
  auto credential = FindCredentials(ProcessEnv());
  if (!credential.ok()) {
    console.err << "error: " << credential.status().message() << "\n";
    return 2;
  }
  // CloudWatch (thaw cost) is `monitoring`, CloudWatch Logs (thaw logs) `logs`, the rest
  // `sagemaker`.
  if (*credential) {
    const char* service = command == kCost ? "monitoring" : command == kLogs ? "logs" : "sagemaker";
    http.set_signer(SigV4Signer(**credential, options_.region, service));
  }
  if (command == kCost) return RunCost(options_, http, console, SystemClock().Now());
  SageMakerClient client(http, command == kLogs ? "Logs_20140328." : "SageMaker.");

  switch (command) {
    case kDeploy:
      return RunDeploy(options_, client, console, poll_interval_);
    case kInvoke: {
      std::optional<std::string> body;
      if (invoke_->count("--body") > 0) body = options_.body;
      return RunInvoke(options_, body, client, console, std::cin);
    }
    case kLogs:
      return RunLogs(options_, client, console);
    default:
      return RunEndpoints(options_, client, console);
  }
}

}  // namespace thaw::cli
