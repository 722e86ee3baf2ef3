#include "api/s3_api.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/beast/core/string.hpp>
#include <chrono>
#include <ctime>

#include "api/error_table.h"
#include "common/blocking.h"
#include "common/hash.h"
#include "common/logging.h"
#include "common/time_format.h"
#include "common/xml.h"
#include "s3/aws_chunked.h"
#include "s3/names.h"

namespace thaw::api {
namespace {

constexpr char kXmlns[] = "http://s3.amazonaws.com/doc/2006-03-01/";
constexpr char kUnsigned[] = "UNSIGNED-PAYLOAD";
constexpr char kStreamingSigned[] = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
constexpr char kStreamingSignedTrailer[] = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
constexpr char kStreamingUnsignedTrailer[] = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

std::string_view Sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

std::string Header(const Request& r, std::string_view name) {
  auto it = r.find(boost::beast::string_view(name.data(), name.size()));
  return it == r.end() ? std::string() : std::string(Sv(it->value()));
}

std::string XmlUnescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    size_t semi = s.find(';', i);
    std::string_view ent = s.substr(i + 1, semi == s.npos ? 0 : semi - i - 1);
    if (ent == "amp")
      out.push_back('&');
    else if (ent == "lt")
      out.push_back('<');
    else if (ent == "gt")
      out.push_back('>');
    else if (ent == "quot")
      out.push_back('"');
    else if (ent == "apos")
      out.push_back('\'');
    else {
      out.push_back('&');
      continue;
    }
    i = semi;
  }
  return out;
}

// Every <tag>…</tag> text in `xml` (flat scan: S3's request documents are shallow).
std::vector<std::string> XmlValues(std::string_view xml, std::string_view tag) {
  std::vector<std::string> out;
  std::string open = "<" + std::string(tag) + ">", close = "</" + std::string(tag) + ">";
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != xml.npos) {
    size_t start = pos + open.size();
    size_t end = xml.find(close, start);
    if (end == xml.npos) break;
    out.push_back(XmlUnescape(xml.substr(start, end - start)));
    pos = end + close.size();
  }
  return out;
}

std::string HttpDate(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return {buf, n};
}

std::string IsoMillis(std::chrono::system_clock::time_point t) {
  return FormatIso8601(std::chrono::time_point_cast<std::chrono::microseconds>(t), true);
}

Response Reply(const Request& req, http::status status, std::string body = {}) {
  Response res{status, req.version()};
  if (!body.empty()) {
    res.set(http::field::content_type, "application/xml");
    res.body() = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + body;
  }
  res.keep_alive(req.keep_alive());
  return res;
}

Response S3Failure(const Status& st, const Request& req, const std::string& request_id) {
  return ErrorResponse(st, Protocol::kS3, req, request_id);
}

// Content-Type and x-amz-meta-* of a write request.
s3::ObjectMeta MetaFromHeaders(const Request& req) {
  s3::ObjectMeta meta;
  std::string ct = Header(req, "Content-Type");
  if (!ct.empty()) meta.content_type = ct;
  for (const auto& field : req) {
    std::string name(Sv(field.name_string()));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name.rfind("x-amz-meta-", 0) == 0) {
      meta.user_meta.emplace_back(name.substr(11), std::string(Sv(field.value())));
    }
  }
  return meta;
}

void SetObjectHeaders(Response& res, const s3::ObjectMeta& meta) {
  res.set(http::field::etag, "\"" + meta.etag + "\"");
  res.set(http::field::last_modified, HttpDate(meta.last_modified));
  res.set(http::field::content_type, meta.content_type);
  res.set(http::field::accept_ranges, "bytes");
  for (const auto& [k, v] : meta.user_meta) res.set("x-amz-meta-" + k, v);
}

