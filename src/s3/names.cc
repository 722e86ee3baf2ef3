#include "s3/names.h"

#include <algorithm>
#include <cctype>

namespace thaw::s3 {
namespace {

bool IsIpv4(std::string_view s) {
  int dots = 0;
  for (char c : s) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> FormDecode(std::string_view s) {
  std::string plus(s);
  std::replace(plus.begin(), plus.end(), '+', ' ');
  return PercentDecode(plus);
}

}  // namespace

Status S3Error(std::string_view s3_code, Code code, std::string_view message) {
  return Status(code, std::string(s3_code) + ": " + std::string(message));
}

Status ValidateBucketName(std::string_view name) {
  auto bad = [&] {
    return S3Error("InvalidBucketName", Code::kInvalidArgument,
                   "The specified bucket is not valid.");
  };
  if (name.size() < 3 || name.size() > 63) return bad();
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return bad();
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return bad();
  if (name.find("..") != name.npos || IsIpv4(name)) return bad();
  return Status::Ok();
}

Status ValidateKey(std::string_view key) {
  auto bad = [](std::string_view why) {
    return S3Error("InvalidArgument", Code::kInvalidArgument,
                   "Object key not supported by this store: " + std::string(why));
  };
  if (key.empty()) return bad("empty key");
  if (key.size() > 1024) {
    return S3Error("KeyTooLongError", Code::kInvalidArgument, "Your key is too long");
  }
  if (key.find('\0') != key.npos) return bad("NUL byte");
  if (key.find('\\') != key.npos) return bad("backslash");
  if (key.front() == '/') return bad("absolute key");
  if (key.back() == '/') return bad("a key ending in '/' (folder markers are not stored)");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == key.npos) end = key.size();
    std::string_view seg = key.substr(start, end - start);
    if (seg.empty()) return bad("empty path segment");
    if (seg == "." || seg == "..") return bad("'.' or '..' segment");
    if (seg.size() > 255) return bad("path segment over 255 bytes");
    start = end + 1;
  }
  return Status::Ok();
}

std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::map<std::string, std::string> ParseForm(std::string_view body) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('&', start);
    if (end == body.npos) end = body.size();
    std::string_view pair = body.substr(start, end - start);
    size_t eq = pair.find('=');
    auto k = FormDecode(pair.substr(0, eq));
    auto v = FormDecode(eq == pair.npos ? std::string_view() : pair.substr(eq + 1));
    if (k && v) out[*k] = *v;
    start = end + 1;
  }
  return out;
}

