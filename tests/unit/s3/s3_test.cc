#include <gtest/gtest.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "auth/sigv4.h"
#include "common/hash.h"
#include "s3/aws_chunked.h"
#include "s3/names.h"
#include "s3/object_store.h"

namespace thaw::s3 {
namespace {

namespace fs = std::filesystem;

bool Exists(std::string_view) { return false; }

TEST(S3Names, KeysThatWouldLeaveTheBucketAreRefused) {
  EXPECT_TRUE(ValidateKey("models/xgb/model.tar.gz").ok());
  EXPECT_TRUE(ValidateKey("a b+c%d").ok());
  for (std::string_view bad :
       {"..", "../x", "a/../../etc/passwd", "/etc/passwd", "a//b", "a/./b", "a\\..\\b", "a/", ""}) {
    EXPECT_FALSE(ValidateKey(bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateKey(std::string("a\0b", 3)).ok());
  EXPECT_FALSE(ValidateKey(std::string(1025, 'k')).ok());
}

TEST(S3Names, BucketNamesFollowS3Rules) {
  EXPECT_TRUE(ValidateBucketName("my-bucket.v2").ok());
  for (std::string_view bad : {"ab", "Upper", "-x-", "a..b", "192.168.1.1", "under_score"}) {
    Status st = ValidateBucketName(bad);
    EXPECT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.message().rfind("InvalidBucketName: ", 0), 0u);
  }
}

TEST(S3Route, PathStyleOperations) {
  auto r = Route("GET", "/", "127.0.0.1:8080", false, Exists);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->op, Op::kListBuckets);
  r = Route("PUT", "/bkt/dir/a%20b.txt", "127.0.0.1:8080", false, Exists);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->op, Op::kPutObject);
  EXPECT_EQ(r->bucket, "bkt");
  EXPECT_EQ(r->key, "dir/a b.txt");
  r = Route("PUT", "/bkt/k?partNumber=2&uploadId=ab", "localhost", false, Exists);
  EXPECT_EQ(r->op, Op::kUploadPart);
  r = Route("PUT", "/bkt/k", "localhost", true, Exists);
  EXPECT_EQ(r->op, Op::kCopyObject);
  r = Route("GET", "/bkt?list-type=2&prefix=a%2F&delimiter=%2F", "localhost", false, Exists);
  EXPECT_EQ(r->op, Op::kListObjects);
  EXPECT_EQ(r->query.at("prefix"), "a/");
  r = Route("POST", "/bkt/k?uploads", "localhost", false, Exists);
  EXPECT_EQ(r->op, Op::kCreateMultipartUpload);
  r = Route("DELETE", "/bkt/k?uploadId=ab", "localhost", false, Exists);
  EXPECT_EQ(r->op, Op::kAbortMultipartUpload);
  r = Route("GET", "/bkt?location", "localhost", false, Exists);
  EXPECT_EQ(r->op, Op::kGetBucketLocation);
  r = Route("GET", "/bkt?policy", "localhost", false, Exists);
  EXPECT_EQ(r->op, Op::kUnsupported);
}

TEST(S3Route, EncodedEscapesAreDecodedOnceThenRefused) {
  EXPECT_FALSE(Route("GET", "/bkt/%2e%2e/%2e%2e/etc/passwd", "h", false, Exists).ok());
  EXPECT_FALSE(Route("GET", "/bkt/a%2f..%2f..%2fx", "h", false, Exists).ok());
  EXPECT_FALSE(Route("GET", "/bkt/a%00b", "h", false, Exists).ok());
  EXPECT_FALSE(Route("GET", "/bkt/a%5c..%5cb", "h", false, Exists).ok());
  EXPECT_FALSE(Route("GET", "/bkt//etc/passwd", "h", false, Exists).ok());
  EXPECT_FALSE(Route("GET", "/%2e%2e/x", "h", false, Exists).ok());
  EXPECT_FALSE(Route("GET", "/.thaw-tmp/x", "h", false, Exists).ok());
  EXPECT_FALSE(Route("GET", "/bkt/%zz", "h", false, Exists).ok());
  // Encoded twice: one decoding leaves a literal "%2e%2e", a harmless file name.
  auto r = Route("GET", "/bkt/%252e%252e/x", "h", false, Exists);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->key, "%2e%2e/x");
}

TEST(S3Route, VirtualHostStyle) {
  auto r = Route("GET", "/dir/k", "bkt.localhost:9000", false, Exists);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->bucket, "bkt");
  EXPECT_EQ(r->key, "dir/k");
  auto known = [](std::string_view b) { return b == "data"; };
  r = Route("GET", "/k", "data.thaw.internal", false, known);
  EXPECT_EQ(r->bucket, "data");
  // A server name that is not a bucket: path style.
  r = Route("GET", "/bkt/k", "thaw.internal:8080", false, known);
  EXPECT_EQ(r->bucket, "bkt");
  r = Route("GET", "/bkt/k", "10.0.0.1:8080", false, [](std::string_view) { return true; });
  EXPECT_EQ(r->bucket, "bkt");
}