// A PUT body on its way to a temporary file: aws-chunked decoding and chunk signatures,
// SHA-256 / MD5 checks happen at the end (Finish) in the handler.
class UploadSink : public BodySink {
 public:
  UploadSink(std::unique_ptr<s3::Upload> upload, std::unique_ptr<s3::AwsChunkedDecoder> decoder)
      : upload_(std::move(upload)), decoder_(std::move(decoder)) {}
  void Write(std::string_view data) override {
    if (!status_.ok()) return;
    status_ = decoder_ ? decoder_->Feed(data) : upload_->Write(data);
  }
  // Called by the decoder with decoded bytes.
  Status WriteDecoded(std::string_view data) { return upload_->Write(data); }
  void SetDecoder(std::unique_ptr<s3::AwsChunkedDecoder> d) { decoder_ = std::move(d); }
  void Fail(Status st) {
    if (status_.ok()) status_ = std::move(st);
  }
  Status Finish() {
    if (status_.ok() && decoder_) status_ = decoder_->Finish();
    return status_;
  }
  s3::Upload* upload() { return upload_.get(); }
  const s3::AwsChunkedDecoder* decoder() const { return decoder_.get(); }

 private:
  std::unique_ptr<s3::Upload> upload_;
  std::unique_ptr<s3::AwsChunkedDecoder> decoder_;
  Status status_;
};

// A body nobody wants (a refused or failed request): read and dropped.
class DiscardSink : public BodySink {
 public:
  explicit DiscardSink(Status st) : status_(std::move(st)) {}
  void Write(std::string_view) override {}
  const Status& status() const { return status_; }

 private:
  Status status_;
};

bool IsLowerHex64(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == s.npos;
}

// The body of a string-bodied request must match a hex x-amz-content-sha256.
Status CheckStringPayload(const Request& req) {
  std::string sha = Header(req, "x-amz-content-sha256");
  if (IsLowerHex64(sha) && Sha256Hex(req.body()) != sha) {
    return s3::S3Error("XAmzContentSHA256Mismatch", Code::kInvalidArgument,
                       "The provided 'x-amz-content-sha256' header does not match what was "
                       "computed.");
  }
  return Status::Ok();
}

}  // namespace

std::string SignedService(const Request& req) {
  std::string auth = Header(req, "Authorization");
  if (!auth.empty()) {
    auto parsed = auth::ParseAuthorization(auth);
    return parsed ? parsed->service : std::string();
  }
  std::string_view target = Sv(req.target());
  size_t pos = target.find("X-Amz-Credential=");
  if (pos == target.npos) return {};
  std::string_view cred = target.substr(pos + 17, target.find('&', pos) - pos - 17);
  auto decoded = s3::PercentDecode(cred);
  if (!decoded) return {};
  // key/date/region/service/aws4_request
  size_t end = decoded->rfind('/');
  size_t start = end == std::string::npos ? end : decoded->rfind('/', end - 1);
  if (start == std::string::npos) return {};
  return decoded->substr(start + 1, end - start - 1);
}

bool IsStsRequest(const Request& req) {
  std::string service = SignedService(req);
  if (service == "sts") return true;
  if (!service.empty() || req.method() != http::verb::post) return false;
  std::string_view target = Sv(req.target());
  if (target != "/") return false;
  return req.body().find("Action=GetCallerIdentity") != std::string::npos;
}

S3Api::S3Api(s3::ObjectStore& store, boost::asio::thread_pool& blocking, Identity identity)
    : store_(store), blocking_(blocking), identity_(std::move(identity)) {}

std::shared_ptr<BodySink> S3Api::Discard() {
  return std::make_shared<DiscardSink>(
      s3::S3Error("AccessDenied", Code::kUnauthenticated, "Access Denied"));
}

