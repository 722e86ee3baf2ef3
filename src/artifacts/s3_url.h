#pragma once
// s3://bucket/key URLs and the S3-compatible endpoint thaw may fetch them from.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace thaw::artifacts {

struct S3Object {
  std::string bucket;
  std::string key;
};

// Parses "s3://bucket/key/with/slashes". The bucket must be a plain name ([A-Za-z0-9._-], not
// "." or ".."), the key non-empty, at most 1024 bytes, without empty, "." or ".." segments — so
// the object can never name a file outside its bucket's directory in the embedded store, and a
// remote request path cannot be rewritten by dot-segment removal. InvalidArgument otherwise.
Result<S3Object> ParseS3Url(std::string_view url);

// Where --s3-endpoint points: "http://host[:port]" (https is refused: not built yet).
struct S3Endpoint {
  std::string url;   // as given, without a trailing '/'
  std::string host;  // name or address to connect to (IPv6 without brackets)
  uint16_t port = 80;
  std::string host_header;  // what the Host header (and so the signature) carries
};

// InvalidArgument for anything but http://host[:port] with an optional trailing "/".
Result<S3Endpoint> ParseS3Endpoint(std::string_view url);

// The path-style request target "/bucket/key" with the key percent-encoded as S3 canonicalises
// it (every byte but A-Z a-z 0-9 - _ . ~ and '/').
std::string PathStyleTarget(const S3Object& object);

}  // namespace thaw::artifacts