TEST(S3List, PrefixDelimiterAndPages) {
  std::vector<std::string> keys = {"a/1", "a/2", "b/x/1", "b/y", "c", "d"};
  ListPage p = Paginate(keys, "", "/", "", 1000);
  EXPECT_EQ(p.keys, (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(p.common_prefixes, (std::vector<std::string>{"a/", "b/"}));
  EXPECT_FALSE(p.truncated);

  p = Paginate(keys, "b/", "/", "", 1000);
  EXPECT_EQ(p.keys, (std::vector<std::string>{"b/y"}));
  EXPECT_EQ(p.common_prefixes, (std::vector<std::string>{"b/x/"}));

  p = Paginate(keys, "", "", "", 2);
  EXPECT_EQ(p.keys, (std::vector<std::string>{"a/1", "a/2"}));
  EXPECT_TRUE(p.truncated);
  EXPECT_EQ(p.next_marker, "a/2");
  p = Paginate(keys, "", "", p.next_marker, 2);
  EXPECT_EQ(p.keys, (std::vector<std::string>{"b/x/1", "b/y"}));
  p = Paginate(keys, "", "", p.next_marker, 2);
  EXPECT_EQ(p.keys, (std::vector<std::string>{"c", "d"}));
  EXPECT_FALSE(p.truncated);

  // A common prefix ending a page is not repeated on the next one.
  p = Paginate(keys, "", "/", "", 1);
  EXPECT_EQ(p.common_prefixes, (std::vector<std::string>{"a/"}));
  p = Paginate(keys, "", "/", p.next_marker, 1);
  EXPECT_EQ(p.common_prefixes, (std::vector<std::string>{"b/"}));
}

TEST(S3Range, Forms) {
  auto r = ParseRange("bytes=0-9", 100);
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ(**r, (std::pair<uint64_t, uint64_t>{0, 9}));
  r = ParseRange("bytes=90-", 100);
  EXPECT_EQ(**r, (std::pair<uint64_t, uint64_t>{90, 99}));
  r = ParseRange("bytes=-10", 100);
  EXPECT_EQ(**r, (std::pair<uint64_t, uint64_t>{90, 99}));
  r = ParseRange("bytes=50-500", 100);
  EXPECT_EQ(**r, (std::pair<uint64_t, uint64_t>{50, 99}));
  EXPECT_FALSE(ParseRange("bytes=100-", 100).ok());
  r = ParseRange("bytes=0-1,5-6", 100);
  EXPECT_TRUE(r.ok() && !r->has_value());
}

// AWS's documented example of STREAMING-AWS4-HMAC-SHA256-PAYLOAD (66560 bytes of 'a' in chunks
// of 64 KiB and 1 KiB, "Signature Calculations … Transferring Payload in Multiple Chunks").
std::unique_ptr<ChunkSigning> AwsExampleSigning() {
  auth::Authorization a;
  a.date = "20130524";
  a.region = "us-east-1";
  a.service = "s3";
  auto s = std::make_unique<ChunkSigning>();
  s->signing_key = auth::SigningKey("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", a);
  s->amz_date = "20130524T000000Z";
  s->scope = a.scope();
  s->seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
  return s;
}

std::string AwsExampleBody(char flip = 0) {
  std::string body =
      "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n";
  body += std::string(65536, 'a') + "\r\n";
  body +=
      "400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n";
  body += std::string(1024, flip ? flip : 'a') + "\r\n";
  body +=
      "0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n";
  return body;
}

TEST(AwsChunked, AwsExampleDecodesInAnyPieces) {
  for (size_t piece : {size_t{1} << 20, size_t{7}, size_t{1}}) {
    std::string out;
    AwsChunkedDecoder d(AwsExampleSigning(), [&](std::string_view s) {
      out.append(s);
      return Status::Ok();
    });
    std::string body = AwsExampleBody();
    ASSERT_EQ(body.size(), 66824u);
    for (size_t i = 0; i < body.size(); i += piece) {
      Status st = d.Feed(std::string_view(body).substr(i, piece));
      ASSERT_TRUE(st.ok()) << st.message();
    }
    EXPECT_TRUE(d.Finish().ok());
    EXPECT_EQ(out, std::string(66560, 'a'));
  }
}

TEST(AwsChunked, TamperedChunkFailsItsSignature) {
  AwsChunkedDecoder d(AwsExampleSigning(), [](std::string_view) { return Status::Ok(); });
  Status st = d.Feed(AwsExampleBody('b'));
  EXPECT_EQ(st.code(), Code::kBadSignature);
  EXPECT_EQ(st.message().rfind("SignatureDoesNotMatch: ", 0), 0u);
}

TEST(AwsChunked, TruncatedBodyIsIncomplete) {
  AwsChunkedDecoder d(AwsExampleSigning(), [](std::string_view) { return Status::Ok(); });
  std::string body = AwsExampleBody();
  ASSERT_TRUE(d.Feed(std::string_view(body).substr(0, 60000)).ok());
  EXPECT_FALSE(d.Finish().ok());
}

TEST(AwsChunked, UnsignedWithTrailer) {
  std::string out;
  AwsChunkedDecoder d(nullptr, [&](std::string_view s) {
    out.append(s);
    return Status::Ok();
  });
  ASSERT_TRUE(d.Feed("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n").ok());
  EXPECT_TRUE(d.Finish().ok());
  EXPECT_EQ(out, "hello");
  EXPECT_EQ(d.trailers().at("x-amz-checksum-crc32"), "NhCmhg==");
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("thaw-s3-test-" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    store_ = std::make_unique<ObjectStore>(root_);
    ASSERT_TRUE(store_->Init().ok());
    ASSERT_TRUE(store_->CreateBucket("bkt").ok());
  }
  void TearDown() override { fs::remove_all(root_); }

  ObjectMeta Put(std::string_view key, std::string_view data) {
    auto up = store_->BeginUpload();
    EXPECT_TRUE(up.ok());
    EXPECT_TRUE((*up)->Write(data).ok());
    ObjectMeta m;
    m.content_type = "text/plain";
    m.user_meta = {{"who", "me"}};
    auto done = store_->Commit(**up, "bkt", key, m);
    EXPECT_TRUE(done.ok()) << done.status().message();
    return done.ok() ? *done : ObjectMeta{};
  }

  fs::path root_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(StoreTest, ObjectsAreFilesWhereS3UrlsResolveWithTheirMetadata) {
  ObjectMeta m = Put("models/m.tar.gz", "hello");
  EXPECT_EQ(m.etag, "5d41402abc4b2a76b9719d911017c592");  // md5("hello")
  std::ifstream in(root_ / "bkt" / "models" / "m.tar.gz");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "hello");
  auto st = store_->Stat("bkt", "models/m.tar.gz");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->content_type, "text/plain");
  EXPECT_EQ(st->user_meta, (std::vector<std::pair<std::string, std::string>>{{"who", "me"}}));
  EXPECT_EQ(st->size, 5u);
  // Nothing left in the temporary directory.
  EXPECT_TRUE(fs::is_empty(root_ / ".thaw-tmp"));
  EXPECT_EQ(store_->DeleteBucket("bkt").message().rfind("BucketNotEmpty", 0), 0u);
  ASSERT_TRUE(store_->Delete("bkt", "models/m.tar.gz").ok());
  EXPECT_FALSE(fs::exists(root_ / "bkt" / "models"));  // empty directories pruned
  EXPECT_TRUE(store_->DeleteBucket("bkt").ok());
}

TEST_F(StoreTest, AnUncommittedUploadLeavesNoFileAndInitClearsLeftovers) {
  {
    auto up = store_->BeginUpload();
    ASSERT_TRUE((*up)->Write("partial").ok());
  }
  EXPECT_TRUE(fs::is_empty(root_ / ".thaw-tmp"));
  std::ofstream(root_ / ".thaw-tmp" / "up-crashed") << "x";  // a crash mid-upload
  ASSERT_TRUE(store_->Init().ok());
  EXPECT_TRUE(fs::is_empty(root_ / ".thaw-tmp"));
  auto keys = store_->Keys("bkt", "");
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty());
}

