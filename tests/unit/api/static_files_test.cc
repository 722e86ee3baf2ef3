#include "api/static_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace thaw::api {
namespace {
namespace fs = std::filesystem;

TEST(ConsoleRelativePath, MapsUrlsToFilesUnderTheRoot) {
  EXPECT_EQ(ConsoleRelativePath("/console/"), "index.html");
  EXPECT_EQ(ConsoleRelativePath("/console/?x=1"), "index.html");
  EXPECT_EQ(ConsoleRelativePath("/console/assets/index-abc.js"), "assets/index-abc.js");
  EXPECT_EQ(ConsoleRelativePath("/console//assets///a.css#frag"), "assets/a.css");
  EXPECT_EQ(ConsoleRelativePath("/console/endpoints/my-ep"), "endpoints/my-ep");
  EXPECT_EQ(ConsoleRelativePath("/console/a%20b.txt"), "a b.txt");
}

TEST(ConsoleRelativePath, RefusesTraversalAndOddBytes) {
  EXPECT_EQ(ConsoleRelativePath("/console/../thaw.db"), std::nullopt);
  EXPECT_EQ(ConsoleRelativePath("/console/assets/../../credentials"), std::nullopt);
  EXPECT_EQ(ConsoleRelativePath("/console/%2e%2e/credentials"), std::nullopt);
  EXPECT_EQ(ConsoleRelativePath("/console/%2E%2E%2Fcredentials"), std::nullopt);
  EXPECT_EQ(ConsoleRelativePath("/console/./index.html"), std::nullopt);
  EXPECT_EQ(ConsoleRelativePath("/console/a%00b"), std::nullopt);
  EXPECT_EQ(ConsoleRelativePath("/console/..%5c..%5cetc"), std::nullopt);
  EXPECT_EQ(ConsoleRelativePath("/console/%zz"), std::nullopt);
  EXPECT_EQ(ConsoleRelativePath("/console/%4"), std::nullopt);
  EXPECT_EQ(ConsoleRelativePath("/consolex/a"), std::nullopt);
  EXPECT_EQ(ConsoleRelativePath("/console"), std::nullopt);
}

TEST(IsConsoleTarget, OnlyThePrefixAsAPathSegment) {
  EXPECT_TRUE(IsConsoleTarget("/console"));
  EXPECT_TRUE(IsConsoleTarget("/console/"));
  EXPECT_TRUE(IsConsoleTarget("/console?a"));
  EXPECT_TRUE(IsConsoleTarget("/console/assets/x.js"));
  EXPECT_FALSE(IsConsoleTarget("/consoles"));
  EXPECT_FALSE(IsConsoleTarget("/"));
  EXPECT_FALSE(IsConsoleTarget("/endpoints/console/invocations"));
}

TEST(ContentTypeFor, KnownExtensionsAndDefault) {
  EXPECT_EQ(ContentTypeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("assets/index-1.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("assets/INDEX.CSS"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("favicon.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeFor("a.map"), "application/json");
  EXPECT_EQ(ContentTypeFor("model.tar.gz"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("README"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor(".hidden"), "application/octet-stream");
}

TEST(FallsBackToIndex, RoutesButNotAssets) {
  EXPECT_TRUE(FallsBackToIndex("endpoints/my-ep"));
  EXPECT_TRUE(FallsBackToIndex("deploy"));
  EXPECT_FALSE(FallsBackToIndex("assets/missing.js"));
  EXPECT_FALSE(FallsBackToIndex("favicon.ico"));
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("thaw-static-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    fs::create_directories(base_ / "root" / "assets");
    Write(base_ / "root" / "index.html", "<html>console</html>");
    Write(base_ / "root" / "assets" / "app-1.js", "console.log(1)");
    Write(base_ / "secret.txt", "secret");
    fs::create_symlink(base_ / "secret.txt", base_ / "root" / "leak.txt");
  }
  void TearDown() override { fs::remove_all(base_); }

  static void Write(const fs::path& p, const std::string& data) { std::ofstream(p) << data; }

  static Request Get(std::string target) {
    Request req{http::verb::get, target, 11};
    return req;
  }

  fs::path base_;
};

TEST_F(StaticFilesTest, ServesFilesWithTheirTypeAndCaching) {
  StaticFiles files(base_ / "root");
  ASSERT_TRUE(files.Available());
  Response index = files.Serve(Get("/console/"));
  EXPECT_EQ(index.result(), http::status::ok);
  EXPECT_EQ(index.body(), "<html>console</html>");
  EXPECT_EQ(index[http::field::content_type], "text/html; charset=utf-8");
  EXPECT_EQ(index[http::field::cache_control], "no-cache");
  EXPECT_EQ(std::string(index["Content-Security-Policy"]), std::string(kConsoleCsp));
  EXPECT_EQ(index["X-Content-Type-Options"], "nosniff");

  Response js = files.Serve(Get("/console/assets/app-1.js"));
  EXPECT_EQ(js.result(), http::status::ok);
  EXPECT_EQ(js.body(), "console.log(1)");
  EXPECT_EQ(js[http::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ(js[http::field::cache_control], "public, max-age=31536000, immutable");
}

TEST_F(StaticFilesTest, RoutesFallBackToIndexMissingAssetsDoNot) {
  StaticFiles files(base_ / "root");
  Response route = files.Serve(Get("/console/endpoints/my-ep"));
  EXPECT_EQ(route.result(), http::status::ok);
  EXPECT_EQ(route.body(), "<html>console</html>");
  EXPECT_EQ(files.Serve(Get("/console/assets/gone.js")).result(), http::status::not_found);
}

TEST_F(StaticFilesTest, BarePrefixRedirects) {
  StaticFiles files(base_ / "root");
  Response res = files.Serve(Get("/console"));
  EXPECT_EQ(res.result(), http::status::moved_permanently);
  EXPECT_EQ(res[http::field::location], "/console/");
}

TEST_F(StaticFilesTest, NothingOutsideTheRootIsReadable) {
  StaticFiles files(base_ / "root");
  for (const char* target : {"/console/../secret.txt", "/console/%2e%2e/secret.txt",
                             "/console/leak.txt", "/console/assets/%2e%2e/%2e%2e/secret.txt"}) {
    Response res = files.Serve(Get(target));
    EXPECT_EQ(res.result(), http::status::not_found) << target;
    EXPECT_EQ(res.body().find("secret"), std::string::npos) << target;
  }
}

TEST_F(StaticFilesTest, NotBuiltIsA503ThatSaysSo) {
  StaticFiles files(base_ / "nowhere");
  EXPECT_FALSE(files.Available());
  Response res = files.Serve(Get("/console/"));
  EXPECT_EQ(res.result(), http::status::service_unavailable);
  EXPECT_NE(res.body().find("not built"), std::string::npos);
}

}  // namespace
}  // namespace thaw::api
