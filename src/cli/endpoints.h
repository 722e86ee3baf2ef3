#pragma once
// `thaw endpoints`: every endpoint (ListEndpoints, all pages) with the details DescribeEndpoint
// adds, as an aligned text table.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/console.h"
#include "cli/options.h"
#include "cli/sagemaker_client.h"

namespace thaw::cli {

struct EndpointRow {
  std::string name;
  std::string status;
  std::string config;
  std::string memory;           // MemorySizeInMB, "-" when unknown (e.g. still Creating)
  std::string max_concurrency;  // "-" when unknown
  std::string created;          // ISO-8601 UTC
};

// One row from a DescribeEndpoint answer: the current serverless config of the first variant,
// else the desired one, else the pending deployment's.
EndpointRow RowFromDescribe(const nlohmann::json& describe);

// Header + rows, columns padded to their widest cell, two spaces apart, no trailing spaces.
std::string FormatEndpointTable(const std::vector<EndpointRow>& rows);

int RunEndpoints(const ClientOptions& options, SageMakerClient& client, Console& console);

}  // namespace thaw::cli
