#include "artifacts/s3_fetcher.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <boost/asio/ip/tcp.hpp>
#include <fstream>
#include <sstream>

#include "artifacts/s3_url.h"
#include "common/hash.h"
#include "fakes/fake_clock.h"
#include "fakes/temp_dir.h"
#include "unit/cli/canned_server.h"

namespace thaw::artifacts {
namespace {

using cli::testing::CannedResponse;
using cli::testing::CannedServer;
using std::chrono::milliseconds;

// --- s3:// URLs and the endpoint ---

TEST(ParseS3Url, SplitsBucketAndKey) {
  auto o = ParseS3Url("s3://my-bucket/models/xgb model/model.tar.gz");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->bucket, "my-bucket");
  EXPECT_EQ(o->key, "models/xgb model/model.tar.gz");
  EXPECT_EQ(PathStyleTarget(*o), "/my-bucket/models/xgb%20model/model.tar.gz");
  EXPECT_EQ(PathStyleTarget({"b", "a+b/c~d=e&f.tar.gz"}), "/b/a%2Bb/c~d%3De%26f.tar.gz");
}

TEST(ParseS3Url, RefusesWhatCouldLeaveTheBucket) {
  for (const char* bad : {"s3://bucket", "s3://bucket/", "s3:///key", "s3://b/../k", "s3://b/a//k",
                          "s3://b/./k", "s3://../k", "http://b/k"}) {
    auto o = ParseS3Url(bad);
    EXPECT_FALSE(o.ok()) << bad;
    if (!o.ok()) EXPECT_EQ(o.status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(ParseS3Endpoint, HostPortAndHostHeader) {
  auto e = ParseS3Endpoint("http://127.0.0.1:4568/");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->url, "http://127.0.0.1:4568");
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 4568);
  EXPECT_EQ(e->host_header, "127.0.0.1:4568");

  auto plain = ParseS3Endpoint("http://minio.local");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->port, 80);
  EXPECT_EQ(plain->host_header, "minio.local");

  auto default_port = ParseS3Endpoint("http://minio.local:80");
  ASSERT_TRUE(default_port.ok());
  EXPECT_EQ(default_port->host_header, "minio.local");  // as botocore signs it

  auto v6 = ParseS3Endpoint("http://[::1]:9000");
  ASSERT_TRUE(v6.ok()) << v6.status().message();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9000);
  EXPECT_EQ(v6->host_header, "[::1]:9000");
}

TEST(ParseS3Endpoint, RefusesOtherForms) {
  for (const char* bad :
       {"127.0.0.1:4568", "ftp://h", "http://", "http://h:0", "http://h:99999", "http://h:x",
        "http://h/prefix", "http://user@h", "https://s3.amazonaws.com"}) {
    auto e = ParseS3Endpoint(bad);
    EXPECT_FALSE(e.ok()) << bad;
  }
  auto tls = ParseS3Endpoint("https://s3.amazonaws.com");
  EXPECT_NE(tls.status().message().find("https endpoints are not supported"), std::string::npos);
}

// --- retry decisions ---

Attempt Http(int status, std::string code = "") {
  Attempt a;
  a.kind = Attempt::Kind::kHttpError;
  a.http_status = status;
  a.s3_code = std::move(code);
  return a;
}

Attempt Of(Attempt::Kind kind, std::string detail = "") {
  Attempt a;
  a.kind = kind;
  a.detail = std::move(detail);
  return a;
}

TEST(RetryDecision, TransientFailuresAreRetriedWithDoublingDelays) {
  RetryPolicy policy{4, milliseconds(200), milliseconds(5000)};
  const Attempt unavailable = Http(503, "SlowDown");
  EXPECT_EQ(RetryDelay(unavailable, 1, policy), milliseconds(200));
  EXPECT_EQ(RetryDelay(unavailable, 2, policy), milliseconds(400));
  EXPECT_EQ(RetryDelay(unavailable, 3, policy), milliseconds(800));
  EXPECT_EQ(RetryDelay(unavailable, 4, policy), std::nullopt);  // attempts used up

  for (const Attempt& a : {Http(500, "InternalError"), Http(429), Http(400, "RequestTimeout"),
                           Of(Attempt::Kind::kUnreachable), Of(Attempt::Kind::kTimedOut),
                           Of(Attempt::Kind::kBroken), Of(Attempt::Kind::kCorrupt)}) {
    EXPECT_TRUE(IsRetryable(a)) << a.http_status << " " << static_cast<int>(a.kind);
  }
}

