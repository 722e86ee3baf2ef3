#include "cli/cost.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/sagemaker_client.h"
#include "common/time_format.h"

namespace thaw::cli {
namespace {

constexpr std::string_view kBillingNamespace = "thaw/Billing";
constexpr std::string_view kBilledDuration = "BilledDuration";
constexpr std::string_view kProvisionedSeconds = "ProvisionedConcurrencySeconds";
constexpr double kSecondsPerMonth = 30.0 * 24 * 3600;  // the seed's month: 24 × 30 hours

std::string Usd(double v) {
  char buf[64];
  // Serverless costs of a few requests are fractions of a cent: keep six decimals there.
  std::snprintf(buf, sizeof buf, std::fabs(v) < 1 ? "$%.6f" : "$%.2f", v);
  return buf;
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

double WindowSeconds(WallTime start, WallTime end) {
  return std::chrono::duration<double>(end - start).count();
}

void Price(CostRow& row, const Prices& prices, double window_s) {
  const double on_demand_gb_seconds = row.gb_seconds - row.provisioned_gb_seconds;
  row.inference_usd = on_demand_gb_seconds * prices.per_gb_second +
                      row.provisioned_gb_seconds * prices.per_provisioned_inference_gb_second +
                      row.requests * prices.per_request;
  row.provisioned_usd = row.provisioned_allocated_gb_seconds * prices.per_provisioned_gb_second;
  row.serverless_usd = row.inference_usd + row.provisioned_usd;
  row.monthly_usd = window_s > 0 ? row.serverless_usd * kSecondsPerMonth / window_s : 0;
  row.instance_usd = row.instance_per_hour * window_s / 3600.0;
  row.savings_usd = row.instance_usd - row.serverless_usd;
  // The allocation is a fixed hourly cost: only what is left of the instance's price after it
  // pays for requests.
  const double provisioned_per_hour = window_s > 0 ? row.provisioned_usd * 3600.0 / window_s : 0;
  row.break_even_per_hour = row.requests > 0 && row.instance_per_hour > provisioned_per_hour
                                ? BreakEvenPerHour(row.instance_per_hour - provisioned_per_hour,
                                                   row.inference_usd / row.requests)
                                : std::nullopt;
}

}  // namespace

const std::vector<InstancePrice>& InstancePrices() {
  // Real-time inference, on demand, USD/hour, from prices.json (ml.m5.large: the seed's own
  // "persistent_hourly_rate = 0.134"; the others approximate). --instance-price overrides.
  static const std::vector<InstancePrice> kTable = [] {
    std::vector<InstancePrice> out;
    for (const prices::Instance& i : prices::kInstances) {
      out.push_back({i.type, static_cast<int64_t>(i.memory_mb), i.usd_per_hour});
    }
    return out;
  }();
  return kTable;
}

const InstancePrice* FindInstance(std::string_view type) {
  for (const InstancePrice& p : InstancePrices()) {
    if (p.type == type) return &p;
  }
  return nullptr;
}

const InstancePrice& SimilarInstance(int64_t memory_mb) {
  // General purpose (t2/m5) only: the c5s are the compute-optimised alternative, by name.
  const InstancePrice* best = nullptr;
  const InstancePrice* largest = nullptr;
  for (const InstancePrice& p : InstancePrices()) {
    if (std::string_view(p.type).rfind("ml.c5", 0) == 0) continue;
    if (!largest || p.memory_mb > largest->memory_mb) largest = &p;
    if (p.memory_mb >= memory_mb && (!best || p.memory_mb < best->memory_mb)) best = &p;
  }
  return best ? *best : *largest;
}

double GbSeconds(double billed_ms, int64_t memory_mb) {
  return billed_ms / 1000.0 * static_cast<double>(memory_mb) / 1024.0;
}

std::optional<double> BreakEvenPerHour(double instance_per_hour, double cost_per_request) {
  if (cost_per_request <= 0) return std::nullopt;
  return instance_per_hour / cost_per_request;
}

Result<CostReport> ComputeCost(const std::vector<BilledSeries>& series, const Prices& prices,
                               WallTime start, WallTime end,
                               const std::vector<ProvisionedSeries>& provisioned) {
  const InstancePrice* fixed = nullptr;
  if (!prices.instance_type.empty()) {
    fixed = FindInstance(prices.instance_type);
    if (!fixed && !prices.instance_per_hour) {
      return InvalidArgument("unknown instance type " + prices.instance_type +
                             " (give its hourly price with --instance-price)");
    }
  }
  std::map<std::pair<std::string, std::string>, CostRow> rows;
  for (const BilledSeries& s : series) {
    CostRow& row = rows[{s.endpoint, s.variant}];
    row.endpoint = s.endpoint;
    row.variant = s.variant;
    row.memory_mb = std::max(row.memory_mb, s.memory_mb);
    row.requests += s.requests;
    row.billed_seconds += s.billed_ms / 1000.0;
    row.gb_seconds += GbSeconds(s.billed_ms, s.memory_mb);
    if (s.capacity == "Provisioned") {
      row.provisioned_gb_seconds += GbSeconds(s.billed_ms, s.memory_mb);
    }
  }
  for (const ProvisionedSeries& s : provisioned) {
    CostRow& row = rows[{s.endpoint, s.variant}];
    row.endpoint = s.endpoint;
    row.variant = s.variant;
    row.memory_mb = std::max(row.memory_mb, s.memory_mb);
    row.provisioned_seconds += s.seconds;
    // Seconds × 1000 are "milliseconds" to GbSeconds: the same GB = 1024 MB rule.
    row.provisioned_allocated_gb_seconds += GbSeconds(s.seconds * 1000.0, s.memory_mb);
  }
  const double window_s = WindowSeconds(start, end);
  CostReport report{start, end, {}, {}};
  report.total.endpoint = "TOTAL";
  report.total.variant = "-";
  for (auto& [key, row] : rows) {
    const InstancePrice& instance = fixed ? *fixed : SimilarInstance(row.memory_mb);
    // An instance outside the table keeps its name, priced by --instance-price.
    row.instance_type =
        fixed || prices.instance_type.empty() ? std::string(instance.type) : prices.instance_type;
    row.instance_per_hour = prices.instance_per_hour.value_or(instance.usd_per_hour);
    Price(row, prices, window_s);
    CostRow& t = report.total;
    t.requests += row.requests;
    t.billed_seconds += row.billed_seconds;
    t.gb_seconds += row.gb_seconds;
    t.provisioned_gb_seconds += row.provisioned_gb_seconds;
    t.provisioned_seconds += row.provisioned_seconds;
    t.provisioned_allocated_gb_seconds += row.provisioned_allocated_gb_seconds;
    t.instance_per_hour += row.instance_per_hour;
    report.rows.push_back(row);
  }
  report.total.instance_type = report.rows.size() == 1 ? report.rows[0].instance_type : "-";
  Price(report.total, prices, window_s);
  return report;
}

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  if (text.size() < 2) return InvalidArgument("bad duration \"" + std::string(text) + "\"");
  int64_t n = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9' || n > 100'000'000)
      return InvalidArgument("bad duration \"" + std::string(text) +
                             "\" (expected a number and s, m, h, d or w: 30m, 24h, 7d)");
    n = n * 10 + (c - '0');
  }
  int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    case 'w':
      unit = 7 * 86400;
      break;
    default:
      return InvalidArgument("bad duration \"" + std::string(text) +
                             "\" (expected a number and s, m, h, d or w: 30m, 24h, 7d)");
  }
  if (n == 0) return InvalidArgument("the duration \"" + std::string(text) + "\" is empty");
  return std::chrono::seconds(n * unit);
}

