#pragma once
// Pure request → decision logic of the embedded S3 subset: bucket-name and key validation (no key
// may name a file outside its bucket's directory), path- and virtual-host-style addressing, the
// query string, and which operation a request is. No I/O.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace thaw::s3 {

// An S3-shaped failure: a Status whose message starts with the S3 error code and ": "
// ("NoSuchBucket: The specified bucket does not exist"). api/error_table.cc maps the code (the one
// table); the generic Code is what other protocols would see.
Status S3Error(std::string_view s3_code, Code code, std::string_view message);

// S3's rules for new buckets: 3-63 characters of [a-z0-9.-], starting and ending with a letter or
// digit, no "..", not shaped like an IPv4 address. InvalidBucketName otherwise.
Status ValidateBucketName(std::string_view name);

// A key thaw can store as a file under its bucket: 1-1024 bytes, no NUL or backslash, not
// starting with '/', no empty, "." or ".." segment (after percent-decoding: the caller decodes
// once), no segment over 255 bytes, no trailing '/'. InvalidArgument / KeyTooLongError otherwise.
Status ValidateKey(std::string_view key);

// %XX decoding (once); nullopt for a malformed escape. '+' stays '+' (S3 paths).
std::optional<std::string> PercentDecode(std::string_view s);

enum class Op {
  kListBuckets,
  kCreateBucket,
  kHeadBucket,
  kDeleteBucket,
  kGetBucketLocation,
  kListObjects,  // V1 and V2 (list-type=2)
  kPutObject,
  kCopyObject,
  kGetObject,
  kHeadObject,
  kDeleteObject,
  kDeleteObjects,
  kCreateMultipartUpload,
  kUploadPart,
  kCompleteMultipartUpload,
  kAbortMultipartUpload,
  kListParts,
  kUnsupported,
};

struct S3Route {
  Op op = Op::kUnsupported;
  std::string bucket;                        // "" for ListBuckets
  std::string key;                           // decoded
  std::map<std::string, std::string> query;  // decoded names and values
  std::string unsupported;                   // what was asked, for NotImplemented
};

// Routes one request. `host` is the Host header (with port); `bucket_exists` tells whether a
// bucket is present (used for virtual-host style on hosts other than *.localhost). Virtual-host
// style when the host is not an IP literal and either ends in ".localhost" or its first label
// names an existing bucket; path style otherwise. Errors: InvalidURI for a malformed escape,
// InvalidBucketName / InvalidArgument from the validators (CreateBucket checks the full rules;
// other operations only that the name cannot leave the tree).
Result<S3Route> Route(std::string_view method, std::string_view target, std::string_view host,
                      bool has_copy_source,
                      const std::function<bool(std::string_view)>& bucket_exists);

// application/x-www-form-urlencoded pairs ('+' is a space), decoded.
std::map<std::string, std::string> ParseForm(std::string_view body);

}  // namespace thaw::s3
