#pragma once
// A private temporary directory per test:
//   <base>/sandbox/archives/  archives the test writes
//   <base>/sandbox/cache/     the ModelCache root
// Escapes from the cache land inside <base>, where ExpectRefused looks for them.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "artifacts/model_cache.h"
#include "unit/artifacts/archive_builder.h"

namespace thaw::artifacts::testing {

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "thaw-artifacts-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
    sandbox_ = base_ / "sandbox";
    std::filesystem::create_directories(sandbox_ / "archives");
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(base_, ec);
  }

  std::filesystem::path ArchivePath(std::string_view name) const {
    return sandbox_ / "archives" / name;
  }
  std::filesystem::path CacheRoot() const { return sandbox_ / "cache"; }

  // Writes `entries` as a .tar.gz under archives/ and returns its path.
  std::filesystem::path MakeArchive(std::string_view name, const std::vector<TestEntry>& entries,
                                    TarFormat format = TarFormat::kPax) {
    std::filesystem::path p = ArchivePath(name);
    WriteTar(p, entries, /*gzip=*/true, format);
    return p;
  }

  // Files anywhere under <base> whose name contains "evil": what an escape would leave.
  std::vector<std::string> EvilFiles() const {
    std::vector<std::string> found;
    for (const std::string& p : ListTree(base_)) {
      if (std::filesystem::path(p).filename().string().find("evil") != std::string::npos) {
        found.push_back(p);
      }
    }
    return found;
  }

  // Materializing `archive` fails with InvalidArgument mentioning `needle`, leaves nothing in
  // the cache root and nothing named "evil" anywhere in the sandbox.
  void ExpectRefused(const std::filesystem::path& archive, std::string_view needle,
                     ExtractLimits limits = {}) {
    ModelCache cache(CacheRoot(), limits);
    Result<CachedModel> r = cache.Materialize(archive);
    ASSERT_FALSE(r.ok()) << "extracted into " << r->dir;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find(needle), std::string::npos)
        << "message: " << r.status().message() << "\nexpected to contain: " << needle;
    EXPECT_EQ(ListTree(CacheRoot()), std::vector<std::string>{});
    EXPECT_EQ(EvilFiles(), std::vector<std::string>{});
    EXPECT_EQ(cache.extractions(), 0u);
  }

  std::filesystem::path base_;
  std::filesystem::path sandbox_;
};

}  // namespace thaw::artifacts::testing
