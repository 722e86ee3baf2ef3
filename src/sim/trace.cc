#include "sim/trace.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>

namespace thaw::sim {
namespace {

std::vector<std::string_view> SplitCsv(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t comma = line.find(',', start);
    out.push_back(line.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (!out.empty() && !out.back().empty() && out.back().back() == '\r') {
    out.back().remove_suffix(1);
  }
  return out;
}

bool ParseDouble(std::string_view s, double& out) {
  std::string copy(s);
  char* end = nullptr;
  out = std::strtod(copy.c_str(), &end);
  return !copy.empty() && end == copy.c_str() + copy.size();
}

// Calls `row(fields, line_no)` for every data line; the header's columns go to `header`.
template <typename F>
Status ForEachRow(const std::filesystem::path& path, std::vector<std::string>& header, F row) {
  std::ifstream in(path);
  if (!in) return NotFound(fmt::format("cannot read {}", path.string()));
  std::string line;
  if (!std::getline(in, line)) return InvalidArgument(fmt::format("{}: empty", path.string()));
  for (auto f : SplitCsv(line)) header.emplace_back(f);
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    auto fields = SplitCsv(line);
    THAW_RETURN_IF_ERROR(row(fields, line_no));
  }
  return Status::Ok();
}

int Column(const std::vector<std::string>& header, const std::string& name) {
  auto it = std::find(header.begin(), header.end(), name);
  return it == header.end() ? -1 : static_cast<int>(it - header.begin());
}

}  // namespace

Result<Trace> LoadTrace(const std::filesystem::path& dir, int sample) {
  const auto inv_path = dir / fmt::format("{}_inv.csv", sample);
  const auto run_path = dir / fmt::format("{}_run.csv", sample);
  const auto mem_path = dir / fmt::format("{}_mem.csv", sample);

  // Durations by (app, function).
  std::map<std::pair<std::string, std::string>, int64_t> duration_us;
  std::vector<std::string> run_header;
  THAW_RETURN_IF_ERROR(ForEachRow(run_path, run_header, [&](const auto& f, int line) -> Status {
    int avg = Column(run_header, "Average");
    double ms = 0;
    if (avg < 0 || f.size() <= static_cast<size_t>(avg) || !ParseDouble(f[avg], ms)) {
      return InvalidArgument(fmt::format("{}:{}: no Average", run_path.string(), line));
    }
    duration_us[{std::string(f[1]), std::string(f[0])}] =
        std::max<int64_t>(1000, static_cast<int64_t>(ms * 1000));
    return Status::Ok();
  }));

  std::map<std::string, int64_t> memory_mb;
  std::vector<std::string> mem_header;
  THAW_RETURN_IF_ERROR(ForEachRow(mem_path, mem_header, [&](const auto& f, int line) -> Status {
    int avg = Column(mem_header, "AverageAllocatedMb");
    double mb = 0;
    if (avg < 0 || f.size() <= static_cast<size_t>(avg) || !ParseDouble(f[avg], mb)) {
      return InvalidArgument(fmt::format("{}:{}: no AverageAllocatedMb", mem_path.string(), line));
    }
    memory_mb[std::string(f[0])] = std::max<int64_t>(1, static_cast<int64_t>(mb));
    return Status::Ok();
  }));

  Trace trace;
  std::map<std::string, AppTrace> apps;
  std::vector<std::string> inv_header;
  THAW_RETURN_IF_ERROR(ForEachRow(inv_path, inv_header, [&](const auto& f, int line) -> Status {
    if (inv_header.size() < 4 || f.size() != inv_header.size()) {
      return InvalidArgument(fmt::format("{}:{}: {} columns, header has {}", inv_path.string(),
                                         line, f.size(), inv_header.size()));
    }
    FunctionTrace fn;
    fn.hash = std::string(f[0]);
    std::string app(f[1]);
    auto d = duration_us.find({app, fn.hash});
    fn.duration_us = d == duration_us.end() ? 1000 : d->second;
    fn.per_minute.reserve(f.size() - 3);
    for (size_t i = 3; i < f.size(); ++i) {
      uint32_t n = 0;
      auto [p, ec] = std::from_chars(f[i].data(), f[i].data() + f[i].size(), n);
      if (ec != std::errc() || p != f[i].data() + f[i].size()) {
        return InvalidArgument(fmt::format("{}:{}: bad count '{}'", inv_path.string(), line, f[i]));
      }
      fn.per_minute.push_back(n);
      trace.invocations += n;
    }
    AppTrace& a = apps[app];
    a.hash = app;
    a.functions.push_back(std::move(fn));
    return Status::Ok();
  }));
  trace.minutes = static_cast<int>(inv_header.size()) - 3;
  for (auto& [hash, app] : apps) {
    auto m = memory_mb.find(hash);
    app.memory_mb = m == memory_mb.end() ? kDefaultMemoryMb : m->second;
    trace.apps.push_back(std::move(app));
  }
  return trace;
}

}  // namespace thaw::sim
