#include "artifacts/s3_url.h"

#include <charconv>

#include "artifacts/entry_path.h"
#include "auth/sigv4.h"

namespace thaw::artifacts {
namespace {

constexpr size_t kMaxS3KeyBytes = 1024;  // the S3 limit
constexpr size_t kMaxBucketBytes = 255;  // legacy us-east-1 names; current rules say 63

bool IsBucketChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

}  // namespace

Result<S3Object> ParseS3Url(std::string_view url) {
  if (url.size() < 5 || (url.substr(0, 5) != "s3://" && url.substr(0, 5) != "S3://")) {
    return InvalidArgument("the URL " + QuoteEntryName(url) + " is not an s3:// URL");
  }
  const std::string_view rest = url.substr(std::string_view("s3://").size());
  const size_t slash = rest.find('/');
  const std::string_view bucket = rest.substr(0, slash);
  const std::string_view key =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  if (bucket.empty()) {
    return InvalidArgument("the model data URL " + QuoteEntryName(url) + " has no bucket name");
  }
  bool bucket_ok = bucket.size() <= kMaxBucketBytes && bucket != "." && bucket != "..";
  for (char c : bucket) bucket_ok = bucket_ok && IsBucketChar(c);
  if (!bucket_ok) {
    return InvalidArgument("the model data URL " + QuoteEntryName(url) +
                           " has an invalid bucket name " + QuoteEntryName(bucket));
  }
  if (key.empty()) {
    return InvalidArgument("the model data URL " + QuoteEntryName(url) +
                           " has no object key; name the model.tar.gz object");
  }
  if (key.size() > kMaxS3KeyBytes) {
    return InvalidArgument("the object key of the model data URL is longer than " +
                           std::to_string(kMaxS3KeyBytes) + " bytes");
  }
  // Every segment must be a plain name: "", "." and ".." would leave the bucket's directory or
  // name a path the local store cannot hold.
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    const std::string_view segment = key.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return InvalidArgument("the object key " + QuoteEntryName(key) + " of the model data URL " +
                             "has an empty, \".\" or \"..\" segment, which is not supported");
    }
    start = end + 1;
  }
  return S3Object{std::string(bucket), std::string(key)};
}

Result<S3Endpoint> ParseS3Endpoint(std::string_view url) {
  const auto invalid = [&](std::string_view why) {
    return InvalidArgument("--s3-endpoint " + QuoteEntryName(url) + ": " + std::string(why) +
                           "; expected http://host[:port], e.g. http://127.0.0.1:4568");
  };
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    return invalid("https endpoints are not supported yet (TLS is not built into the fetcher)");
  } else {
    return invalid("not an http:// URL");
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@ ") != std::string_view::npos) {
    return invalid("only a host and a port may follow the scheme (path-style requests)");
  }
  S3Endpoint e;
  e.url = "http://" + std::string(rest);
  e.host_header = std::string(rest);
  std::string_view host = rest;
  std::string_view port;
  if (rest.starts_with("[")) {  // [IPv6]:port
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return invalid("unterminated IPv6 address");
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return invalid("junk after the IPv6 address");
      port = rest.substr(close + 2);
    }
  } else if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty()) return invalid("no host");
  e.host = std::string(host);
  if (!port.empty() || rest.ends_with(":")) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
      return invalid("invalid port");
    }
    e.port = static_cast<uint16_t>(value);
    if (value == 80) {  // botocore leaves the default port out of Host
      e.host_header = rest.starts_with("[") ? "[" + e.host + "]" : e.host;
    }
  }
  return e;
}

std::string PathStyleTarget(const S3Object& object) {
  return "/" + auth::UriEncode(object.bucket, "") + "/" + auth::UriEncode(object.key, "/");
}

}  // namespace thaw::artifacts
