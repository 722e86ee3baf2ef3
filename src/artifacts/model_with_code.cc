#include "artifacts/model_with_code.h"

#include <algorithm>
#include <system_error>
#include <vector>

#include "common/hash.h"
#include "common/ids.h"

namespace thaw::artifacts {
namespace fs = std::filesystem;

namespace {

constexpr char kCodeDir[] = "code";

Status CopyError(const std::string& what, const std::error_code& ec) {
  return Internal(what + ": " + ec.message());
}

}  // namespace

CodeLocation ClassifySubmitDirectory(std::string_view value, bool is_directory) {
  constexpr std::string_view kMount = "/opt/ml/model";
  if (value.empty() || value == kMount ||
      (value.size() > kMount.size() && value.substr(0, kMount.size()) == kMount &&
       value[kMount.size()] == '/')) {
    return CodeLocation::kInModel;
  }
  if (value.rfind("s3://", 0) == 0 || value.rfind("file://", 0) == 0) return CodeLocation::kArchive;
  if (value.front() == '/') return is_directory ? CodeLocation::kDirectory : CodeLocation::kArchive;
  return CodeLocation::kInvalid;
}

Result<std::string> TreeDigest(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> entries;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    entries.push_back(it->path().lexically_relative(dir));
  }
  if (ec) return InvalidArgument("cannot read " + dir.string() + ": " + ec.message());
  std::sort(entries.begin(), entries.end());
  std::string manifest;
  for (const fs::path& rel : entries) {
    const fs::path path = dir / rel;
    const fs::file_status st = fs::symlink_status(path, ec);
    if (ec) return InvalidArgument("cannot read " + path.string() + ": " + ec.message());
    if (fs::is_symlink(st)) {
      manifest += "l " + rel.string() + '\0' + fs::read_symlink(path, ec).string();
    } else if (fs::is_directory(st)) {
      manifest += "d " + rel.string();
    } else if (fs::is_regular_file(st)) {
      auto digest = Sha256File(path);
      if (!digest.ok()) return InvalidArgument("cannot read " + path.string());
      manifest += "f " + rel.string() + '\0' + *digest;
    } else {
      return InvalidArgument(path.string() + " is neither a file, a directory nor a link");
    }
    manifest += '\n';
  }
  return Sha256Hex(manifest);
}

Result<CachedModel> AddCode(const ModelCache& cache, const CachedModel& model,
                            const fs::path& code_dir, const std::string& code_digest,
                            bool code_is_cached) {
  CachedModel out;
  out.digest = Sha256Hex("model+code/" + model.digest + "/" + code_digest);
  out.dir = cache.root() / out.digest;
  std::error_code ec;
  if (fs::is_directory(out.dir, ec)) {
    out.bytes = model.bytes;
    return out;
  }
  const fs::path tmp = cache.root() / (".tmp-" + RandomHex(8));
  auto fail = [&](Status s) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    return s;
  };
  if (!fs::create_directory(tmp, ec)) return fail(CopyError("creating " + tmp.string(), ec));
  for (const auto& entry : fs::directory_iterator(model.dir, ec)) {
    if (entry.path().filename() == kCodeDir) continue;  // the submitted code replaces it
    fs::copy(entry.path(), tmp / entry.path().filename(),
             fs::copy_options::recursive | fs::copy_options::copy_symlinks |
                 fs::copy_options::create_hard_links,
             ec);
    if (ec) return fail(CopyError("linking the model's " + entry.path().string(), ec));
  }
  if (ec) return fail(CopyError("reading " + model.dir.string(), ec));
  auto code_options = fs::copy_options::recursive | fs::copy_options::copy_symlinks;
  if (code_is_cached) code_options |= fs::copy_options::create_hard_links;
  fs::create_directory(tmp / kCodeDir, ec);
  if (!ec) fs::copy(code_dir, tmp / kCodeDir, code_options, ec);
  if (ec) return fail(CopyError("copying the code from " + code_dir.string(), ec));
  fs::permissions(tmp,
                  fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                      fs::perms::others_read | fs::perms::others_exec,
                  ec);
  fs::rename(tmp, out.dir, ec);
  if (ec) {
    // Another deploy built the same pair first: use its directory.
    if (!fs::is_directory(out.dir)) return fail(CopyError("renaming into " + out.dir.string(), ec));
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
  }
  out.bytes = model.bytes;
  return out;
}

}  // namespace thaw::artifacts