TEST(RetryDecision, FinalAnswersAreNotRetried) {
  RetryPolicy policy;
  for (const Attempt& a :
       {Http(404, "NoSuchKey"), Http(404, "NoSuchBucket"), Http(403, "AccessDenied"),
        Http(403, "InvalidAccessKeyId"), Http(403, "SignatureDoesNotMatch"),
        Http(400, "InvalidRequest"), Of(Attempt::Kind::kLocal), Of(Attempt::Kind::kOk)}) {
    EXPECT_FALSE(IsRetryable(a)) << a.s3_code;
    EXPECT_EQ(RetryDelay(a, 1, policy), std::nullopt) << a.s3_code;
  }
}

TEST(RetryDecision, DelayIsCapped) {
  RetryPolicy policy{20, milliseconds(100), milliseconds(1000)};
  EXPECT_EQ(RetryDelay(Of(Attempt::Kind::kTimedOut), 5, policy), milliseconds(1000));
  EXPECT_EQ(RetryDelay(Of(Attempt::Kind::kTimedOut), 19, policy), milliseconds(1000));
}

// --- errors → the cause in the FailureReason ---

TEST(DownloadFailure, NamesTheCauseAsS3Does) {
  const S3Object o{"models", "xgb/model.tar.gz"};
  const std::string url = "http://127.0.0.1:4568";

  Attempt missing = Http(404, "NoSuchKey");
  missing.s3_message = "The specified key does not exist.";
  Status s = DownloadFailure(missing, 1, o, url);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(),
            "NoSuchKey: The specified key does not exist. (bucket \"models\", key "
            "\"xgb/model.tar.gz\" at http://127.0.0.1:4568). Please ensure that there is an "
            "object located at the URL.");

  s = DownloadFailure(Http(404, "NoSuchBucket"), 1, o, url);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "NoSuchBucket (bucket \"models\" at http://127.0.0.1:4568).");

  for (const char* code : {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}) {
    Attempt refused = Http(403, code);
    refused.s3_message = "msg";
    s = DownloadFailure(refused, 1, o, url);
    EXPECT_EQ(s.code(), Code::kFailedPrecondition);
    EXPECT_EQ(s.message(), std::string(code) +
                               ": msg. Please ensure that the credentials thaw was started with "
                               "(the environment or the AWS profile) may read the object.");
  }

  s = DownloadFailure(Of(Attempt::Kind::kUnreachable, "Connection refused"), 4, o, url);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.message(),
            "the S3 endpoint http://127.0.0.1:4568 is unreachable (Connection refused; 4 "
            "attempts).");

  s = DownloadFailure(Http(503, "SlowDown"), 4, o, url);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.message(), "the S3 endpoint http://127.0.0.1:4568 failed: SlowDown (4 attempts).");

  s = DownloadFailure(Http(400, "InvalidRequest"), 1, o, url);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
}

TEST(ParseS3Error, ReadsCodeAndMessage) {
  auto [code, message] = ParseS3Error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
      "<Message>Access &amp; &lt;denied&gt;</Message><RequestId>1</RequestId></Error>");
  EXPECT_EQ(code, "AccessDenied");
  EXPECT_EQ(message, "Access & <denied>");
  EXPECT_EQ(ParseS3Error("not xml").first, "");
}

// --- the fetcher against a canned HTTP server ---

