#pragma once
// `thaw invoke NAME`: InvokeEndpoint with a body from --body, --file or stdin; the response body
// goes to stdout byte for byte.

#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "cli/console.h"
#include "cli/options.h"
#include "cli/sagemaker_client.h"
#include "common/status.h"

namespace thaw::cli {

// `body` when given (even empty), else the content of `file` when non-empty, else all of `in`.
Result<std::string> ReadRequestBody(const std::optional<std::string>& body, const std::string& file,
                                    std::istream& in);

// "invoke 3: 1.84 ms (HTTP 200)".
std::string FormatTiming(int index, double millis, int http_status);

// "invoke: 100 calls, min 1.10 ms, median 1.52 ms, max 3.20 ms" (empty for fewer than 2).
std::string FormatTimingSummary(std::vector<double> millis);

// The whole command; stops at the first failed invocation. Returns the process exit code.
int RunInvoke(const ClientOptions& options, const std::optional<std::string>& body,
              SageMakerClient& client, Console& console, std::istream& in);

}  // namespace thaw::cli