Result<S3Route> Route(std::string_view method, std::string_view target, std::string_view host,
                      bool has_copy_source,
                      const std::function<bool(std::string_view)>& bucket_exists) {
  S3Route r;
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  std::string_view raw_query = q == target.npos ? std::string_view() : target.substr(q + 1);
  auto invalid_uri = [] {
    return S3Error("InvalidURI", Code::kInvalidArgument, "Couldn't parse the specified URI.");
  };
  size_t start = 0;
  while (start < raw_query.size()) {
    size_t end = raw_query.find('&', start);
    if (end == raw_query.npos) end = raw_query.size();
    std::string_view pair = raw_query.substr(start, end - start);
    size_t eq = pair.find('=');
    auto k = PercentDecode(pair.substr(0, eq));
    auto v = PercentDecode(eq == pair.npos ? std::string_view() : pair.substr(eq + 1));
    if (!k || !v) return invalid_uri();
    r.query[*k] = *v;
    start = end + 1;
  }
  auto path = PercentDecode(raw_path);
  if (!path || path->empty() || path->front() != '/') return invalid_uri();

  // Virtual-host style: the bucket is the Host's first label.
  std::string h(host);
  if (!h.empty() && h.front() == '[') {
    h.clear();  // an IPv6 literal
  } else if (size_t colon = h.rfind(':'); colon != h.npos) {
    h.resize(colon);
  }
  for (char& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string vhost_bucket;
  if (!h.empty() && !IsIpv4(h)) {
    size_t dot = h.find('.');
    if (dot != h.npos && dot > 0) {
      std::string first = h.substr(0, dot);
      if (h.ends_with(".localhost") || bucket_exists(first)) vhost_bucket = first;
    }
  }
  std::string rest = path->substr(1);
  if (!vhost_bucket.empty()) {
    r.bucket = vhost_bucket;
    r.key = rest;
  } else {
    size_t slash = rest.find('/');
    r.bucket = rest.substr(0, slash);
    r.key = slash == rest.npos ? std::string() : rest.substr(slash + 1);
  }
  // A bucket name reaches the file system: it must be one plain directory name whatever the rules
  // CreateBucket enforces.
  if (!r.bucket.empty()) {
    if (r.bucket == "." || r.bucket == ".." || r.bucket.front() == '.' ||
        r.bucket.find_first_of("/\\") != std::string::npos ||
        r.bucket.find('\0') != std::string::npos || r.bucket.size() > 255) {
      return S3Error("InvalidBucketName", Code::kInvalidArgument,
                     "The specified bucket is not valid.");
    }
  }
  auto has = [&](const char* name) { return r.query.count(name) > 0; };
  if (r.bucket.empty()) {
    r.op = method == "GET" ? Op::kListBuckets : Op::kUnsupported;
    r.unsupported = std::string(method) + " /";
    return r;
  }
  if (r.key.empty()) {
    if (method == "PUT" && r.query.empty()) {
      r.op = Op::kCreateBucket;
    } else if (method == "HEAD" && r.query.empty()) {
      r.op = Op::kHeadBucket;
    } else if (method == "DELETE" && r.query.empty()) {
      r.op = Op::kDeleteBucket;
    } else if (method == "GET" && has("location")) {
      r.op = Op::kGetBucketLocation;
    } else if (method == "POST" && has("delete")) {
      r.op = Op::kDeleteObjects;
    } else if (method == "GET" && !has("uploads") && !has("versions") && !has("policy") &&
               !has("acl") && !has("tagging") && !has("versioning") && !has("cors") &&
               !has("lifecycle") && !has("encryption") && !has("website") && !has("logging")) {
      r.op = Op::kListObjects;
    } else {
      r.op = Op::kUnsupported;
      std::string sub;
      for (const auto& [k, v] : r.query) sub += (sub.empty() ? "?" : "&") + k;
      r.unsupported = std::string(method) + " bucket" + sub;
    }
    return r;
  }
  THAW_RETURN_IF_ERROR(ValidateKey(r.key));
  if (method == "PUT") {
    if (has("partNumber") && has("uploadId")) {
      r.op = Op::kUploadPart;
    } else if (r.query.empty() || (r.query.size() == 1 && has("x-id"))) {
      r.op = has_copy_source ? Op::kCopyObject : Op::kPutObject;
    }
  } else if (method == "GET") {
    if (has("uploadId")) {
      r.op = Op::kListParts;
    } else if (!has("acl") && !has("tagging") && !has("torrent") && !has("attributes")) {
      r.op = Op::kGetObject;
    }
  } else if (method == "HEAD") {
    r.op = Op::kHeadObject;
  } else if (method == "DELETE") {
    r.op = has("uploadId") ? Op::kAbortMultipartUpload : Op::kDeleteObject;
  } else if (method == "POST") {
    if (has("uploads")) {
      r.op = Op::kCreateMultipartUpload;
    } else if (has("uploadId")) {
      r.op = Op::kCompleteMultipartUpload;
    }
  }
  if (r.op == Op::kUnsupported) {
    std::string sub;
    for (const auto& [k, v] : r.query) sub += (sub.empty() ? "?" : "&") + k;
    r.unsupported = std::string(method) + " object" + sub;
  }
  return r;
}

}  // namespace thaw::s3