Result<WallTime> ParseTimeArg(std::string_view text) {
  if (!text.empty() &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      text.size() <= 12) {
    int64_t seconds = 0;
    std::from_chars(text.data(), text.data() + text.size(), seconds);
    return FromEpochSeconds(static_cast<double>(seconds));
  }
  if (auto t = ParseIso8601(text)) return *t;
  return InvalidArgument("bad time \"" + std::string(text) +
                         "\" (expected ISO-8601 UTC like 2026-11-28T05:00:00Z, or epoch seconds)");
}

Result<std::pair<WallTime, WallTime>> CostWindow(const ClientOptions& o, WallTime now) {
  if (!o.since.empty() && !o.start.empty()) {
    return InvalidArgument("--since and --start exclude each other");
  }
  WallTime end = now;
  if (!o.end.empty()) {
    THAW_ASSIGN_OR_RETURN(end, ParseTimeArg(o.end));
  }
  WallTime start;
  if (!o.start.empty()) {
    THAW_ASSIGN_OR_RETURN(start, ParseTimeArg(o.start));
  } else {
    THAW_ASSIGN_OR_RETURN(std::chrono::seconds since,
                          ParseDuration(o.since.empty() ? "24h" : o.since));
    start = end - since;
  }
  if (!(start < end)) return InvalidArgument("the window is empty: start must be before end");
  return std::pair{start, end};
}

