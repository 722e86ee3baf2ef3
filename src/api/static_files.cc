#include "api/static_files.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

namespace thaw::api {
namespace fs = std::filesystem;
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    int hi = HexValue(in[i + 1]);
    int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string_view Extension(std::string_view name) {
  size_t slash = name.rfind('/');
  std::string_view last = slash == std::string_view::npos ? name : name.substr(slash + 1);
  size_t dot = last.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return {};
  return last.substr(dot + 1);
}

Response TextResponse(const Request& req, http::status status, std::string body) {
  Response res{status, req.version()};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::optional<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  return data;
}

// The file's canonical path when it is a regular file under `root` (canonical), else nullopt.
std::optional<fs::path> ContainedRegularFile(const fs::path& root, const fs::path& candidate) {
  std::error_code ec;
  fs::path real = fs::canonical(candidate, ec);
  if (ec || !fs::is_regular_file(real, ec) || ec) return std::nullopt;
  auto [root_end, real_it] = std::mismatch(root.begin(), root.end(), real.begin(), real.end());
  if (root_end != root.end()) return std::nullopt;
  return real;
}

}  // namespace

bool IsConsoleTarget(std::string_view target) {
  if (target.substr(0, kConsolePrefix.size()) != kConsolePrefix) return false;
  return target.size() == kConsolePrefix.size() || target[kConsolePrefix.size()] == '/' ||
         target[kConsolePrefix.size()] == '?';
}

std::optional<std::string> ConsoleRelativePath(std::string_view target) {
  size_t query = target.find_first_of("?#");
  if (query != std::string_view::npos) target = target.substr(0, query);
  if (target.substr(0, kConsolePrefix.size()) != kConsolePrefix) return std::nullopt;
  target.remove_prefix(kConsolePrefix.size());
  if (target.empty() || target.front() != '/') return std::nullopt;
  std::optional<std::string> decoded = PercentDecode(target.substr(1));
  if (!decoded) return std::nullopt;
  std::string out;
  std::string_view rest = *decoded;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (segment.empty()) continue;  // "//" collapses
    if (segment == "." || segment == "..") return std::nullopt;
    if (segment.find('\0') != std::string_view::npos ||
        segment.find('\\') != std::string_view::npos) {
      return std::nullopt;
    }
    if (!out.empty()) out.push_back('/');
    out.append(segment);
  }
  if (out.empty()) return std::string("index.html");
  return out;
}

std::string_view ContentTypeFor(std::string_view file_name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kTypes = {{
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"ico", "image/x-icon"},
      {"webp", "image/webp"},
      {"woff2", "font/woff2"},
      {"woff", "font/woff"},
      {"txt", "text/plain; charset=utf-8"},
  }};
  std::string_view ext = Extension(file_name);
  for (const auto& [e, type] : kTypes) {
    if (ext.size() == e.size() && std::equal(ext.begin(), ext.end(), e.begin(), [](char a, char b) {
          return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b;
        })) {
      return type;
    }
  }
  return "application/octet-stream";
}

bool FallsBackToIndex(std::string_view relative) { return Extension(relative).empty(); }

StaticFiles::StaticFiles(fs::path root) : root_(std::move(root)) {
  std::error_code ec;
  fs::path canonical = fs::canonical(root_, ec);
  if (!ec) root_ = std::move(canonical);
}

bool StaticFiles::Available() const {
  std::error_code ec;
  return fs::is_regular_file(root_ / "index.html", ec);
}

Response StaticFiles::Serve(const Request& req) const {
  std::string_view target(req.target().data(), req.target().size());
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (path == kConsolePrefix) {
    Response res{http::status::moved_permanently, req.version()};
    res.set(http::field::location, "/console/");
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
  }
  std::optional<std::string> relative = ConsoleRelativePath(target);
  if (!relative) return TextResponse(req, http::status::not_found, "Not found.\n");
  if (!Available()) {
    return TextResponse(req, http::status::service_unavailable,
                        "The console is not built: no index.html in " + root_.string() +
                            " (build the thaw_console target, or pass --console-dir).\n");
  }
  std::optional<fs::path> file = ContainedRegularFile(root_, root_ / *relative);
  if (!file && FallsBackToIndex(*relative)) {
    relative = "index.html";
    file = ContainedRegularFile(root_, root_ / *relative);
  }
  if (!file) return TextResponse(req, http::status::not_found, "Not found.\n");
  std::optional<std::string> data = ReadFile(*file);
  if (!data) return TextResponse(req, http::status::not_found, "Not found.\n");

  Response res{http::status::ok, req.version()};
  res.set(http::field::content_type, std::string(ContentTypeFor(*relative)));
  // Vite names the bundles by content hash under assets/: they never change; index.html must be
  // revalidated so a rebuilt console is picked up.
  res.set(http::field::cache_control,
          relative->rfind("assets/", 0) == 0 ? "public, max-age=31536000, immutable" : "no-cache");
  res.set("X-Content-Type-Options", "nosniff");
  // The page holds the user's keys (sessionStorage): it runs only its own scripts, talks only to
  // this origin and is never framed.
  res.set("Content-Security-Policy", std::string(kConsoleCsp));
  res.keep_alive(req.keep_alive());
  res.body() = std::move(*data);
  res.prepare_payload();
  return res;
}

}  // namespace thaw::api
