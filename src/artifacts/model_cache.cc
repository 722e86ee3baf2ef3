#include "artifacts/model_cache.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <set>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#include "artifacts/unique_fd.h"
#include "common/hash.h"
#include "common/ids.h"
#include "common/logging.h"

namespace thaw::artifacts {
namespace fs = std::filesystem;

namespace {

constexpr char kTmpPrefix[] = ".tmp-";

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void Update(const char* data, size_t n) { EVP_DigestUpdate(ctx_.get(), data, n); }
  std::string HexDigest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &n);
    return HexEncode({reinterpret_cast<const char*>(md), n});
  }

 private:
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

Result<std::string> HashFd(int fd) {
  Sha256 sha;
  std::vector<char> buf(1 << 16);
  off_t off = 0;
  while (true) {
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      return Internal("reading the archive: " + ErrnoText(err));
    }
    if (n == 0) break;
    sha.Update(buf.data(), static_cast<size_t>(n));
    off += n;
  }
  return sha.HexDigest();
}

// Sum of the sizes of the regular files under `dir`, each inode once; links are not followed.
Result<uint64_t> DirBytes(const fs::path& dir) {
  std::error_code ec;
  std::set<std::pair<dev_t, ino_t>> seen;
  uint64_t total = 0;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        seen.emplace(st.st_dev, st.st_ino).second) {
      total += static_cast<uint64_t>(st.st_size);
    }
  }
  if (ec) return Internal("reading the cached model " + dir.string() + ": " + ec.message());
  return total;
}

void RemoveTree(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);  // does not follow symbolic links
  if (ec) Logger("artifacts")->warn("cannot remove {}: {}", path.string(), ec.message());
}

}  // namespace

struct ModelCache::Flight {
  bool done = false;
  std::optional<Result<CachedModel>> result;
};

ModelCache::ModelCache(fs::path root, ExtractLimits limits)
    : root_(std::move(root)), limits_(limits) {}

uint64_t ModelCache::extractions() const {
  std::lock_guard lock(mu_);
  return extractions_;
}

Result<CachedModel> ModelCache::Materialize(const fs::path& archive) {
  // O_NONBLOCK so that a FIFO at the path cannot block the open; it is refused just below.
  UniqueFd fd(::open(archive.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return NotFound("model archive " + archive.string() + " does not exist");
    }
    if (err == EACCES) return FailedPrecondition("cannot read model archive " + archive.string());
    return Internal("opening model archive " + archive.string() + ": " + ErrnoText(err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    const int err = errno;
    return Internal("stat " + archive.string() + ": " + ErrnoText(err));
  }
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgument("model archive " + archive.string() + " is not a regular file");
  }
  THAW_ASSIGN_OR_RETURN(std::string digest, HashFd(fd.get()));

  std::shared_ptr<Flight> flight;
  {
    std::unique_lock lock(mu_);
    auto it = flights_.find(digest);
    if (it != flights_.end()) {
      // Same bytes are being extracted by another caller: share its outcome.
      std::shared_ptr<Flight> theirs = it->second;
      flight_done_.wait(lock, [&] { return theirs->done; });
      return *theirs->result;
    }
    flight = std::make_shared<Flight>();
    flights_.emplace(digest, flight);
  }
  // Nothing may escape between registering the flight and completing it, or waiters would
  // wait forever; RandomHex throws when the OS random source fails.
  Result<CachedModel> result = [&]() -> Result<CachedModel> {
    try {
      return LookupOrExtract(fd.get(), digest);
    } catch (const std::exception& e) {
      return Internal(std::string("materializing the model: ") + e.what());
    }
  }();
  {
    std::lock_guard lock(mu_);
    flight->result.emplace(result);
    flight->done = true;
    flights_.erase(digest);
  }
  flight_done_.notify_all();
  return result;
}

Result<CachedModel> ModelCache::LookupOrExtract(int archive_fd, const std::string& digest) {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) return Internal("creating the model cache " + root_.string() + ": " + ec.message());
  UniqueFd root_fd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) {
    const int err = errno;
    return Internal("opening the model cache " + root_.string() + ": " + ErrnoText(err));
  }
  THAW_ASSIGN_OR_RETURN(std::optional<CachedModel> hit, Lookup(root_fd.get(), digest));
  if (hit) return *std::move(hit);

  const std::string tmp_name = kTmpPrefix + RandomHex(8);
  if (::mkdirat(root_fd.get(), tmp_name.c_str(), 0700) != 0) {
    const int err = errno;
    return Internal("creating a directory in the model cache " + root_.string() + ": " +
                    ErrnoText(err));
  }
  Result<CachedModel> result = ExtractInto(root_fd.get(), tmp_name, archive_fd, digest);
  if (!result.ok()) RemoveTree(root_ / tmp_name);
  return result;
}