std::string Md5Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  return HexEncode({reinterpret_cast<const char*>(digest), len});
}

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t FilesIn(const std::filesystem::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

CannedResponse Object(const std::string& body, const std::string& etag, bool then_close) {
  return {200, body, {{"ETag", "\"" + etag + "\""}}, milliseconds(0), then_close};
}

CannedResponse S3Error(int status, const std::string& code, bool then_close = false) {
  return {status,
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code +
              "</Code><Message>m</Message></Error>",
          {{"Content-Type", "application/xml"}},
          milliseconds(0),
          then_close};
}

class S3FetcherTest : public ::testing::Test {
 protected:
  S3Fetcher MakeFetcher(const std::string& url, int attempts = 4) {
    S3FetcherOptions o;
    o.endpoint = *ParseS3Endpoint(url);
    o.credential = {"AKIDEXAMPLE", "secret", "", "test"};
    o.retry = RetryPolicy{attempts, milliseconds(200), milliseconds(5000)};
    o.step_timeout = milliseconds(5000);
    return S3Fetcher(std::move(o), clock_, [this](milliseconds d) { sleeps_.push_back(d); });
  }

  testing::FakeClock clock_;
  std::vector<milliseconds> sleeps_;
  testing::TempDir dir_;
};

TEST_F(S3FetcherTest, StreamsTheObjectAndVerifiesItsMd5) {
  const std::string body(300 * 1024, 'x');  // more than one read chunk
  CannedServer server({Object(body, Md5Hex(body), false)});
  auto fetched =
      MakeFetcher(server.url()).Fetch({"models", "a b/model.tar.gz"}, dir_.path(), ".dl-");
  ASSERT_TRUE(fetched.ok()) << fetched.status().message();
  EXPECT_EQ(fetched->bytes, body.size());
  EXPECT_EQ(fetched->etag, Md5Hex(body));
  EXPECT_EQ(ReadAll(fetched->path), body);
  EXPECT_EQ(fetched->path.parent_path(), dir_.path());
  auto seen = server.Requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/models/a%20b/model.tar.gz");
  EXPECT_EQ(seen[0].host, server.url().substr(7));
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(S3FetcherTest, MultipartETagIsCheckedBySizeOnly) {
  CannedServer server({Object("abc", "0123456789abcdef0123456789abcdef-2", false)});
  auto fetched = MakeFetcher(server.url()).Fetch({"b", "k"}, dir_.path(), ".dl-");
  ASSERT_TRUE(fetched.ok()) << fetched.status().message();
  EXPECT_EQ(ReadAll(fetched->path), "abc");
}

TEST_F(S3FetcherTest, A5xxIsRetriedAfterABackoff) {
  CannedServer server({S3Error(503, "SlowDown", true), S3Error(500, "InternalError", true),
                       Object("model bytes", Md5Hex("model bytes"), false)});
  auto fetched = MakeFetcher(server.url()).Fetch({"b", "k"}, dir_.path(), ".dl-");
  ASSERT_TRUE(fetched.ok()) << fetched.status().message();
  EXPECT_EQ(ReadAll(fetched->path), "model bytes");  // nothing of the error bodies
  EXPECT_EQ(sleeps_, (std::vector<milliseconds>{milliseconds(200), milliseconds(400)}));
  EXPECT_EQ(server.connections(), 3);
}

TEST_F(S3FetcherTest, ACorruptBodyIsRetriedThenReported) {
  CannedServer server(
      {Object("bytes", Md5Hex("other"), true), Object("bytes", Md5Hex("other"), false)});
  auto fetched = MakeFetcher(server.url(), 2).Fetch({"b", "k"}, dir_.path(), ".dl-");
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().code(), Code::kUnavailable);
  EXPECT_NE(fetched.status().message().find("does not match the ETag"), std::string::npos)
      << fetched.status().message();
  EXPECT_EQ(sleeps_.size(), 1u);
  EXPECT_EQ(FilesIn(dir_.path()), 0u);  // no partial download left
}

TEST_F(S3FetcherTest, NoSuchKeyIsFinal) {
  CannedServer server({S3Error(404, "NoSuchKey")});
  auto fetched = MakeFetcher(server.url()).Fetch({"b", "missing.tar.gz"}, dir_.path(), ".dl-");
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().code(), Code::kNotFound);
  EXPECT_TRUE(fetched.status().message().starts_with("NoSuchKey: m (bucket \"b\""))
      << fetched.status().message();
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_EQ(FilesIn(dir_.path()), 0u);
}

TEST_F(S3FetcherTest, AnUnreachableEndpointIsRetriedThenReported) {
  uint16_t port = 0;
  {  // a port nobody listens on: bind one, then close it
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  auto fetched = MakeFetcher("http://127.0.0.1:" + std::to_string(port), 3)
                     .Fetch({"b", "k"}, dir_.path(), ".dl-");
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.status().code(), Code::kUnavailable);
  EXPECT_NE(fetched.status().message().find("is unreachable"), std::string::npos)
      << fetched.status().message();
  EXPECT_NE(fetched.status().message().find("3 attempts"), std::string::npos);
  EXPECT_EQ(sleeps_, (std::vector<milliseconds>{milliseconds(200), milliseconds(400)}));
  EXPECT_EQ(FilesIn(dir_.path()), 0u);
}

}  // namespace
}  // namespace thaw::artifacts
