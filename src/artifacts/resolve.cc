#include "artifacts/resolve.h"

#include <string>
#include <system_error>

#include "artifacts/entry_path.h"
#include "artifacts/s3_url.h"

namespace thaw::artifacts {
namespace fs = std::filesystem;

namespace {

constexpr char kUseSupported[] = "use s3://, file:// or an absolute path";

bool IsSchemeChar(char c, bool first) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (first) return alpha;
  return alpha || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

// The scheme of "scheme://...", lower-cased, or "" when `url` does not start with one.
std::string SchemeOf(std::string_view url) {
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return "";
  std::string scheme;
  for (size_t i = 0; i < sep; ++i) {
    if (!IsSchemeChar(url[i], i == 0)) return "";
    scheme.push_back(
        static_cast<char>(url[i] >= 'A' && url[i] <= 'Z' ? url[i] - 'A' + 'a' : url[i]));
  }
  return scheme;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<fs::path> FilePath(std::string_view url) {
  std::string_view rest = url.substr(std::string_view("file://").size());
  const size_t slash = rest.find('/');
  const std::string_view host = rest.substr(0, slash);
  if (slash == std::string_view::npos || (!host.empty() && host != "localhost")) {
    return InvalidArgument(
        "file:// model data URLs must name a local absolute path, as in "
        "file:///models/model.tar.gz; got " +
        QuoteEntryName(url));
  }
  std::string path;
  for (size_t i = slash; i < rest.size(); ++i) {
    if (rest[i] != '%') {
      path.push_back(rest[i]);
      continue;
    }
    const int hi = i + 2 < rest.size() ? HexValue(rest[i + 1]) : -1;
    const int lo = hi >= 0 ? HexValue(rest[i + 2]) : -1;
    if (lo < 0 || (hi == 0 && lo == 0)) {
      return InvalidArgument("the model data URL " + QuoteEntryName(url) +
                             " has an invalid %-escape");
    }
    path.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return fs::path(path);
}

Result<fs::path> S3Path(std::string_view url, const fs::path& s3_root) {
  THAW_ASSIGN_OR_RETURN(S3Object object, ParseS3Url(url));
  return s3_root / object.bucket / object.key;
}

}  // namespace

Result<fs::path> ResolveLocal(std::string_view url, const fs::path& s3_root) {
  if (url.empty())
    return InvalidArgument(std::string("the model data URL is empty; ") + kUseSupported);
  if (url.find('\0') != std::string_view::npos) {
    return InvalidArgument("the model data URL contains a NUL byte");
  }
  fs::path path;
  const std::string scheme = SchemeOf(url);
  if (url.front() == '/') {
    path = fs::path(std::string(url));
  } else if (scheme == "file") {  // schemes are case-insensitive (RFC 3986)
    THAW_ASSIGN_OR_RETURN(path, FilePath(url));
  } else if (scheme == "s3") {
    THAW_ASSIGN_OR_RETURN(path, S3Path(url, s3_root));
  } else if (!scheme.empty()) {
    return InvalidArgument(scheme + ":// model data URLs are not supported; " + kUseSupported);
  } else {
    return InvalidArgument("the model data URL " + QuoteEntryName(url) +
                           " is neither an absolute path nor a URL; " + kUseSupported);
  }

  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) {
    std::string message = "model data " + QuoteEntryName(url) + " does not exist";
    if (url.front() != '/') message += " (looked for " + QuoteEntryName(path.string()) + ")";
    return NotFound(message);
  }
  if (ec) {
    return FailedPrecondition("cannot access model data " + QuoteEntryName(url) + ": " +
                              ec.message());
  }
  if (fs::is_directory(st)) {
    return InvalidArgument("model data " + QuoteEntryName(url) +
                           " is a directory; it must be a model.tar.gz file");
  }
  return path;
}

}  // namespace thaw::artifacts