std::shared_ptr<BodySink> S3Api::SinkFor(const Request& header,
                                         const auth::Credential* credential) {
  if (header.method() != http::verb::put || header.count("x-amz-copy-source") > 0) return nullptr;
  auto route = s3::Route(Sv(header.method_string()), Sv(header.target()), Header(header, "Host"),
                         false, [this](std::string_view b) { return store_.BucketExists(b); });
  if (!route.ok()) return std::make_shared<DiscardSink>(route.status());
  if (route->op != s3::Op::kPutObject && route->op != s3::Op::kUploadPart) return nullptr;
  Status bucket = store_.CheckBucket(route->bucket);
  if (!bucket.ok()) return std::make_shared<DiscardSink>(bucket);
  auto upload = store_.BeginUpload();
  if (!upload.ok()) return std::make_shared<DiscardSink>(upload.status());
  auto sink = std::make_shared<UploadSink>(std::move(*upload), nullptr);

  std::string sha = Header(header, "x-amz-content-sha256");
  const bool streaming_signed = sha == kStreamingSigned || sha == kStreamingSignedTrailer;
  if (streaming_signed || sha == kStreamingUnsignedTrailer) {
    std::unique_ptr<s3::ChunkSigning> signing;
    if (streaming_signed && credential != nullptr) {
      auto auth = auth::ParseAuthorization(Header(header, "Authorization"));
      if (!auth) {
        sink->Fail(s3::S3Error("AccessDenied", Code::kUnauthenticated,
                               "Streaming signatures need an Authorization header."));
        return sink;
      }
      signing = std::make_unique<s3::ChunkSigning>();
      signing->signing_key = auth::SigningKey(credential->secret_key, *auth);
      signing->amz_date = Header(header, "X-Amz-Date");
      signing->scope = auth->scope();
      signing->seed = auth->signature;
    }
    UploadSink* raw = sink.get();
    sink->SetDecoder(std::make_unique<s3::AwsChunkedDecoder>(
        std::move(signing), [raw](std::string_view d) { return raw->WriteDecoded(d); }));
  }
  return sink;
}

boost::asio::awaitable<Response> S3Api::Handle(Request& req, RequestContext& ctx) {
  co_return co_await RunBlocking(blocking_, [this, &req, &ctx] { return HandleSync(req, ctx); });
}

