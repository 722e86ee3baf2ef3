#pragma once
// Every option of the client commands (deploy, invoke, endpoints) in one declarative table:
// name, the commands that take it, help, field, bounds. The command lines and --help come from it.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "cli/prices_table.h"

namespace thaw::cli {

struct ClientOptions {
  // Every command.
  std::string endpoint_url = "http://127.0.0.1:8080";
  std::string region = "us-east-1";
  int64_t timeout = 120;  // seconds for one request (connect + answer)
  // deploy (name is also invoke's positional NAME)
  std::string name;
  std::string model;
  std::string image;
  std::string account_id = "123456789012";
  int64_t memory = 2048;
  int64_t max_concurrency = 5;
  int64_t provisioned = 0;  // 0: no ProvisionedConcurrency
  std::vector<std::string> env;
  bool no_wait = false;
  int64_t wait_timeout = 1800;  // seconds
  // invoke
  std::string body;
  std::string file;
  std::string content_type = "text/csv";
  std::string accept;
  int64_t repeat = 1;
  bool time = false;
  // cost
  std::string cost_endpoint;  // --endpoint: one endpoint (default: all)
  std::string since;          // --since 24h
  std::string start;          // --start / --end: ISO-8601 UTC or epoch seconds
  std::string end;
  // Defaults: src/cli/prices.json (cost.h).
  double price_per_gb_second = prices::kPerGbSecond;
  double price_per_request = prices::kPerRequest;
  double price_provisioned_gb_second = prices::kProvisionedPerGbSecond;
  double price_provisioned_inference_gb_second = prices::kProvisionedInferencePerGbSecond;
  std::string instance;        // "" = the instance of similar memory
  double instance_price = -1;  // USD/hour; < 0 = the table's
  bool json = false;
  // logs (name is its positional ENDPOINT)
  bool follow = false;
  std::string logs_since = "10m";  // --since of thaw logs
  std::string filter_pattern;
};

enum CommandBit : unsigned {
  kDeploy = 1u << 0,
  kInvoke = 1u << 1,
  kEndpoints = 1u << 2,
  kCost = 1u << 3,
  kLogs = 1u << 4,
  kAllCommands = kDeploy | kInvoke | kEndpoints | kCost | kLogs,
};

struct ClientOptionSpec {
  const char* name;   // "--flag", or a bare word for a positional argument
  unsigned commands;  // CommandBit mask
  const char* help;
  std::variant<std::string ClientOptions::*, int64_t ClientOptions::*, bool ClientOptions::*,
               std::vector<std::string> ClientOptions::*, double ClientOptions::*>
      field;
  int64_t min = 0;  // integer bounds (inclusive)
  int64_t max = 0;
  bool required = false;
  const char* env = nullptr;  // environment variable that supplies the default
};

const std::vector<ClientOptionSpec>& ClientOptionTable();

}  // namespace thaw::cli