TEST_F(StoreTest, MultipartEtagIsMd5OfPartMd5s) {
  auto id = store_->CreateMultipart("bkt", "big", ObjectMeta{});
  ASSERT_TRUE(id.ok());
  std::string part1(5 << 20, 'x'), part2 = "tail";
  std::vector<std::pair<int, std::string>> parts;
  int n = 1;
  for (const std::string* data : {&part1, &part2}) {
    auto up = store_->BeginUpload();
    ASSERT_TRUE((*up)->Write(*data).ok());
    std::string raw = (*up)->FinishMd5();
    auto etag = store_->CommitPart(**up, *id, n, HexEncode(raw));
    ASSERT_TRUE(etag.ok());
    parts.emplace_back(n++, "\"" + *etag + "\"");
  }
  auto done = store_->CompleteMultipart(*id, "bkt", "big", parts);
  ASSERT_TRUE(done.ok()) << done.status().message();
  // python3: hashlib.md5(md5(b"x"*5MiB).digest() + md5(b"tail").digest()).hexdigest() + "-2"
  EXPECT_EQ(done->etag, "a45f1422f2dbe3d2890829dd76adba1b-2");
  EXPECT_EQ(done->size, part1.size() + part2.size());
  EXPECT_FALSE(store_->CheckUpload(*id, "bkt", "big").ok());  // gone once complete
  // Parts out of order are refused.
  auto id2 = store_->CreateMultipart("bkt", "big2", ObjectMeta{});
  auto bad = store_->CompleteMultipart(*id2, "bkt", "big2", {{2, "x"}, {1, "y"}});
  EXPECT_EQ(bad.status().message().rfind("InvalidPart", 0), 0u);
}

}  // namespace
}  // namespace thaw::s3