Response S3Api::HandleSync(Request& req, RequestContext& ctx) {
  const std::string& rid = ctx.request_id;
  auto fail = [&](const Status& st) { return S3Failure(st, req, rid); };
  auto route = s3::Route(Sv(req.method_string()), Sv(req.target()), Header(req, "Host"),
                         req.count("x-amz-copy-source") > 0,
                         [this](std::string_view b) { return store_.BucketExists(b); });
  if (!route.ok()) return fail(route.status());
  const s3::S3Route& r = *route;
  if (auto* discard = dynamic_cast<DiscardSink*>(ctx.body_sink.get())) {
    return fail(discard->status());
  }
  if (!ctx.body_sink) {
    if (Status st = CheckStringPayload(req); !st.ok()) return fail(st);
  }

  switch (r.op) {
    case s3::Op::kListBuckets: {
      auto buckets = store_.ListBuckets();
      if (!buckets.ok()) return fail(buckets.status());
      std::string xml = std::string("<ListAllMyBucketsResult xmlns=\"") + kXmlns +
                        "\"><Owner><ID>" + identity_.account_id + "</ID><DisplayName>" +
                        identity_.account_id + "</DisplayName></Owner><Buckets>";
      for (const auto& b : *buckets) {
        xml += "<Bucket><Name>" + XmlEscaped(b.name) + "</Name><CreationDate>" +
               IsoMillis(b.created) + "</CreationDate></Bucket>";
      }
      xml += "</Buckets></ListAllMyBucketsResult>";
      return Reply(req, http::status::ok, std::move(xml));
    }
    case s3::Op::kCreateBucket: {
      // us-east-1 answers 200 again to its owner (the legacy behaviour clients expect there);
      // every other region BucketAlreadyOwnedByYou.
      std::string location = XmlValues(req.body(), "LocationConstraint").empty()
                                 ? std::string()
                                 : XmlValues(req.body(), "LocationConstraint")[0];
      Status st = store_.CreateBucket(r.bucket);
      if (!st.ok()) {
        const bool owned = st.message().rfind("BucketAlreadyOwnedByYou", 0) == 0;
        if (!(owned && (location.empty() || location == "us-east-1") &&
              identity_.region == "us-east-1")) {
          return fail(st);
        }
      }
      Response res = Reply(req, http::status::ok);
      res.set(http::field::location, "/" + r.bucket);
      return res;
    }
    case s3::Op::kHeadBucket: {
      if (Status st = store_.CheckBucket(r.bucket); !st.ok()) return fail(st);
      Response res = Reply(req, http::status::ok);
      res.set("x-amz-bucket-region", identity_.region);
      return res;
    }
    case s3::Op::kDeleteBucket: {
      if (Status st = store_.DeleteBucket(r.bucket); !st.ok()) return fail(st);
      return Reply(req, http::status::no_content);
    }
    case s3::Op::kGetBucketLocation: {
      if (Status st = store_.CheckBucket(r.bucket); !st.ok()) return fail(st);
      std::string region = identity_.region == "us-east-1" ? "" : identity_.region;
      return Reply(req, http::status::ok,
                   std::string("<LocationConstraint xmlns=\"") + kXmlns + "\">" + region +
                       "</LocationConstraint>");
    }
    case s3::Op::kListObjects: {
      auto get = [&](const char* k) {
        auto it = r.query.find(k);
        return it == r.query.end() ? std::string() : it->second;
      };
      const bool v2 = get("list-type") == "2";
      std::string prefix = get("prefix"), delimiter = get("delimiter");
      size_t max_keys = 1000;
      if (std::string mk = get("max-keys"); !mk.empty()) {
        char* end = nullptr;
        long v = std::strtol(mk.c_str(), &end, 10);
        if (*end != '\0' || v < 0) {
          return fail(s3::S3Error("InvalidArgument", Code::kInvalidArgument,
                                  "Provided max-keys not an integer or within integer range"));
        }
        max_keys = std::min<size_t>(static_cast<size_t>(v), 1000);
      }
      std::string start_after = v2 ? get("start-after") : get("marker");
      std::string token = get("continuation-token");
      if (v2 && !token.empty()) {
        auto decoded = Base64Decode(token);
        if (!decoded) {
          return fail(s3::S3Error("InvalidArgument", Code::kInvalidArgument,
                                  "The continuation token provided is incorrect"));
        }
        start_after = *decoded;
      }
      auto keys = store_.Keys(r.bucket, prefix);
      if (!keys.ok()) return fail(keys.status());
      s3::ListPage page = s3::Paginate(*keys, prefix, delimiter, start_after, max_keys);
      const bool url = get("encoding-type") == "url";
      auto enc = [&](std::string_view s) {
        return XmlEscaped(url ? auth::UriEncode(s, "/") : std::string(s));
      };
      std::string xml = std::string("<ListBucketResult xmlns=\"") + kXmlns + "\"><Name>" +
                        XmlEscaped(r.bucket) + "</Name><Prefix>" + enc(prefix) + "</Prefix>";
      if (v2) {
        xml += "<KeyCount>" + std::to_string(page.keys.size() + page.common_prefixes.size()) +
               "</KeyCount>";
        if (!token.empty())
          xml += "<ContinuationToken>" + XmlEscaped(token) + "</ContinuationToken>";
        if (!get("start-after").empty())
          xml += "<StartAfter>" + enc(get("start-after")) + "</StartAfter>";
        if (page.truncated) {
          xml += "<NextContinuationToken>" + XmlEscaped(Base64Encode(page.next_marker)) +
                 "</NextContinuationToken>";
        }
      } else {
        xml += "<Marker>" + enc(get("marker")) + "</Marker>";
        if (page.truncated && !delimiter.empty()) {
          xml += "<NextMarker>" + enc(page.next_marker) + "</NextMarker>";
        }
      }
      xml += "<MaxKeys>" + std::to_string(max_keys) + "</MaxKeys>";
      if (!delimiter.empty()) xml += "<Delimiter>" + enc(delimiter) + "</Delimiter>";
      if (url) xml += "<EncodingType>url</EncodingType>";
      xml += std::string("<IsTruncated>") + (page.truncated ? "true" : "false") + "</IsTruncated>";
      for (const std::string& key : page.keys) {
        auto meta = store_.Stat(r.bucket, key);
        if (!meta.ok()) continue;  // deleted meanwhile
        xml += "<Contents><Key>" + enc(key) + "</Key><LastModified>" +
               IsoMillis(meta->last_modified) + "</LastModified><ETag>&quot;" + meta->etag +
               "&quot;</ETag><Size>" + std::to_string(meta->size) +
               "</Size><StorageClass>STANDARD</StorageClass></Contents>";
      }
      for (const std::string& p : page.common_prefixes) {
        xml += "<CommonPrefixes><Prefix>" + enc(p) + "</Prefix></CommonPrefixes>";
      }
      xml += "</ListBucketResult>";
      return Reply(req, http::status::ok, std::move(xml));
    }
    case s3::Op::kPutObject:
    case s3::Op::kUploadPart: {
      auto* sink = dynamic_cast<UploadSink*>(ctx.body_sink.get());
      if (sink == nullptr) {
        return fail(Status(Code::kInternal, "InternalError: the body was not streamed"));
      }
      if (Status st = sink->Finish(); !st.ok()) return fail(st);
      s3::Upload& up = *sink->upload();
      std::string sha = Header(req, "x-amz-content-sha256");
      std::string decoded_length = Header(req, "x-amz-decoded-content-length");
      if (sink->decoder() && !decoded_length.empty() &&
          decoded_length != std::to_string(up.size())) {
        return fail(s3::S3Error("IncompleteBody", Code::kInvalidArgument,
                                "You did not provide the number of bytes specified by the "
                                "x-amz-decoded-content-length header."));
      }
      std::string md5 = up.FinishMd5();
      std::string sha_hex = up.FinishSha256();
      if (IsLowerHex64(sha) && sha != sha_hex) {
        return fail(s3::S3Error("XAmzContentSHA256Mismatch", Code::kInvalidArgument,
                                "The provided 'x-amz-content-sha256' header does not match what "
                                "was computed."));
      }
      if (std::string content_md5 = Header(req, "Content-MD5"); !content_md5.empty()) {
        auto want = Base64Decode(content_md5);
        if (!want || want->size() != 16) {
          return fail(s3::S3Error("InvalidDigest", Code::kInvalidArgument,
                                  "The Content-MD5 you specified was invalid."));
        }
        if (*want != md5) {
          return fail(s3::S3Error("BadDigest", Code::kInvalidArgument,
                                  "The Content-MD5 you specified did not match what we received."));
        }
      }
      std::string etag = HexEncode(md5);
      if (r.op == s3::Op::kUploadPart) {
        int part = std::atoi(r.query.at("partNumber").c_str());
        if (part < 1 || part > 10000) {
          return fail(s3::S3Error("InvalidArgument", Code::kInvalidArgument,
                                  "Part number must be an integer between 1 and 10000, inclusive"));
        }
        const std::string& id = r.query.at("uploadId");
        if (Status st = store_.CheckUpload(id, r.bucket, r.key); !st.ok()) return fail(st);
        // CommitPart recomputes nothing: the MD5 was finished above.
        auto committed = store_.CommitPart(up, id, part, etag);
        if (!committed.ok()) return fail(committed.status());
        Response res = Reply(req, http::status::ok);
        res.set(http::field::etag, "\"" + etag + "\"");
        return res;
      }
      s3::ObjectMeta meta = MetaFromHeaders(req);
      meta.etag = etag;
      auto done = store_.Commit(up, r.bucket, r.key, meta);
      if (!done.ok()) return fail(done.status());
      Response res = Reply(req, http::status::ok);
      res.set(http::field::etag, "\"" + done->etag + "\"");
      return res;
    }
    case s3::Op::kCopyObject: {
      std::string source = Header(req, "x-amz-copy-source");
      auto decoded = s3::PercentDecode(source.substr(0, source.find('?')));
      if (!decoded)
        return fail(s3::S3Error("InvalidArgument", Code::kInvalidArgument,
                                "Invalid copy source encoding."));
      std::string src = *decoded;
      if (!src.empty() && src.front() == '/') src.erase(0, 1);
      size_t slash = src.find('/');
      if (slash == std::string::npos) {
        return fail(s3::S3Error("InvalidArgument", Code::kInvalidArgument,
                                "Copy Source must mention the source bucket and key: "
                                "sourcebucket/sourcekey"));
      }
      std::string src_bucket = src.substr(0, slash), src_key = src.substr(slash + 1);
      if (Status st = s3::ValidateKey(src_key); !st.ok()) return fail(st);
      if (src_bucket.empty() || src_bucket.front() == '.' ||
          src_bucket.find('\\') != std::string::npos) {
        return fail(s3::S3Error("InvalidBucketName", Code::kInvalidArgument,
                                "The specified bucket is not valid."));
      }
      std::optional<s3::ObjectMeta> replace;
      if (Header(req, "x-amz-metadata-directive") == "REPLACE") replace = MetaFromHeaders(req);
      auto done = store_.Copy(src_bucket, src_key, r.bucket, r.key, replace);
      if (!done.ok()) return fail(done.status());
      return Reply(req, http::status::ok,
                   std::string("<CopyObjectResult xmlns=\"") + kXmlns + "\"><LastModified>" +
                       IsoMillis(done->last_modified) + "</LastModified><ETag>&quot;" + done->etag +
                       "&quot;</ETag></CopyObjectResult>");
    }
    case s3::Op::kGetObject:
    case s3::Op::kHeadObject: {
      auto opened = store_.Open(r.bucket, r.key);
      if (!opened.ok()) return fail(opened.status());
      auto [fd, meta] = std::move(*opened);
      Response res = Reply(req, http::status::ok);
      SetObjectHeaders(res, meta);
      uint64_t first = 0, length = meta.size;
      if (std::string range = Header(req, "Range"); !range.empty()) {
        auto parsed = s3::ParseRange(range, meta.size);
        if (!parsed.ok()) {
          close(fd);
          Response err = fail(parsed.status());
          err.set(http::field::content_range, "bytes */" + std::to_string(meta.size));
          return err;
        }
        if (*parsed) {
          first = (*parsed)->first;
          length = (*parsed)->second - first + 1;
          res.result(http::status::partial_content);
          res.set(http::field::content_range, "bytes " + std::to_string(first) + "-" +
                                                  std::to_string((*parsed)->second) + "/" +
                                                  std::to_string(meta.size));
        }
      }
      if (r.op == s3::Op::kHeadObject) {
        close(fd);
        ctx.file_reply = FileReply{-1, 0, length};
      } else {
        ctx.file_reply = FileReply{fd, first, length};
      }
      return res;
    }
    case s3::Op::kDeleteObject: {
      if (Status st = store_.Delete(r.bucket, r.key); !st.ok()) return fail(st);
      return Reply(req, http::status::no_content);
    }
    case s3::Op::kDeleteObjects: {
      if (Status st = store_.CheckBucket(r.bucket); !st.ok()) return fail(st);
      const bool quiet = XmlValues(req.body(), "Quiet") == std::vector<std::string>{"true"};
      std::string xml = std::string("<DeleteResult xmlns=\"") + kXmlns + "\">";
      for (const std::string& key : XmlValues(req.body(), "Key")) {
        Status st = s3::ValidateKey(key);
        if (st.ok()) st = store_.Delete(r.bucket, key);
        if (st.ok()) {
          if (!quiet) xml += "<Deleted><Key>" + XmlEscaped(key) + "</Key></Deleted>";
        } else {
          WireError wire = MapError(st.code(), Protocol::kS3);
          std::string code(wire.code);
          if (size_t colon = st.message().find(": "); colon != std::string::npos) {
            code = st.message().substr(0, colon);
          }
          xml += "<Error><Key>" + XmlEscaped(key) + "</Key><Code>" + XmlEscaped(code) +
                 "</Code><Message>" + XmlEscaped(st.message()) + "</Message></Error>";
        }
      }
      xml += "</DeleteResult>";
      return Reply(req, http::status::ok, std::move(xml));
    }
    case s3::Op::kCreateMultipartUpload: {
      auto id = store_.CreateMultipart(r.bucket, r.key, MetaFromHeaders(req));
      if (!id.ok()) return fail(id.status());
      return Reply(req, http::status::ok,
                   std::string("<InitiateMultipartUploadResult xmlns=\"") + kXmlns + "\"><Bucket>" +
                       XmlEscaped(r.bucket) + "</Bucket><Key>" + XmlEscaped(r.key) +
                       "</Key><UploadId>" + *id + "</UploadId></InitiateMultipartUploadResult>");
    }
    case s3::Op::kCompleteMultipartUpload: {
      const std::string& id = r.query.at("uploadId");
      std::vector<std::pair<int, std::string>> parts;
      auto numbers = XmlValues(req.body(), "PartNumber");
      auto etags = XmlValues(req.body(), "ETag");
      if (numbers.size() != etags.size()) {
        return fail(s3::S3Error("MalformedXML", Code::kInvalidArgument,
                                "The XML you provided was not well-formed or did not validate "
                                "against our published schema"));
      }
      for (size_t i = 0; i < numbers.size(); ++i) {
        parts.emplace_back(std::atoi(numbers[i].c_str()), etags[i]);
      }
      auto done = store_.CompleteMultipart(id, r.bucket, r.key, parts);
      if (!done.ok()) return fail(done.status());
      return Reply(req, http::status::ok,
                   std::string("<CompleteMultipartUploadResult xmlns=\"") + kXmlns +
                       "\"><Location>/" + XmlEscaped(r.bucket) + "/" + XmlEscaped(r.key) +
                       "</Location><Bucket>" + XmlEscaped(r.bucket) + "</Bucket><Key>" +
                       XmlEscaped(r.key) + "</Key><ETag>&quot;" + done->etag +
                       "&quot;</ETag></CompleteMultipartUploadResult>");
    }
    case s3::Op::kAbortMultipartUpload: {
      const std::string& id = r.query.at("uploadId");
      if (Status st = store_.CheckUpload(id, r.bucket, r.key); !st.ok()) return fail(st);
      if (Status st = store_.AbortMultipart(id); !st.ok()) return fail(st);
      return Reply(req, http::status::no_content);
    }
    case s3::Op::kListParts: {
      const std::string& id = r.query.at("uploadId");
      if (Status st = store_.CheckUpload(id, r.bucket, r.key); !st.ok()) return fail(st);
      auto parts = store_.ListParts(id);
      if (!parts.ok()) return fail(parts.status());
      std::string xml = std::string("<ListPartsResult xmlns=\"") + kXmlns + "\"><Bucket>" +
                        XmlEscaped(r.bucket) + "</Bucket><Key>" + XmlEscaped(r.key) +
                        "</Key><UploadId>" + id + "</UploadId><IsTruncated>false</IsTruncated>";
      for (const auto& p : *parts) {
        xml += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><LastModified>" +
               IsoMillis(p.last_modified) + "</LastModified><ETag>&quot;" + p.etag +
               "&quot;</ETag><Size>" + std::to_string(p.size) + "</Size></Part>";
      }
      xml += "</ListPartsResult>";
      return Reply(req, http::status::ok, std::move(xml));
    }
    case s3::Op::kUnsupported:
      break;
  }
  return fail(Status(Code::kUnknownOperation,
                     "NotImplemented: A header or query you provided implies functionality that "
                     "is not implemented (" +
                         r.unsupported + ")."));
}

