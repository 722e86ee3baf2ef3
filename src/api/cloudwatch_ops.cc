#include "api/cloudwatch_ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "common/time_format.h"
#include "metrics/live_gauges.h"
#include "metrics/statistics.h"

namespace thaw::api {
namespace {

using metrics::SeriesKey;
using nlohmann::json;

constexpr int64_t kMaxDatapoints = 1440;
constexpr int64_t kDefaultMaxDatapoints = 100800;
constexpr size_t kListMetricsPage = 500;

Status Missing(std::string_view name) {
  return {Code::kMissingParameter, fmt::format("The parameter {} is required.", name)};
}
Status Invalid(std::string message) { return InvalidArgument(std::move(message)); }

const json* Member(const json& obj, std::string_view name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(name);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

// Readers that accept the member in any protocol's form (query sends every scalar as text).
Result<std::optional<std::string>> String(const json& obj, std::string_view name) {
  const json* v = Member(obj, name);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return Invalid(fmt::format("The parameter {} must be a string.", name));
  return std::optional<std::string>(v->get<std::string>());
}

Result<std::optional<int64_t>> Integer(const json& obj, std::string_view name) {
  const json* v = Member(obj, name);
  if (!v) return std::optional<int64_t>();
  if (v->is_number_integer()) return std::optional<int64_t>(v->get<int64_t>());
  // A whole float within int64's range (CBOR clients may send one); casting one outside it is
  // undefined behaviour (found by fuzz_cloudwatch: a Period of 2e121).
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (std::floor(d) == d && d >= -0x1p63 && d < 0x1p63) {
      return std::optional<int64_t>(static_cast<int64_t>(d));
    }
  }
  if (v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    int64_t out = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && p == s.data() + s.size()) return std::optional<int64_t>(out);
  }
  return Invalid(fmt::format("The parameter {} must be an integer.", name));
}

Result<std::optional<bool>> Boolean(const json& obj, std::string_view name) {
  const json* v = Member(obj, name);
  if (!v) return std::optional<bool>();
  if (v->is_boolean()) return std::optional<bool>(v->get<bool>());
  if (v->is_string() && (*v == "true" || *v == "false")) return std::optional<bool>(*v == "true");
  return Invalid(fmt::format("The parameter {} must be a boolean.", name));
}

Result<std::optional<WallTime>> Time(const json& obj, std::string_view name) {
  const json* v = Member(obj, name);
  if (!v) return std::optional<WallTime>();
  if (v->is_number()) {
    const double s = v->get<double>();
    // Years beyond ±31,700 are no timestamp (and would not fit the clock: fuzz_cloudwatch).
    if (std::isfinite(s) && std::fabs(s) < 1e12)
      return std::optional<WallTime>(FromEpochSeconds(s));
  } else if (v->is_string()) {
    if (auto t = ParseIso8601(v->get_ref<const std::string&>())) return std::optional(*t);
  }
  return Invalid(fmt::format("The parameter {} must be a timestamp.", name));
}

Result<std::vector<std::string>> Strings(const json& obj, std::string_view name) {
  const json* v = Member(obj, name);
  std::vector<std::string> out;
  if (!v) return out;
  if (!v->is_array()) return Invalid(fmt::format("The parameter {} must be a list.", name));
  for (const json& e : *v) {
    if (!e.is_string()) return Invalid(fmt::format("The parameter {} must hold strings.", name));
    out.push_back(e.get<std::string>());
  }
  return out;
}

// Dimensions of a metric (Name and Value both required), sorted.
Result<metrics::Dimensions> ReadDimensions(const json& obj, std::string_view prefix, size_t limit) {
  metrics::Dimensions dims;
  const json* v = Member(obj, "Dimensions");
  if (!v) return dims;
  if (!v->is_array())
    return Invalid(fmt::format("The parameter {}Dimensions must be a list.", prefix));
  if (v->size() > limit) {
    return Invalid(fmt::format("The collection {}Dimensions must not have a size greater than {}.",
                               prefix, limit));
  }
  for (size_t i = 0; i < v->size(); ++i) {
    std::string at = fmt::format("{}Dimensions.member.{}", prefix, i + 1);
    THAW_ASSIGN_OR_RETURN(auto name, String((*v)[i], "Name"));
    THAW_ASSIGN_OR_RETURN(auto value, String((*v)[i], "Value"));
    if (!name) return Missing(at + ".Name");
    if (!value) return Missing(at + ".Value");
    dims.emplace_back(*name, *value);
  }
  std::sort(dims.begin(), dims.end());
  return dims;
}

// 1441 → "1,441", as AWS writes its limits.
std::string WithCommas(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-') out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

Status CheckPeriod(int64_t period, std::string_view name) {
  if (period < 1) {
    return Invalid(fmt::format("The parameter {} must be greater than or equal to 1.", name));
  }
  if (period % 60 != 0)
    return Invalid(fmt::format("The parameter {} must be a multiple of 60.", name));
  return Status::Ok();
}

// The unit of a series, for Unit filtering; "" when the series has no data at all.
std::string UnitOf(const SeriesKey& key) {
  if (std::string_view live = metrics::LiveUnit(key.ns, key.metric); !live.empty()) {
    return std::string(live);
  }
  for (const metrics::MetricInfo& info : metrics::AllMetrics()) {
    if (info.ns == key.ns && info.name == key.metric) return std::string(info.unit);
  }
  return "None";
}

double Seconds(WallTime t) { return ToEpochSeconds(t); }

Result<json> GetMetricStatistics(const json& in, metrics::MetricsService& metrics) {
  THAW_ASSIGN_OR_RETURN(auto ns, String(in, "Namespace"));
  THAW_ASSIGN_OR_RETURN(auto metric, String(in, "MetricName"));
  THAW_ASSIGN_OR_RETURN(auto start, Time(in, "StartTime"));
  THAW_ASSIGN_OR_RETURN(auto end, Time(in, "EndTime"));
  THAW_ASSIGN_OR_RETURN(auto period, Integer(in, "Period"));
  THAW_ASSIGN_OR_RETURN(auto unit, String(in, "Unit"));
  if (!ns) return Missing("Namespace");
  if (!metric) return Missing("MetricName");
  if (!start) return Missing("StartTime");
  if (!end) return Missing("EndTime");
  if (!period) return Missing("Period");
  THAW_RETURN_IF_ERROR(CheckPeriod(*period, "Period"));
  THAW_ASSIGN_OR_RETURN(metrics::Dimensions dims, ReadDimensions(in, "", 30));
  THAW_ASSIGN_OR_RETURN(std::vector<std::string> simple, Strings(in, "Statistics"));
  THAW_ASSIGN_OR_RETURN(std::vector<std::string> extended, Strings(in, "ExtendedStatistics"));
  if (simple.empty() && extended.empty()) {
    return Status(Code::kInvalidCombination,
                  "At least one of the parameters Statistics and ExtendedStatistics must be "
                  "specified.");
  }
  if (!simple.empty() && !extended.empty()) {
    return Status(Code::kInvalidCombination,
                  "The parameters Statistics and ExtendedStatistics are mutually exclusive and "
                  "you have specified both.");
  }
  if (simple.size() > 5) {
    return Invalid("The collection Statistics must not have a size greater than 5.");
  }
  if (extended.size() > 10) {
    return Invalid("The collection ExtendedStatistics must not have a size greater than 10.");
  }
  std::vector<metrics::Statistic> stats, percentiles;
  for (size_t i = 0; i < simple.size(); ++i) {
    auto s = metrics::ParseSimpleStatistic(simple[i]);
    if (!s) {
      return Invalid(fmt::format(
          "The parameter Statistics.member.{} must be a value in the set [ Minimum, Maximum, "
          "Average, SampleCount, Sum ].",
          i + 1));
    }
    stats.push_back(*s);
  }
  for (size_t i = 0; i < extended.size(); ++i) {
    auto s = metrics::ParseExtendedStatistic(extended[i]);
    if (!s) {
      return Invalid(fmt::format(
          "The parameter ExtendedStatistics.member.{} must be a percentile of the form pNN.NN "
          "between p0.0 and p100.",
          i + 1));
    }
    percentiles.push_back(*s);
  }
  if (*start >= *end) {
    return Invalid("The parameter StartTime must be less than the parameter EndTime.");
  }
  int64_t count = metrics::DatapointCount(*start, *end, *period);
  if (count > kMaxDatapoints) {
    return Status(Code::kInvalidCombination,
                  fmt::format("You have requested up to {} datapoints, which exceeds the limit of "
                              "1,440. You may reduce the datapoints requested by increasing "
                              "Period, or decreasing the time range.",
                              WithCommas(count)));
  }

  SeriesKey key = SeriesKey::Make(*ns, *metric, std::move(dims));
  std::string series_unit = UnitOf(key);
  json datapoints = json::array();
  if (!unit || *unit == series_unit) {
    THAW_ASSIGN_OR_RETURN(
        auto points, metrics.Fetch(key, metrics::FirstMinute(*start), metrics::EndMinute(*end)));
    for (const metrics::Bucket& b : metrics::BucketBy(points, *start, *end, *period)) {
      json dp = {{"Timestamp", Seconds(b.timestamp)}};
      for (const auto& s : stats) dp[s.name] = metrics::Evaluate(s, b.aggregate);
      dp["Unit"] = series_unit;
      if (!percentiles.empty()) {
        json ext = json::object();
        for (const auto& s : percentiles) ext[s.name] = metrics::Evaluate(s, b.aggregate);
        dp["ExtendedStatistics"] = std::move(ext);
      }
      datapoints.push_back(std::move(dp));
    }
  }
  return json{{"Label", *metric}, {"Datapoints", std::move(datapoints)}};
}

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > 255 || id[0] < 'a' || id[0] > 'z') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

struct DataQuery {
  std::string id;
  std::string label;
  bool return_data = true;
  std::vector<std::pair<double, double>> points;  // (timestamp, value) in scan order
};

Result<json> GetMetricData(const json& in, metrics::MetricsService& metrics) {
  const json* queries = Member(in, "MetricDataQueries");
  THAW_ASSIGN_OR_RETURN(auto start, Time(in, "StartTime"));
  THAW_ASSIGN_OR_RETURN(auto end, Time(in, "EndTime"));
  THAW_ASSIGN_OR_RETURN(auto scan_by, String(in, "ScanBy"));
  THAW_ASSIGN_OR_RETURN(auto max_points, Integer(in, "MaxDatapoints"));
  THAW_ASSIGN_OR_RETURN(auto token, String(in, "NextToken"));
  if (!queries) return Missing("MetricDataQueries");
  if (!start) return Missing("StartTime");
  if (!end) return Missing("EndTime");
  if (!queries->is_array() || queries->empty()) {
    return Invalid("The parameter MetricDataQueries must contain at least one query.");
  }
  if (queries->size() > 500) {
    return Invalid("The collection MetricDataQueries must not have a size greater than 500.");
  }
  if (*start >= *end) {
    return Invalid("The parameter StartTime must be less than the parameter EndTime.");
  }
  bool ascending = false;
  if (scan_by) {
    if (*scan_by != "TimestampDescending" && *scan_by != "TimestampAscending") {
      return Invalid(
          fmt::format("The value {} for parameter ScanBy is not valid. Valid values are "
                      "[TimestampDescending, TimestampAscending].",
                      *scan_by));
    }
    ascending = *scan_by == "TimestampAscending";
  }
  int64_t page = max_points.value_or(kDefaultMaxDatapoints);
  if (page < 1) return Invalid("The parameter MaxDatapoints must be greater than 0.");
  size_t offset = 0;
  if (token) {
    auto [p, ec] = std::from_chars(token->data(), token->data() + token->size(), offset);
    if (ec != std::errc() || p != token->data() + token->size()) {
      return Status(Code::kInvalidNextToken, "The service couldn't process the NextToken.");
    }
  }

  std::vector<DataQuery> results;
  std::set<std::string> ids;
  for (size_t i = 0; i < queries->size(); ++i) {
    const json& q = (*queries)[i];
    std::string at = fmt::format("MetricDataQueries.member.{}", i + 1);
    THAW_ASSIGN_OR_RETURN(auto id, String(q, "Id"));
    THAW_ASSIGN_OR_RETURN(auto label, String(q, "Label"));
    THAW_ASSIGN_OR_RETURN(auto return_data, Boolean(q, "ReturnData"));
    if (!id) return Missing(at + ".Id");
    if (!ValidId(*id)) {
      return Invalid(fmt::format(
          "The value {} for parameter {}.Id is not valid: it must start with a lowercase letter "
          "and hold only letters, digits and underscores.",
          *id, at));
    }
    if (!ids.insert(*id).second) {
      return Invalid(fmt::format("The value {} for parameter {}.Id is not unique.", *id, at));
    }
    if (Member(q, "Expression")) {
      return Invalid(fmt::format(
          "The parameter {}.Expression is not supported by this server: use MetricStat.", at));
    }
    const json* stat = Member(q, "MetricStat");
    if (!stat) return Missing(at + ".MetricStat");
    const json* metric = Member(*stat, "Metric");
    if (!metric) return Missing(at + ".MetricStat.Metric");
    THAW_ASSIGN_OR_RETURN(auto ns, String(*metric, "Namespace"));
    THAW_ASSIGN_OR_RETURN(auto name, String(*metric, "MetricName"));
    THAW_ASSIGN_OR_RETURN(auto period, Integer(*stat, "Period"));
    THAW_ASSIGN_OR_RETURN(auto stat_name, String(*stat, "Stat"));
    THAW_ASSIGN_OR_RETURN(auto unit, String(*stat, "Unit"));
    if (!ns) return Missing(at + ".MetricStat.Metric.Namespace");
    if (!name) return Missing(at + ".MetricStat.Metric.MetricName");
    if (!period) return Missing(at + ".MetricStat.Period");
    if (!stat_name) return Missing(at + ".MetricStat.Stat");
    THAW_RETURN_IF_ERROR(CheckPeriod(*period, at + ".MetricStat.Period"));
    auto statistic = metrics::ParseStatistic(*stat_name);
    if (!statistic) {
      return Invalid(
          fmt::format("The value {} for parameter {}.MetricStat.Stat is not a valid "
                      "statistic.",
                      *stat_name, at));
    }
    THAW_ASSIGN_OR_RETURN(metrics::Dimensions dims,
                          ReadDimensions(*metric, at + ".MetricStat.Metric.", 30));
    SeriesKey key = SeriesKey::Make(*ns, *name, std::move(dims));
    DataQuery result{*id, label.value_or(*name), return_data.value_or(true), {}};
    if (result.return_data && (!unit || *unit == UnitOf(key))) {
      THAW_ASSIGN_OR_RETURN(
          auto points, metrics.Fetch(key, metrics::FirstMinute(*start), metrics::EndMinute(*end)));
      for (const metrics::Bucket& b : metrics::BucketBy(points, *start, *end, *period)) {
        result.points.emplace_back(Seconds(b.timestamp),
                                   metrics::Evaluate(*statistic, b.aggregate));
      }
      if (!ascending) std::reverse(result.points.begin(), result.points.end());
    }
    results.push_back(std::move(result));
  }

  // One page: skip `offset` datapoints over all queries (in order), then take `page`.
  size_t skip = offset, room = static_cast<size_t>(page), total = 0;
  json out_results = json::array();
  bool more = false;
  for (const DataQuery& r : results) {
    if (!r.return_data) continue;
    total += r.points.size();
    size_t from = std::min(skip, r.points.size());
    skip -= from;
    size_t take = std::min(room, r.points.size() - from);
    room -= take;
    json timestamps = json::array(), values = json::array();
    for (size_t i = from; i < from + take; ++i) {
      timestamps.push_back(r.points[i].first);
      values.push_back(r.points[i].second);
    }
    bool partial = from + take < r.points.size();
    more = more || partial;
    out_results.push_back({{"Id", r.id},
                           {"Label", r.label},
                           {"Timestamps", std::move(timestamps)},
                           {"Values", std::move(values)},
                           {"StatusCode", partial ? "PartialData" : "Complete"}});
  }
  if (token && offset > total) {
    return Status(Code::kInvalidNextToken, "The service couldn't process the NextToken.");
  }
  json out = {{"MetricDataResults", std::move(out_results)}, {"Messages", json::array()}};
  if (more) out["NextToken"] = std::to_string(offset + static_cast<size_t>(page));
  return out;
}

Result<json> ListMetrics(const json& in, metrics::MetricsService& metrics, WallTime now) {
  THAW_ASSIGN_OR_RETURN(auto ns, String(in, "Namespace"));
  THAW_ASSIGN_OR_RETURN(auto name, String(in, "MetricName"));
  THAW_ASSIGN_OR_RETURN(auto token, String(in, "NextToken"));
  THAW_ASSIGN_OR_RETURN(auto recently, String(in, "RecentlyActive"));
  std::vector<std::pair<std::string, std::optional<std::string>>> filters;
  if (const json* dims = Member(in, "Dimensions")) {
    if (!dims->is_array()) return Invalid("The parameter Dimensions must be a list.");
    if (dims->size() > 10) {
      return Invalid("The collection Dimensions must not have a size greater than 10.");
    }
    for (size_t i = 0; i < dims->size(); ++i) {
      THAW_ASSIGN_OR_RETURN(auto dn, String((*dims)[i], "Name"));
      THAW_ASSIGN_OR_RETURN(auto dv, String((*dims)[i], "Value"));
      if (!dn) return Missing(fmt::format("Dimensions.member.{}.Name", i + 1));
      filters.emplace_back(*dn, dv);
    }
  }
  if (recently && *recently != "PT3H") {
    return Invalid(fmt::format(
        "The value {} for parameter RecentlyActive is not valid. Valid values are [PT3H].",
        *recently));
  }
  size_t offset = 0;
  if (token) {
    auto [p, ec] = std::from_chars(token->data(), token->data() + token->size(), offset);
    if (ec != std::errc() || p != token->data() + token->size()) {
      return Status(Code::kInvalidNextToken, "The service couldn't process the NextToken.");
    }
  }
  THAW_ASSIGN_OR_RETURN(std::vector<metrics::SeriesInfo> all, metrics.ListSeries());
  metrics::Minute active_from = metrics::MinuteOf(now) - 180;
  std::vector<const metrics::SeriesInfo*> matched;
  for (const metrics::SeriesInfo& s : all) {
    if (ns && s.key.ns != *ns) continue;
    if (name && s.key.metric != *name) continue;
    if (recently && s.last_minute < active_from) continue;
    bool ok = std::all_of(filters.begin(), filters.end(), [&](const auto& f) {
      return std::any_of(s.key.dims.begin(), s.key.dims.end(), [&](const auto& d) {
        return d.first == f.first && (!f.second || d.second == *f.second);
      });
    });
    if (ok) matched.push_back(&s);
  }
  if (offset > matched.size()) {
    return Status(Code::kInvalidNextToken, "The service couldn't process the NextToken.");
  }
  json list = json::array();
  size_t end = std::min(matched.size(), offset + kListMetricsPage);
  for (size_t i = offset; i < end; ++i) {
    json dims = json::array();
    for (const auto& [dn, dv] : matched[i]->key.dims) dims.push_back({{"Name", dn}, {"Value", dv}});
    list.push_back({{"Namespace", matched[i]->key.ns},
                    {"MetricName", matched[i]->key.metric},
                    {"Dimensions", std::move(dims)}});
  }
  json out = {{"Metrics", std::move(list)}};
  if (end < matched.size()) out["NextToken"] = std::to_string(end);
  return out;
}

}  // namespace

Result<json> RunCloudWatchOp(std::string_view op, const json& input,
                             metrics::MetricsService& metrics, WallTime now) {
  if (op == "GetMetricStatistics") return GetMetricStatistics(input, metrics);
  if (op == "GetMetricData") return GetMetricData(input, metrics);
  if (op == "ListMetrics") return ListMetrics(input, metrics, now);
  return Status(Code::kUnknownOperation,
                fmt::format("The action {} is not valid for this web service.", op));
}

}  // namespace thaw::api
