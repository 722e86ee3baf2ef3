#include "cli/invoke.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>

namespace thaw::cli {

Result<std::string> ReadRequestBody(const std::optional<std::string>& body, const std::string& file,
                                    std::istream& in) {
  if (body) return *body;
  if (!file.empty()) {
    std::ifstream f(file, std::ios::binary);
    if (!f) return InvalidArgument("cannot read --file " + file);
    std::ostringstream content;
    content << f.rdbuf();
    if (f.bad()) return InvalidArgument("cannot read --file " + file);
    return content.str();
  }
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string FormatTiming(int index, double millis, int http_status) {
  return fmt::format("invoke {}: {:.2f} ms (HTTP {})", index, millis, http_status);
}

std::string FormatTimingSummary(std::vector<double> millis) {
  if (millis.size() < 2) return {};
  std::sort(millis.begin(), millis.end());
  return fmt::format("invoke: {} calls, min {:.2f} ms, median {:.2f} ms, max {:.2f} ms",
                     millis.size(), millis.front(), millis[millis.size() / 2], millis.back());
}

int RunInvoke(const ClientOptions& options, const std::optional<std::string>& body,
              SageMakerClient& client, Console& console, std::istream& in) {
  Result<std::string> payload = ReadRequestBody(body, options.file, in);
  if (!payload.ok()) {
    console.err << "error: " << payload.status().message() << "\n";
    return 1;
  }
  std::vector<double> times;
  for (int64_t i = 1; i <= options.repeat; ++i) {
    const auto start = std::chrono::steady_clock::now();
    ApiResult<InvokeResponse> res =
        client.Invoke(options.name, *payload, options.content_type, options.accept);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (options.time && (res.ok() || res.error().http_status != 0)) {
      console.err << FormatTiming(static_cast<int>(i), ms,
                                  res.ok() ? res->http_status : res.error().http_status)
                  << "\n";
    }
    if (!res.ok()) {
      console.out << std::flush;
      console.err << FormatError(res.error()) << "\n";
      return 1;
    }
    times.push_back(ms);
    console.out.write(res->body.data(), static_cast<std::streamsize>(res->body.size()));
  }
  console.out << std::flush;
  if (options.time) {
    if (std::string summary = FormatTimingSummary(times); !summary.empty()) {
      console.err << summary << "\n";
    }
  }
  return 0;
}

}  // namespace thaw::cli
