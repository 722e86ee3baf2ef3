#pragma once
// `thaw logs ENDPOINT [--since 10m] [--follow] [--filter-pattern P]`: the endpoint's log events
// through the CloudWatch Logs API (FilterLogEvents on /aws/sagemaker/Endpoints/ENDPOINT, every
// stream interleaved), one line each: "<ISO time> <stream> <message>", like `aws logs tail`.

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>
#include <thread>

#include "cli/console.h"
#include "cli/options.h"
#include "cli/sagemaker_client.h"
#include "common/clock.h"

namespace thaw::cli {

// "30s", "10m", "2h", "1d", "1w" before `now`, or an ISO-8601 time; nullopt when malformed.
std::optional<WallTime> ParseSince(std::string_view since, WallTime now);

struct FollowControl {
  std::function<WallTime()> now = [] { return SystemClock().Now(); };
  // Between polls with --follow; returns false to stop following (tests).
  std::function<bool()> wait = [] {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    return true;
  };
};

// `logs` is a client whose Call speaks CloudWatch Logs. Returns the process exit code.
int RunLogs(const ClientOptions& options, SageMakerClient& logs, Console& console,
            const FollowControl& control = {});

}  // namespace thaw::cli
