#include "api/logs_api.h"

#include <algorithm>
#include <boost/asio/use_awaitable.hpp>
#include <limits>

#include "api/error_table.h"
#include "common/blocking.h"
#include "common/logging.h"
#include "logs/log_format.h"

namespace thaw::api {
namespace {

using logs::EventKey;
using logs::StoredEvent;
using nlohmann::json;

constexpr std::string_view kTargetPrefix = "Logs_20140328.";
constexpr size_t kMaxResponseBytes = 1 << 20;  // CloudWatch's cap on one page of events
constexpr int64_t kEndOfTime = std::numeric_limits<int64_t>::max();

Status Invalid(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
Status BadToken() { return {Code::kInvalidNextToken, "The specified nextToken is invalid."}; }

// Optional members, type-checked (a wrong type is a SerializationException, as botocore's
// server-side validation would reject it).
Result<std::optional<std::string>> String(const json& in, const char* key) {
  auto it = in.find(key);
  if (it == in.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) {
    return Status(Code::kSerialization, std::string("Member ") + key + " must be a string.");
  }
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::optional<int64_t>> Integer(const json& in, const char* key) {
  auto it = in.find(key);
  if (it == in.end() || it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer()) {
    return Status(Code::kSerialization, std::string("Member ") + key + " must be an integer.");
  }
  return std::optional<int64_t>(it->get<int64_t>());
}

Result<bool> Bool(const json& in, const char* key) {
  auto it = in.find(key);
  if (it == in.end() || it->is_null()) return false;
  if (!it->is_boolean()) {
    return Status(Code::kSerialization, std::string("Member ") + key + " must be a boolean.");
  }
  return it->get<bool>();
}

Result<int64_t> Limit(const json& in, int64_t max, int64_t fallback) {
  THAW_ASSIGN_OR_RETURN(std::optional<int64_t> limit, Integer(in, "limit"));
  if (!limit) return fallback;
  if (*limit < 1 || *limit > max) {
    return Invalid("1 validation error detected: Value '" + std::to_string(*limit) +
                   "' at 'limit' failed to satisfy constraint: Member must have value " +
                   (*limit < 1 ? "greater than or equal to 1"
                               : "less than or equal to " + std::to_string(max)));
  }
  return *limit;
}

// logGroupName or logGroupIdentifier (a name or an ARN) → the endpoint; NotFound when the
// group does not exist.
Result<std::string> GroupEndpoint(const json& in, const logs::LogStore& store) {
  THAW_ASSIGN_OR_RETURN(std::optional<std::string> name, String(in, "logGroupName"));
  THAW_ASSIGN_OR_RETURN(std::optional<std::string> id, String(in, "logGroupIdentifier"));
  if (name && id) {
    return Invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.");
  }
  if (!name && !id) {
    return Invalid("Either the logGroupName or the logGroupIdentifier parameter is required.");
  }
  std::string group = name ? *name : *id;
  if (id && group.rfind("arn:", 0) == 0) {
    auto at = group.find(":log-group:");
    if (at == std::string::npos) return Invalid("Invalid logGroupIdentifier: " + group);
    group = group.substr(at + 11);
    if (group.size() >= 2 && group.substr(group.size() - 2) == ":*") group.resize(group.size() - 2);
  }
  auto endpoint = logs::EndpointOfGroup(group);
  if (!endpoint || !store.HasGroup(*endpoint)) {
    return NotFound("The specified log group does not exist.");
  }
  return *endpoint;
}

std::string GroupArn(const Identity& identity, const std::string& endpoint) {
  return "arn:aws:logs:" + identity.region + ":" + identity.account_id +
         ":log-group:" + logs::GroupOf(endpoint);
}

Result<json> DescribeLogGroups(const json& in, const logs::LogStore& store,
                               const Identity& identity, int64_t retention_days) {
  THAW_ASSIGN_OR_RETURN(std::optional<std::string> prefix, String(in, "logGroupNamePrefix"));
  THAW_ASSIGN_OR_RETURN(std::optional<std::string> pattern, String(in, "logGroupNamePattern"));
  THAW_ASSIGN_OR_RETURN(std::optional<std::string> token, String(in, "nextToken"));
  THAW_ASSIGN_OR_RETURN(int64_t limit, Limit(in, 50, 50));
  if (prefix && pattern) {
    return Invalid(
        "LogGroup name prefix and LogGroup name pattern are mutually exclusive "
        "parameters.");
  }
  std::string after;
  if (token) {
    if (token->rfind("g/", 0) != 0) return BadToken();
    after = token->substr(2);
  }
  json groups = json::array();
  std::optional<std::string> next;
  for (const std::string& endpoint : store.Endpoints()) {
    std::string name = logs::GroupOf(endpoint);
    if (prefix && name.rfind(*prefix, 0) != 0) continue;
    if (pattern && name.find(*pattern) == std::string::npos) continue;
    if (!after.empty() && name <= after) continue;
    if (static_cast<int64_t>(groups.size()) == limit) {
      next = "g/" + groups.back()["logGroupName"].get<std::string>();
      break;
    }
    int64_t created = 0, bytes = 0;
    for (const auto& s : store.Streams(endpoint)) {
      if (s.first_ms > 0 && (created == 0 || s.first_ms < created)) created = s.first_ms;
      bytes += s.stored_bytes;
    }
    std::string arn = GroupArn(identity, endpoint);
    groups.push_back({{"logGroupName", name},
                      {"creationTime", created},
                      {"retentionInDays", retention_days},
                      {"metricFilterCount", 0},
                      {"arn", arn + ":*"},
                      {"logGroupArn", arn},
                      {"logGroupClass", "STANDARD"},
                      {"storedBytes", bytes}});
  }
  json out = {{"logGroups", std::move(groups)}};
  if (next) out["nextToken"] = *next;
  return out;
}

Result<json> DescribeLogStreams(const json& in, const logs::LogStore& store,
                                const Identity& identity) {
  THAW_ASSIGN_OR_RETURN(std::string endpoint, GroupEndpoint(in, store));
  THAW_ASSIGN_OR_RETURN(std::optional<std::string> prefix, String(in, "logStreamNamePrefix"));
  THAW_ASSIGN_OR_RETURN(std::optional<std::string> order, String(in, "orderBy"));
  THAW_ASSIGN_OR_RETURN(bool descending, Bool(in, "descending"));
  THAW_ASSIGN_OR_RETURN(std::optional<std::string> token, String(in, "nextToken"));
  THAW_ASSIGN_OR_RETURN(int64_t limit, Limit(in, 50, 50));
  const bool by_time = order && *order == "LastEventTime";
  if (order && !by_time && *order != "LogStreamName") {
    return Invalid("1 validation error detected: Value '" + *order +
                   "' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value "
                   "set: [LogStreamName, LastEventTime]");
  }
  if (by_time && prefix) {
    return Invalid("Cannot order by LastEventTime with a logStreamNamePrefix.");
  }
  auto streams = store.Streams(endpoint);
  if (prefix) {
    std::erase_if(streams, [&](const auto& s) { return s.name.rfind(*prefix, 0) != 0; });
  }
  if (by_time) {
    std::stable_sort(streams.begin(), streams.end(), [](const auto& a, const auto& b) {
      return a.last_ms != b.last_ms ? a.last_ms < b.last_ms : a.name < b.name;
    });
  }
  if (descending) std::reverse(streams.begin(), streams.end());
  size_t start = 0;
  if (token) {  // "s/<index>" into this ordering
    if (token->rfind("s/", 0) != 0) return BadToken();
    try {
      start = std::stoul(token->substr(2));
    } catch (...) {
      return BadToken();
    }
  }
  json list = json::array();
  const std::string group_arn = GroupArn(identity, endpoint);
  for (size_t i = start; i < streams.size() && static_cast<int64_t>(list.size()) < limit; ++i) {
    const auto& s = streams[i];
    json entry = {{"logStreamName", s.name},
                  {"creationTime", s.first_ms},
                  {"arn", group_arn + ":log-stream:" + s.name},
                  {"storedBytes", s.stored_bytes}};
    if (s.first_ms > 0) {
      entry["firstEventTimestamp"] = s.first_ms;
      entry["lastEventTimestamp"] = s.last_ms;
      entry["lastIngestionTime"] = s.last_ms;
    }
    list.push_back(std::move(entry));
  }
  json out = {{"logStreams", std::move(list)}};
  if (start + static_cast<size_t>(limit) < streams.size()) {
    out["nextToken"] = "s/" + std::to_string(start + static_cast<size_t>(limit));
  }
  return out;
}

Result<std::pair<int64_t, int64_t>> TimeRange(const json& in, bool end_inclusive) {
  THAW_ASSIGN_OR_RETURN(std::optional<int64_t> start, Integer(in, "startTime"));
  THAW_ASSIGN_OR_RETURN(std::optional<int64_t> end, Integer(in, "endTime"));
  int64_t lo = start.value_or(0);
  int64_t hi = end ? (end_inclusive ? *end + 1 : *end) : kEndOfTime;
  if (start && end && *start > *end) {
    return Invalid("End time must be greater than or equal to start time.");
  }
  return std::make_pair(std::max<int64_t>(lo, 0), hi);
}

Result<json> GetLogEvents(const json& in, const logs::LogStore& store) {
  THAW_ASSIGN_OR_RETURN(std::string endpoint, GroupEndpoint(in, store));
  THAW_ASSIGN_OR_RETURN(std::optional<std::string> stream, String(in, "logStreamName"));
  if (!stream) return Status(Code::kMissingParameter, "logStreamName is required.");
  THAW_ASSIGN_OR_RETURN(auto range, TimeRange(in, /*end_inclusive=*/false));
  THAW_ASSIGN_OR_RETURN(std::optional<std::string> token, String(in, "nextToken"));
  THAW_ASSIGN_OR_RETURN(int64_t limit, Limit(in, 10000, 10000));
  THAW_ASSIGN_OR_RETURN(bool from_head, Bool(in, "startFromHead"));
  if (!store.HasStream(endpoint, *stream)) {
    return NotFound("The specified log stream does not exist.");
  }
  // A token is "f/<key>" (events after key) or "b/<key>" (events before key).
  bool forward = from_head;
  std::optional<EventKey> bound;
  if (token) {
    if (token->size() < 3 || (token->rfind("f/", 0) != 0 && token->rfind("b/", 0) != 0)) {
      return BadToken();
    }
    bound = logs::DecodeKey(token->substr(2));
    if (!bound || bound->stream != *stream) return BadToken();
    forward = (*token)[0] == 'f';
  }
  std::vector<StoredEvent> all = store.Read(endpoint, *stream, range.first, range.second);
  auto first = all.begin(), last = all.end();
  if (bound && forward) {
    first = std::upper_bound(all.begin(), all.end(), *bound,
                             [](const EventKey& k, const StoredEvent& e) { return k < e.key; });
  } else if (bound) {
    last = std::lower_bound(all.begin(), all.end(), *bound,
                            [](const StoredEvent& e, const EventKey& k) { return e.key < k; });
  }
  // Forward: the first `limit` after the position; backward (or the default, the stream's
  // end): the last `limit` before it. Either way within CloudWatch's 1 MB a page.
  size_t bytes = 0;
  if (forward) {
    auto it = first;
    for (; it != last && it - first < limit; ++it) {
      bytes += it->message.size() + 26;
      if (bytes > kMaxResponseBytes && it != first) break;
    }
    last = it;
  } else {
    auto it = last;
    for (; it != first && last - it < limit; --it) {
      bytes += (it - 1)->message.size() + 26;
      if (bytes > kMaxResponseBytes && it != last) break;
    }
    first = it;
  }
  json events = json::array();
  for (auto it = first; it != last; ++it) {
    events.push_back({{"timestamp", it->key.timestamp_ms},
                      {"message", it->message},
                      {"ingestionTime", it->key.timestamp_ms}});
  }
  // Positions: before the first returned event and after the last one; with none returned,
  // where the read stood (the same token again, as CloudWatch does at the end of a stream).
  EventKey head{-1, *stream, 0, 0};
  EventKey tail{kEndOfTime, *stream, 0, 0};
  EventKey back = first != last ? first->key : (bound ? *bound : (forward ? head : tail));
  EventKey fwd = first != last ? (last - 1)->key : (bound ? *bound : (forward ? head : tail));
  json out = {{"events", std::move(events)},
              {"nextForwardToken", "f/" + logs::EncodeKey(fwd)},
              {"nextBackwardToken", "b/" + logs::EncodeKey(back)}};
  return out;
}

Result<json> FilterLogEvents(const json& in, const logs::LogStore& store) {
  THAW_ASSIGN_OR_RETURN(std::string endpoint, GroupEndpoint(in, store));
  THAW_ASSIGN_OR_RETURN(std::optional<std::string> prefix, String(in, "logStreamNamePrefix"));
  THAW_ASSIGN_OR_RETURN(auto range, TimeRange(in, /*end_inclusive=*/true));
  THAW_ASSIGN_OR_RETURN(std::optional<std::string> pattern_text, String(in, "filterPattern"));
  THAW_ASSIGN_OR_RETURN(std::optional<std::string> token, String(in, "nextToken"));
  THAW_ASSIGN_OR_RETURN(int64_t limit, Limit(in, 10000, 10000));
  std::optional<std::vector<std::string>> names;
  if (auto it = in.find("logStreamNames"); it != in.end() && !it->is_null()) {
    if (!it->is_array()) return Status(Code::kSerialization, "logStreamNames must be a list.");
    names.emplace();
    for (const auto& n : *it) {
      if (!n.is_string()) return Status(Code::kSerialization, "logStreamNames must be strings.");
      names->push_back(n.get<std::string>());
    }
    if (names->empty() || names->size() > 100) {
      return Invalid("logStreamNames must name between 1 and 100 log streams.");
    }
  }
  if (names && prefix) {
    return Invalid("You cannot specify both LogStreamNames and LogStreamNamePrefix.");
  }
  logs::FilterPattern pattern;
  if (pattern_text) {
    THAW_ASSIGN_OR_RETURN(pattern, logs::ParseFilterPattern(*pattern_text));
  }
  std::optional<EventKey> after;
  if (token) {
    if (token->rfind("e/", 0) != 0) return BadToken();
    after = logs::DecodeKey(token->substr(2));
    if (!after) return BadToken();
  }
  std::vector<std::string> streams;
  for (const auto& s : store.Streams(endpoint)) {
    if (prefix && s.name.rfind(*prefix, 0) != 0) continue;
    if (names && std::find(names->begin(), names->end(), s.name) == names->end()) continue;
    streams.push_back(s.name);
  }
  // Interleaved: every matching event of every stream, in EventKey order.
  std::vector<StoredEvent> matched;
  for (const auto& s : streams) {
    for (StoredEvent& e : store.Read(endpoint, s, range.first, range.second)) {
      if (after && !(*after < e.key)) continue;
      if (!logs::Matches(pattern, e.message)) continue;
      matched.push_back(std::move(e));
    }
  }
  std::sort(matched.begin(), matched.end(),
            [](const StoredEvent& a, const StoredEvent& b) { return a.key < b.key; });
  json events = json::array();
  size_t bytes = 0, taken = 0;
  for (; taken < matched.size() && static_cast<int64_t>(taken) < limit; ++taken) {
    const StoredEvent& e = matched[taken];
    bytes += e.message.size() + 26;
    if (bytes > kMaxResponseBytes && taken > 0) break;
    events.push_back({{"logStreamName", e.key.stream},
                      {"timestamp", e.key.timestamp_ms},
                      {"message", e.message},
                      {"ingestionTime", e.key.timestamp_ms},
                      {"eventId", logs::EncodeKey(e.key)}});
  }
  json searched = json::array();
  for (const auto& s : streams)
    searched.push_back({{"logStreamName", s}, {"searchedCompletely", true}});
  json out = {{"events", std::move(events)}, {"searchedLogStreams", std::move(searched)}};
  if (taken < matched.size()) out["nextToken"] = "e/" + logs::EncodeKey(matched[taken - 1].key);
  return out;
}

}  // namespace

std::optional<std::string> MatchLogs(const Request& req) {
  if (req.method() != http::verb::post) return std::nullopt;
  auto it = req.find("X-Amz-Target");
  if (it == req.end()) return std::nullopt;
  std::string_view t(it->value().data(), it->value().size());
  if (t.rfind(kTargetPrefix, 0) != 0) return std::nullopt;
  return std::string(t.substr(kTargetPrefix.size()));
}

std::string LogStreamArn(const Identity& identity, const std::string& endpoint,
                         const std::string& stream) {
  return GroupArn(identity, endpoint) + ":log-stream:" + stream;
}

Result<json> RunLogsOp(const std::string& op, const json& input, const logs::LogStore& store,
                       const Identity& identity, int64_t retention_days) {
  if (op == "DescribeLogGroups") return DescribeLogGroups(input, store, identity, retention_days);
  if (op == "DescribeLogStreams") return DescribeLogStreams(input, store, identity);
  if (op == "GetLogEvents") return GetLogEvents(input, store);
  if (op == "FilterLogEvents") return FilterLogEvents(input, store);
  return Status(Code::kUnknownOperation, "The operation " + op + " is not served by this server.");
}

boost::asio::awaitable<Response> LogsApi::Handle(Request& req, RequestContext& ctx,
                                                 const std::string& op) {
  if (!logs_) {
    co_return ErrorResponse(Status(Code::kUnavailable, "Logs are not enabled on this server."),
                            Protocol::kLogs, req, ctx.request_id);
  }
  json input = json::object();
  if (!req.body().empty()) {
    input = json::parse(req.body(), nullptr, false);
    if (input.is_discarded() || !input.is_object()) {
      co_return ErrorResponse(
          Status(Code::kSerialization, "The request body is not a JSON object."), Protocol::kLogs,
          req, ctx.request_id);
    }
  }
  Result<json> result = co_await RunBlocking(blocking_, [this, &op, &input]() {
    logs_->Flush();  // read what was written before the request
    return RunLogsOp(op, input, logs_->store(), identity_, retention_days_);
  });
  if (!result.ok()) {
    Logger("api")->debug("logs op={} request_id={} error={}", op, ctx.request_id,
                         result.status().ToString());
    co_return ErrorResponse(result.status(), Protocol::kLogs, req, ctx.request_id);
  }
  Response res{http::status::ok, req.version()};
  res.set(http::field::content_type, "application/x-amz-json-1.1");
  res.set("x-amzn-RequestId", ctx.request_id);
  res.keep_alive(req.keep_alive());
  res.body() = result->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.prepare_payload();
  co_return res;
}

}  // namespace thaw::api