int64_t PeriodFor(WallTime start, WallTime end) {
  // CloudWatch rounds StartTime down to the minute: cover that minute too.
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(end - start).count() + 60;
  int64_t minutes = (seconds + 59) / 60;
  int64_t per_point = (minutes + 1439) / 1440;  // ≤ 1,440 datapoints
  return std::max<int64_t>(per_point, 1) * 60;
}

std::string FormatCostTable(const CostReport& r) {
  using Cells = std::array<std::string, 13>;
  std::vector<Cells> lines;
  lines.push_back({"ENDPOINT", "VARIANT", "MEMORY", "REQUESTS", "BILLED S", "GB-S", "INFERENCE",
                   "PC S", "PROVISIONED", "SERVERLESS", "INSTANCE", "INSTANCE COST",
                   "BREAK-EVEN REQ/H"});
  auto cells = [](const CostRow& row) {
    return Cells{row.endpoint,
                 row.variant,
                 row.memory_mb > 0 ? std::to_string(row.memory_mb) : "-",
                 Fixed(row.requests, 0),
                 Fixed(row.billed_seconds, 3),
                 Fixed(row.gb_seconds, 6),
                 Usd(row.inference_usd),
                 Fixed(row.provisioned_seconds, 0),
                 Usd(row.provisioned_usd),
                 Usd(row.serverless_usd),
                 row.instance_type,
                 Usd(row.instance_usd),
                 row.break_even_per_hour ? Fixed(*row.break_even_per_hour, 0) : "-"};
  };
  for (const CostRow& row : r.rows) lines.push_back(cells(row));
  if (r.rows.size() > 1) lines.push_back(cells(r.total));
  std::array<size_t, 13> width{};
  for (const Cells& c : lines) {
    for (size_t i = 0; i < c.size(); ++i) width[i] = std::max(width[i], c[i].size());
  }
  std::string out = "window " + FormatIso8601(r.start) + " .. " + FormatIso8601(r.end) + " (" +
                    Fixed(WindowSeconds(r.start, r.end) / 3600.0, 2) + " h)\n";
  for (const Cells& c : lines) {
    std::string line;
    for (size_t i = 0; i < c.size(); ++i) {
      line += c[i];
      if (i + 1 < c.size()) line.append(width[i] - c[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  if (r.rows.empty()) out += "(no billed invocations in this window)\n";
  out += "serverless " + Usd(r.total.serverless_usd) + " (inference " + Usd(r.total.inference_usd) +
         ", provisioned concurrency " + Usd(r.total.provisioned_usd) + "), projected " +
         Usd(r.total.monthly_usd) + "/month at this rate; persistent instances " +
         Usd(r.total.instance_usd) + "; savings " + Usd(r.total.savings_usd) + "\n";
  return out;
}

std::string FormatCostJson(const CostReport& r) {
  auto row_json = [](const CostRow& row) {
    nlohmann::json j = {{"Endpoint", row.endpoint},
                        {"Variant", row.variant},
                        {"MemorySizeInMB", row.memory_mb},
                        {"Requests", row.requests},
                        {"BilledSeconds", row.billed_seconds},
                        {"GBSeconds", row.gb_seconds},
                        {"ProvisionedInferenceGBSeconds", row.provisioned_gb_seconds},
                        {"InferenceCostUSD", row.inference_usd},
                        {"ProvisionedConcurrencySeconds", row.provisioned_seconds},
                        {"ProvisionedConcurrencyGBSeconds", row.provisioned_allocated_gb_seconds},
                        {"ProvisionedConcurrencyCostUSD", row.provisioned_usd},
                        {"ServerlessCostUSD", row.serverless_usd},
                        {"ProjectedMonthlyUSD", row.monthly_usd},
                        {"InstanceType", row.instance_type},
                        {"InstanceHourlyUSD", row.instance_per_hour},
                        {"InstanceCostUSD", row.instance_usd},
                        {"SavingsUSD", row.savings_usd}};
    j["BreakEvenRequestsPerHour"] =
        row.break_even_per_hour ? nlohmann::json(*row.break_even_per_hour) : nlohmann::json();
    return j;
  };
  nlohmann::json out = {{"Start", FormatIso8601(r.start)},
                        {"End", FormatIso8601(r.end)},
                        {"WindowSeconds", WindowSeconds(r.start, r.end)},
                        {"Endpoints", nlohmann::json::array()},
                        {"Total", row_json(r.total)}};
  for (const CostRow& row : r.rows) out["Endpoints"].push_back(row_json(row));
  return out.dump(2) + "\n";
}

namespace {

// One CloudWatch call in awsJson1_0 (GraniteServiceVersion20100801.<op>).
ApiResult<nlohmann::json> CloudWatchCall(HttpClient& http, std::string_view op,
                                         const nlohmann::json& input) {
  HttpRequest req{http::verb::post, "/", 11};
  req.set("X-Amz-Target", "GraniteServiceVersion20100801." + std::string(op));
  req.set(http::field::content_type, "application/x-amz-json-1.0");
  req.body() = input.dump();
  Result<HttpResponse> res = http.Send(std::move(req));
  if (!res.ok()) return ApiError{0, "", res.status().message()};
  const int status = static_cast<int>(res->result_int());
  auto header = res->find("x-amzn-query-error");
  std::string_view error_header =
      header == res->end() ? std::string_view()
                           : std::string_view(header->value().data(), header->value().size());
  if (status < 200 || status > 299) {
    ApiError e = ParseApiError(status, "", res->body());
    if (auto semi = error_header.find(';'); !error_header.empty()) {
      e.code = std::string(error_header.substr(0, semi));
    }
    return e;
  }
  nlohmann::json body = nlohmann::json::parse(res->body(), nullptr, false);
  if (body.is_discarded()) return ApiError{status, "", "CloudWatch answered with a non-JSON body"};
  return body;
}

std::string Dimension(const nlohmann::json& dims, std::string_view name) {
  if (!dims.is_array()) return {};
  for (const auto& d : dims) {
    if (d.is_object() && d.value("Name", "") == name) return d.value("Value", "");
  }
  return {};
}

// One thaw/Billing series summed over the window.
struct SummedSeries {
  nlohmann::json dimensions;
  double sum = 0;
  double samples = 0;
};

// Every series of thaw/Billing `metric` (ListMetrics, all pages; one endpoint when given), each
// summed over [start, end) with GetMetricStatistics.
ApiResult<std::vector<SummedSeries>> SumSeries(HttpClient& http, std::string_view metric,
                                               const std::string& endpoint, WallTime start,
                                               WallTime end) {
  std::vector<nlohmann::json> metrics;
  nlohmann::json list = {{"Namespace", kBillingNamespace}, {"MetricName", metric}};
  if (!endpoint.empty()) {
    list["Dimensions"] = {{{"Name", "EndpointName"}, {"Value", endpoint}}};
  }
  for (;;) {
    ApiResult<nlohmann::json> page = CloudWatchCall(http, "ListMetrics", list);
    if (!page.ok()) return page.error();
    if (page->contains("Metrics") && (*page)["Metrics"].is_array()) {
      for (const auto& m : (*page)["Metrics"]) metrics.push_back(m);
    }
    if (!page->contains("NextToken") || !(*page)["NextToken"].is_string()) break;
    list["NextToken"] = (*page)["NextToken"];
  }
  const double start_s = std::chrono::duration<double>(start.time_since_epoch()).count();
  const double end_s = std::chrono::duration<double>(end.time_since_epoch()).count();
  std::vector<SummedSeries> out;
  for (const nlohmann::json& m : metrics) {
    SummedSeries s;
    s.dimensions = m.value("Dimensions", nlohmann::json::array());
    nlohmann::json query = {{"Namespace", kBillingNamespace},
                            {"MetricName", metric},
                            {"Dimensions", s.dimensions},
                            {"StartTime", start_s},
                            {"EndTime", end_s},
                            {"Period", PeriodFor(start, end)},
                            {"Statistics", {"Sum", "SampleCount"}}};
    ApiResult<nlohmann::json> stats = CloudWatchCall(http, "GetMetricStatistics", query);
    if (!stats.ok()) return stats.error();
    const nlohmann::json points = stats->value("Datapoints", nlohmann::json::array());
    for (const auto& dp : points) {
      s.sum += dp.value("Sum", 0.0);
      s.samples += dp.value("SampleCount", 0.0);
    }
    if (s.samples > 0) out.push_back(std::move(s));
  }
  return out;
}

int64_t MemoryOf(const nlohmann::json& dims) {
  int64_t memory_mb = 0;
  std::string memory = Dimension(dims, "MemorySizeInMB");
  std::from_chars(memory.data(), memory.data() + memory.size(), memory_mb);
  return memory_mb;
}

}  // namespace

int RunCost(const ClientOptions& options, HttpClient& http, Console& console, WallTime now) {
  auto window = CostWindow(options, now);
  if (!window.ok()) {
    console.err << "error: " << window.status().message() << "\n";
    return 2;
  }
  auto [start, end] = *window;
  Prices prices;
  prices.per_gb_second = options.price_per_gb_second;
  prices.per_request = options.price_per_request;
  prices.per_provisioned_gb_second = options.price_provisioned_gb_second;
  prices.per_provisioned_inference_gb_second = options.price_provisioned_inference_gb_second;
  prices.instance_type = options.instance;
  if (options.instance_price >= 0) prices.instance_per_hour = options.instance_price;

  // Every billing series (one per endpoint, variant, memory size and capacity), and every
  // provisioned concurrency allocation (one per endpoint, variant and memory size).
  auto billed = SumSeries(http, kBilledDuration, options.cost_endpoint, start, end);
  if (!billed.ok()) {
    console.err << FormatError(billed.error()) << "\n";
    return 1;
  }
  auto allocated = SumSeries(http, kProvisionedSeconds, options.cost_endpoint, start, end);
  if (!allocated.ok()) {
    console.err << FormatError(allocated.error()) << "\n";
    return 1;
  }
  std::vector<BilledSeries> series;
  for (const SummedSeries& summed : *billed) {
    BilledSeries s;
    s.endpoint = Dimension(summed.dimensions, "EndpointName");
    s.variant = Dimension(summed.dimensions, "VariantName");
    s.capacity = Dimension(summed.dimensions, "Capacity");
    s.memory_mb = MemoryOf(summed.dimensions);
    s.billed_ms = summed.sum;
    s.requests = summed.samples;
    series.push_back(std::move(s));
  }
  std::vector<ProvisionedSeries> provisioned;
  for (const SummedSeries& summed : *allocated) {
    if (summed.sum <= 0) continue;
    ProvisionedSeries s;
    s.endpoint = Dimension(summed.dimensions, "EndpointName");
    s.variant = Dimension(summed.dimensions, "VariantName");
    s.memory_mb = MemoryOf(summed.dimensions);
    s.seconds = summed.sum;
    provisioned.push_back(std::move(s));
  }
  Result<CostReport> report = ComputeCost(series, prices, start, end, provisioned);
  if (!report.ok()) {
    console.err << "error: " << report.status().message() << "\n";
    return 2;
  }
  console.out << (options.json ? FormatCostJson(*report) : FormatCostTable(*report));
  return 0;
}

}  // namespace thaw::cli