Result<CachedModel> ModelCache::ExtractInto(int root_fd, const std::string& tmp_name,
                                            int archive_fd, const std::string& digest) {
  UniqueFd dir(
      ::openat(root_fd, tmp_name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir.valid()) {
    const int err = errno;
    return Internal("opening " + tmp_name + ": " + ErrnoText(err));
  }
  if (::lseek(archive_fd, 0, SEEK_SET) != 0) {
    const int err = errno;
    return Internal("rewinding the archive: " + ErrnoText(err));
  }
  Sha256 check;
  ByteObserver observe = [&check](const char* data, size_t n) { check.Update(data, n); };
  THAW_ASSIGN_OR_RETURN(ExtractStats stats, ExtractTarGz(archive_fd, dir.get(), limits_, observe));
  if (check.HexDigest() != digest) {
    return FailedPrecondition("the model archive changed while it was being extracted; retry");
  }
  // Readable by the sandboxed workers, which may run as another user.
  if (::fchmod(dir.get(), 0755) != 0) {
    const int err = errno;
    return Internal("setting the mode of " + tmp_name + ": " + ErrnoText(err));
  }
  if (::renameat(root_fd, tmp_name.c_str(), root_fd, digest.c_str()) != 0) {
    const int err = errno;
    if (err != EEXIST && err != ENOTEMPTY) {
      return Internal("renaming " + tmp_name + " to " + digest + ": " + ErrnoText(err));
    }
    // Another process sharing the root installed the same digest first: use its copy.
    RemoveTree(root_ / tmp_name);
    THAW_ASSIGN_OR_RETURN(std::optional<CachedModel> theirs, Lookup(root_fd, digest));
    if (theirs) return *std::move(theirs);
    return Internal("the model cache entry " + digest + " vanished while it was installed");
  }
  {
    std::lock_guard lock(mu_);
    ++extractions_;
    known_bytes_[digest] = stats.bytes;
  }
  Logger("artifacts")
      ->info("extracted model digest={} bytes={} entries={}", digest, stats.bytes, stats.entries);
  return CachedModel{digest, root_ / digest, stats.bytes};
}

Result<std::optional<CachedModel>> ModelCache::Lookup(int root_fd, const std::string& digest) {
  struct stat st {};
  if (::fstatat(root_fd, digest.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    const int err = errno;
    if (err == ENOENT) return std::optional<CachedModel>();
    return Internal("stat of the model cache entry " + digest + ": " + ErrnoText(err));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Internal("the model cache entry " + (root_ / digest).string() + " is not a directory");
  }
  CachedModel model{digest, root_ / digest, 0};
  {
    std::lock_guard lock(mu_);
    auto it = known_bytes_.find(digest);
    if (it != known_bytes_.end()) {
      model.bytes = it->second;
      return std::optional<CachedModel>(std::move(model));
    }
  }
  // Extracted by an earlier process: measure once.
  THAW_ASSIGN_OR_RETURN(model.bytes, DirBytes(model.dir));
  {
    std::lock_guard lock(mu_);
    known_bytes_[digest] = model.bytes;
  }
  return std::optional<CachedModel>(std::move(model));
}

Status ModelCache::RemoveLeftovers() {
  std::error_code ec;
  fs::directory_iterator it(root_, ec);
  if (ec == std::errc::no_such_file_or_directory) return Status::Ok();
  for (fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().rfind(kTmpPrefix, 0) == 0) RemoveTree(it->path());
  }
  if (ec) return Internal("listing the model cache " + root_.string() + ": " + ec.message());
  return Status::Ok();
}

}  // namespace thaw::artifacts
