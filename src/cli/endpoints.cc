#include "cli/endpoints.h"

#include <algorithm>
#include <array>

#include "common/clock.h"
#include "common/time_format.h"

namespace thaw::cli {
namespace {

constexpr int kPageSize = 100;

std::string JsonString(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string JsonNumber(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? std::to_string(it->get<int64_t>()) : "-";
}

// `j[key]` when `j` is an object that has it, else nullptr.
const nlohmann::json* Member(const nlohmann::json* j, const char* key) {
  if (!j || !j->is_object()) return nullptr;
  auto it = j->find(key);
  return it == j->end() ? nullptr : &*it;
}

// The serverless config of the first variant that has one under `key`.
const nlohmann::json* ServerlessConfig(const nlohmann::json* variants, const char* key) {
  if (!variants || !variants->is_array()) return nullptr;
  for (const auto& v : *variants) {
    const nlohmann::json* config = Member(&v, key);
    if (config && config->is_object()) return config;
  }
  return nullptr;
}

}  // namespace

EndpointRow RowFromDescribe(const nlohmann::json& describe) {
  EndpointRow row;
  row.name = JsonString(describe, "EndpointName");
  row.status = JsonString(describe, "EndpointStatus");
  row.config = JsonString(describe, "EndpointConfigName");
  const nlohmann::json* variants = Member(&describe, "ProductionVariants");
  const nlohmann::json* serverless = ServerlessConfig(variants, "CurrentServerlessConfig");
  if (!serverless) serverless = ServerlessConfig(variants, "DesiredServerlessConfig");
  if (!serverless) {
    const nlohmann::json* pending = Member(&describe, "PendingDeploymentSummary");
    serverless = ServerlessConfig(Member(pending, "ProductionVariants"), "DesiredServerlessConfig");
  }
  row.memory = serverless ? JsonNumber(*serverless, "MemorySizeInMB") : "-";
  row.max_concurrency = serverless ? JsonNumber(*serverless, "MaxConcurrency") : "-";
  const nlohmann::json* created = Member(&describe, "CreationTime");
  row.created = created && created->is_number()
                    ? FormatIso8601(FromEpochSeconds(created->get<double>()))
                    : "-";
  return row;
}

std::string FormatEndpointTable(const std::vector<EndpointRow>& rows) {
  using Cells = std::array<std::string, 6>;
  std::vector<Cells> lines;
  lines.push_back({"NAME", "STATUS", "CONFIG", "MEMORY", "MAX CONCURRENCY", "CREATED"});
  for (const EndpointRow& r : rows) {
    lines.push_back({r.name, r.status, r.config, r.memory, r.max_concurrency, r.created});
  }
  std::array<size_t, 6> width{};
  for (const Cells& cells : lines) {
    for (size_t i = 0; i < cells.size(); ++i) width[i] = std::max(width[i], cells[i].size());
  }
  std::string out;
  for (const Cells& cells : lines) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      line += cells[i];
      if (i + 1 < cells.size()) line.append(width[i] - cells[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

int RunEndpoints(const ClientOptions& options, SageMakerClient& client, Console& console) {
  std::vector<std::string> names;
  std::string next_token;
  do {
    nlohmann::json input = {{"MaxResults", kPageSize}};
    if (!next_token.empty()) input["NextToken"] = next_token;
    ApiResult<nlohmann::json> page = client.Call("ListEndpoints", input);
    if (!page.ok()) {
      console.err << FormatError(page.error()) << "\n";
      return 1;
    }
    if (const nlohmann::json* list = Member(&*page, "Endpoints"); list && list->is_array()) {
      for (const auto& e : *list) {
        if (!e.is_object()) continue;
        if (std::string name = JsonString(e, "EndpointName"); !name.empty()) {
          names.push_back(name);
        }
      }
    }
    next_token = JsonString(*page, "NextToken");
  } while (!next_token.empty());

  std::vector<EndpointRow> rows;
  for (const std::string& name : names) {
    ApiResult<nlohmann::json> described = client.Call("DescribeEndpoint", {{"EndpointName", name}});
    if (described.ok()) {
      rows.push_back(RowFromDescribe(*described));
    } else if (described.error().message.find("Could not find") == std::string::npos) {
      console.err << FormatError(described.error()) << "\n";
      return 1;
    }  // else: deleted since the listing
  }
  console.out << FormatEndpointTable(rows) << std::flush;
  return 0;
}

}  // namespace thaw::cli
