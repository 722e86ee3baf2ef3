#include "cli/logs.h"

#include <set>

#include "cli/cost.h"  // ParseDuration, shared with --since of thaw cost
#include "common/time_format.h"

namespace thaw::cli {

std::optional<WallTime> ParseSince(std::string_view since, WallTime now) {
  if (Result<std::chrono::seconds> ago = ParseDuration(since); ago.ok()) return now - *ago;
  return ParseIso8601(since);
}

int RunLogs(const ClientOptions& options, SageMakerClient& logs, Console& console,
            const FollowControl& control) {
  std::optional<WallTime> since = ParseSince(options.logs_since, control.now());
  if (!since) {
    console.err << "error: --since must be like 30s, 10m, 2h, 1d or an ISO-8601 time, got \""
                << options.logs_since << "\"\n";
    return 2;
  }
  int64_t start_ms = ToEpochMicros(*since) / 1000;
  // Events already printed at the newest timestamp seen: the next poll starts there again
  // (inclusive), so those are skipped by id (what `aws logs tail --follow` does too).
  std::set<std::string> seen_at_start;
  while (true) {
    nlohmann::json input = {{"logGroupName", "/aws/sagemaker/Endpoints/" + options.name},
                            {"startTime", start_ms},
                            {"interleaved", true}};
    if (!options.filter_pattern.empty()) input["filterPattern"] = options.filter_pattern;
    int64_t newest = start_ms;
    std::set<std::string> seen_at_newest = seen_at_start;
    while (true) {
      ApiResult<nlohmann::json> page = logs.Call("FilterLogEvents", input);
      if (!page.ok()) {
        const ApiError& e = page.error();
        // With --follow, a group that does not exist yet (no worker has started) is waited for.
        if (!(options.follow && e.code == "ResourceNotFoundException")) {
          console.err << FormatError(e) << "\n";
          return 1;
        }
        break;
      }
      const nlohmann::json events = page->value("events", nlohmann::json::array());
      for (const auto& ev : events) {
        int64_t ts = ev.value("timestamp", int64_t{0});
        std::string id = ev.value("eventId", "");
        if (ts == start_ms && seen_at_start.count(id) > 0) continue;
        if (ts > newest) {
          newest = ts;
          seen_at_newest.clear();
        }
        if (ts == newest) seen_at_newest.insert(id);
        console.out << FormatIso8601(FromEpochMicros(ts * 1000), /*millis=*/true) << " "
                    << ev.value("logStreamName", "") << " " << ev.value("message", "") << "\n";
      }
      console.out.flush();
      auto token = page->find("nextToken");
      if (token == page->end() || !token->is_string()) break;
      input["nextToken"] = *token;
    }
    if (newest != start_ms) seen_at_start.clear();
    start_ms = newest;
    for (const auto& id : seen_at_newest) seen_at_start.insert(id);
    if (!options.follow || !control.wait()) return 0;
  }
}

}  // namespace thaw::cli