Response S3Api::CallerIdentity(const Request& req, const RequestContext& ctx,
                               const auth::Credential* credential) const {
  auto form = s3::ParseForm(req.body());
  if (form["Action"] != "GetCallerIdentity") {
    return ErrorResponse(
        Status(Code::kUnknownOperation,
               "Could not find operation " + form["Action"] + " for version " + form["Version"]),
        Protocol::kStsQuery, req, ctx.request_id);
  }
  std::string arn = "arn:aws:iam::" + identity_.account_id + ":root";
  std::string user_id = identity_.account_id;
  if (credential != nullptr) {
    arn = "arn:aws:iam::" + identity_.account_id + ":user/" +
          (credential->profile.empty() ? std::string("default") : credential->profile);
    user_id = credential->access_key;
  }
  Response res{http::status::ok, req.version()};
  res.set(http::field::content_type, "text/xml");
  res.keep_alive(req.keep_alive());
  res.body() =
      "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
      "  <GetCallerIdentityResult>\n    <Arn>" +
      XmlEscaped(arn) + "</Arn>\n    <UserId>" + XmlEscaped(user_id) + "</UserId>\n    <Account>" +
      identity_.account_id +
      "</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>" +
      ctx.request_id + "</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n";
  return res;
}

}  // namespace thaw::api
