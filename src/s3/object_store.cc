#include "s3/object_store.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "common/hash.h"
#include "common/ids.h"
#include "s3/names.h"

namespace thaw::s3 {
namespace fs = std::filesystem;
namespace {

constexpr char kXattr[] = "user.thaw.s3";
constexpr char kTmpDir[] = ".thaw-tmp";
constexpr char kMultipartDir[] = ".thaw-multipart";
constexpr uint64_t kMinPartSize = 5ull << 20;

std::optional<std::string> RawOfHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
    if (ec != std::errc() || p != hex.data() + i + 2) return std::nullopt;
    out.push_back(static_cast<char>(v));
  }
  return out;
}

Status Errno(std::string_view what, const fs::path& p) {
  return Internal(std::string(what) + " " + p.string() + ": " + std::strerror(errno));
}

Status NoSuchBucket() {
  return S3Error("NoSuchBucket", Code::kNotFound, "The specified bucket does not exist");
}
Status NoSuchKey() {
  return S3Error("NoSuchKey", Code::kNotFound, "The specified key does not exist.");
}
Status NoSuchUpload() {
  return S3Error("NoSuchUpload", Code::kNotFound,
                 "The specified upload does not exist. The upload ID may be invalid, or the upload "
                 "may have been aborted or completed.");
}

std::chrono::system_clock::time_point MTime(const struct stat& st) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

nlohmann::json MetaJson(const ObjectMeta& m) {
  nlohmann::json j = {{"etag", m.etag}, {"content_type", m.content_type}};
  nlohmann::json user = nlohmann::json::array();
  for (const auto& [k, v] : m.user_meta) user.push_back({k, v});
  j["meta"] = user;
  return j;
}

Status SetMeta(int fd, const ObjectMeta& m, const fs::path& p) {
  std::string text = MetaJson(m).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (fsetxattr(fd, kXattr, text.data(), text.size(), 0) != 0) return Errno("setxattr", p);
  return Status::Ok();
}

std::string Md5OfFd(int fd) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  std::array<char, 1 << 16> buf;
  off_t off = 0;
  for (;;) {
    ssize_t n = pread(fd, buf.data(), buf.size(), off);
    if (n <= 0) break;
    EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(n));
    off += n;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> out;
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, out.data(), &len);
  EVP_MD_CTX_free(ctx);
  return HexEncode({reinterpret_cast<const char*>(out.data()), len});
}

// The metadata of an open object file.
ObjectMeta ReadMeta(int fd, const struct stat& st) {
  ObjectMeta m;
  m.size = static_cast<uint64_t>(st.st_size);
  m.last_modified = MTime(st);
  std::array<char, 65536> buf;
  ssize_t n = fgetxattr(fd, kXattr, buf.data(), buf.size());
  if (n > 0) {
    auto j =
        nlohmann::json::parse(std::string_view(buf.data(), static_cast<size_t>(n)), nullptr, false);
    if (!j.is_discarded() && j.is_object()) {
      m.etag = j.value("etag", "");
      m.content_type = j.value("content_type", m.content_type);
      if (auto it = j.find("meta"); it != j.end() && it->is_array()) {
        for (const auto& kv : *it) {
          if (kv.is_array() && kv.size() == 2 && kv[0].is_string() && kv[1].is_string()) {
            m.user_meta.emplace_back(kv[0].get<std::string>(), kv[1].get<std::string>());
          }
        }
      }
    }
  }
  if (m.etag.empty()) m.etag = Md5OfFd(fd);  // a file placed by hand
  return m;
}

Status FsyncDir(const fs::path& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open", dir);
  int rc = fsync(fd);
  close(fd);
  if (rc != 0) return Errno("fsync", dir);
  return Status::Ok();
}

// Removes now-empty directories from `dir` up to (not including) `stop`.
void PruneEmptyDirs(fs::path dir, const fs::path& stop) {
  while (dir != stop && dir.string().size() > stop.string().size()) {
    if (rmdir(dir.c_str()) != 0) return;
    dir = dir.parent_path();
  }
}

}  // namespace

struct Upload::Digests {
  EVP_MD_CTX* md5 = EVP_MD_CTX_new();
  EVP_MD_CTX* sha = EVP_MD_CTX_new();
  Digests() {
    EVP_DigestInit_ex(md5, EVP_md5(), nullptr);
    EVP_DigestInit_ex(sha, EVP_sha256(), nullptr);
  }
  ~Digests() {
    EVP_MD_CTX_free(md5);
    EVP_MD_CTX_free(sha);
  }
};

Upload::~Upload() {
  if (fd_ >= 0) close(fd_);
  if (!path_.empty()) unlink(path_.c_str());
}

Status Upload::Write(std::string_view data) {
  EVP_DigestUpdate(digests_->md5, data.data(), data.size());
  EVP_DigestUpdate(digests_->sha, data.data(), data.size());
  while (!data.empty()) {
    ssize_t n = write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write", path_);
    }
    data.remove_prefix(static_cast<size_t>(n));
    size_ += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

std::string Upload::FinishMd5() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out;
  unsigned int len = 0;
  EVP_DigestFinal_ex(digests_->md5, out.data(), &len);
  return {reinterpret_cast<const char*>(out.data()), len};
}

std::string Upload::FinishSha256() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out;
  unsigned int len = 0;
  EVP_DigestFinal_ex(digests_->sha, out.data(), &len);
  return HexEncode({reinterpret_cast<const char*>(out.data()), len});
}

ListPage Paginate(const std::vector<std::string>& sorted_keys, std::string_view prefix,
                  std::string_view delimiter, std::string_view start_after, size_t max_keys) {
  ListPage page;
  auto it = std::upper_bound(sorted_keys.begin(), sorted_keys.end(), start_after,
                             [](std::string_view a, const std::string& b) { return a < b; });
  if (start_after.empty()) it = sorted_keys.begin();
  size_t count = 0;
  for (; it != sorted_keys.end(); ++it) {
    const std::string& key = *it;
    if (key.compare(0, prefix.size(), prefix) != 0) {
      if (key > prefix) break;
      continue;
    }
    std::string rolled;
    if (!delimiter.empty()) {
      size_t d = key.find(delimiter, prefix.size());
      if (d != std::string::npos) rolled = key.substr(0, d + delimiter.size());
    }
    if (!rolled.empty() && !page.common_prefixes.empty() && page.common_prefixes.back() == rolled) {
      continue;
    }
    if (!rolled.empty() && rolled <= start_after) continue;  // that prefix was on an earlier page
    if (count == max_keys) {
      page.truncated = true;
      break;
    }
    ++count;
    if (!rolled.empty()) {
      page.common_prefixes.push_back(rolled);
      page.next_marker = rolled;
    } else {
      page.keys.push_back(key);
      page.next_marker = key;
    }
  }
  if (!page.truncated) page.next_marker.clear();
  return page;
}

Result<std::optional<std::pair<uint64_t, uint64_t>>> ParseRange(std::string_view header,
                                                                uint64_t size) {
  using R = std::optional<std::pair<uint64_t, uint64_t>>;
  constexpr std::string_view kBytes = "bytes=";
  if (header.substr(0, kBytes.size()) != kBytes) return R();
  std::string_view spec = header.substr(kBytes.size());
  if (spec.find(',') != spec.npos) return R();
  size_t dash = spec.find('-');
  if (dash == spec.npos) return R();
  auto num = [](std::string_view s) -> std::optional<uint64_t> {
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
  };
  auto unsatisfiable = [] {
    return S3Error("InvalidRange", Code::kFailedPrecondition,
                   "The requested range is not satisfiable");
  };
  std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
  if (a.empty()) {
    auto n = num(b);
    if (!n) return R();
    if (*n == 0 || size == 0) return unsatisfiable();
    uint64_t len = std::min(*n, size);
    return R(std::pair{size - len, size - 1});
  }
  auto first = num(a);
  if (!first) return R();
  uint64_t last = size == 0 ? 0 : size - 1;
  if (!b.empty()) {
    auto l = num(b);
    if (!l || *l < *first) return R();
    last = std::min(*l, last);
  }
  if (*first >= size) return unsatisfiable();
  return R(std::pair{*first, last});
}

ObjectStore::ObjectStore(fs::path root) : root_(std::move(root)) {}

fs::path ObjectStore::ObjectPath(std::string_view bucket, std::string_view key) const {
  return root_ / std::string(bucket) / std::string(key);
}

fs::path ObjectStore::UploadDir(std::string_view upload_id) const {
  return root_ / kMultipartDir / std::string(upload_id);
}

Status ObjectStore::Init() {
  std::error_code ec;
  fs::create_directories(root_ / kMultipartDir, ec);
  if (ec)
    return Internal("cannot create " + (root_ / kMultipartDir).string() + ": " + ec.message());
  fs::remove_all(root_ / kTmpDir, ec);  // leftovers of uploads cut by a crash
  fs::create_directories(root_ / kTmpDir, ec);
  if (ec) return Internal("cannot create " + (root_ / kTmpDir).string() + ": " + ec.message());
  return Status::Ok();
}

Result<std::vector<BucketInfo>> ObjectStore::ListBuckets() const {
  std::vector<BucketInfo> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || name.front() == '.') continue;
    struct stat st {};
    if (lstat(entry.path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    out.push_back({name, MTime(st)});
  }
  if (ec) return Internal("cannot list " + root_.string() + ": " + ec.message());
  std::sort(out.begin(), out.end(),
            [](const BucketInfo& a, const BucketInfo& b) { return a.name < b.name; });
  return out;
}

bool ObjectStore::BucketExists(std::string_view bucket) const {
  if (bucket.empty() || bucket.front() == '.' || bucket.find('/') != bucket.npos) return false;
  struct stat st {};
  return lstat((root_ / std::string(bucket)).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status ObjectStore::CheckBucket(std::string_view bucket) const {
  return BucketExists(bucket) ? Status::Ok() : NoSuchBucket();
}

Status ObjectStore::CreateBucket(std::string_view bucket) {
  THAW_RETURN_IF_ERROR(ValidateBucketName(bucket));
  fs::path p = root_ / std::string(bucket);
  if (mkdir(p.c_str(), 0755) != 0) {
    if (errno == EEXIST) {
      return S3Error("BucketAlreadyOwnedByYou", Code::kAlreadyExists,
                     "Your previous request to create the named bucket succeeded and you already "
                     "own it.");
    }
    return Errno("mkdir", p);
  }
  return FsyncDir(root_);
}

Status ObjectStore::DeleteBucket(std::string_view bucket) {
  THAW_RETURN_IF_ERROR(CheckBucket(bucket));
  THAW_ASSIGN_OR_RETURN(auto keys, Keys(bucket, ""));
  if (!keys.empty()) {
    return S3Error("BucketNotEmpty", Code::kFailedPrecondition,
                   "The bucket you tried to delete is not empty");
  }
  std::error_code ec;
  fs::remove_all(root_ / std::string(bucket), ec);  // only empty directories are left
  if (ec) return Internal("cannot remove bucket " + std::string(bucket) + ": " + ec.message());
  return Status::Ok();
}

Result<std::pair<int, ObjectMeta>> ObjectStore::Open(std::string_view bucket,
                                                     std::string_view key) const {
  THAW_RETURN_IF_ERROR(CheckBucket(bucket));
  fs::path p = ObjectPath(bucket, key);
  int fd = open(p.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return NoSuchKey();
    return Errno("open", p);
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return NoSuchKey();
  }
  return std::pair{fd, ReadMeta(fd, st)};
}

Result<ObjectMeta> ObjectStore::Stat(std::string_view bucket, std::string_view key) const {
  THAW_ASSIGN_OR_RETURN(auto opened, Open(bucket, key));
  close(opened.first);
  return opened.second;
}

Status ObjectStore::Delete(std::string_view bucket, std::string_view key) {
  THAW_RETURN_IF_ERROR(CheckBucket(bucket));
  fs::path p = ObjectPath(bucket, key);
  struct stat st {};
  if (lstat(p.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) return Status::Ok();
  if (unlink(p.c_str()) != 0 && errno != ENOENT) return Errno("unlink", p);
  PruneEmptyDirs(p.parent_path(), root_ / std::string(bucket));
  return Status::Ok();
}

Result<std::vector<std::string>> ObjectStore::Keys(std::string_view bucket,
                                                   std::string_view prefix) const {
  THAW_RETURN_IF_ERROR(CheckBucket(bucket));
  fs::path base = root_ / std::string(bucket);
  // Walk only the directory the prefix is inside of.
  std::string dir_part(prefix.substr(0, prefix.rfind('/') == prefix.npos ? 0 : prefix.rfind('/')));
  fs::path start = base;
  if (!dir_part.empty() && ValidateKey(dir_part).ok()) start = base / dir_part;
  std::vector<std::string> keys;
  std::error_code ec;
  struct stat st {};
  if (lstat(start.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return keys;
  for (auto it = fs::recursive_directory_iterator(start, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    keys.push_back(it->path().lexically_relative(base).generic_string());
  }
  if (ec) return Internal("cannot list bucket " + std::string(bucket) + ": " + ec.message());
  std::sort(keys.begin(), keys.end());
  return keys;
}

Result<std::unique_ptr<Upload>> ObjectStore::BeginUpload() {
  std::unique_ptr<Upload> up(new Upload());
  up->path_ = root_ / kTmpDir / ("up-" + RandomHex(12));
  up->fd_ = open(up->path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (up->fd_ < 0) {
    fs::path p = up->path_;
    up->path_.clear();
    return Errno("create", p);
  }
  up->digests_ = std::make_unique<Upload::Digests>();
  return up;
}

Result<ObjectMeta> ObjectStore::Commit(Upload& up, std::string_view bucket, std::string_view key,
                                       ObjectMeta meta) {
  THAW_RETURN_IF_ERROR(CheckBucket(bucket));
  if (meta.etag.empty()) meta.etag = HexEncode(up.FinishMd5());
  meta.size = up.size();
  if (fsync(up.fd_) != 0) return Errno("fsync", up.path_);
  THAW_RETURN_IF_ERROR(SetMeta(up.fd_, meta, up.path_));
  fs::path dest = ObjectPath(bucket, key);
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (ec) {
    return S3Error(
        "InvalidArgument", Code::kInvalidArgument,
        "Object key conflicts with an existing object used as a key prefix: " + std::string(key));
  }
  struct stat st {};
  if (lstat(dest.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return S3Error(
        "InvalidArgument", Code::kInvalidArgument,
        "Object key is already a prefix of other keys in this store: " + std::string(key));
  }
  if (rename(up.path_.c_str(), dest.c_str()) != 0) return Errno("rename", dest);
  up.path_.clear();  // committed: the destructor leaves it alone
  THAW_RETURN_IF_ERROR(FsyncDir(dest.parent_path()));
  if (fstat(up.fd_, &st) == 0) meta.last_modified = MTime(st);
  return meta;
}

Result<ObjectMeta> ObjectStore::Copy(std::string_view src_bucket, std::string_view src_key,
                                     std::string_view dst_bucket, std::string_view dst_key,
                                     std::optional<ObjectMeta> replace_meta) {
  THAW_ASSIGN_OR_RETURN(auto src, Open(src_bucket, src_key));
  int in = src.first;
  THAW_RETURN_IF_ERROR(CheckBucket(dst_bucket));
  auto up = BeginUpload();
  if (!up.ok()) {
    close(in);
    return up.status();
  }
  std::array<char, 1 << 16> buf;
  off_t off = 0;
  for (;;) {
    ssize_t n = pread(in, buf.data(), buf.size(), off);
    if (n < 0) {
      close(in);
      return Internal("read failed during copy");
    }
    if (n == 0) break;
    Status st = (*up)->Write({buf.data(), static_cast<size_t>(n)});
    if (!st.ok()) {
      close(in);
      return st;
    }
    off += n;
  }
  close(in);
  ObjectMeta meta = replace_meta ? *replace_meta : src.second;
  meta.etag = src.second.etag;
  return Commit(**up, dst_bucket, dst_key, meta);
}

Result<std::string> ObjectStore::CreateMultipart(std::string_view bucket, std::string_view key,
                                                 const ObjectMeta& meta) {
  THAW_RETURN_IF_ERROR(CheckBucket(bucket));
  std::string id = RandomHex(16);
  fs::path dir = UploadDir(id);
  if (mkdir(dir.c_str(), 0755) != 0) return Errno("mkdir", dir);
  nlohmann::json info = MetaJson(meta);
  info["bucket"] = bucket;
  info["key"] = key;
  std::ofstream(dir / "upload.json")
      << info.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return id;
}

Status ObjectStore::CheckUpload(std::string_view upload_id, std::string_view bucket,
                                std::string_view key) const {
  if (upload_id.empty() || upload_id.size() > 64 ||
      upload_id.find_first_not_of("0123456789abcdef") != upload_id.npos) {
    return NoSuchUpload();
  }
  std::ifstream in(UploadDir(upload_id) / "upload.json");
  if (!in) return NoSuchUpload();
  auto info = nlohmann::json::parse(in, nullptr, false);
  if (info.is_discarded() || info.value("bucket", "") != bucket || info.value("key", "") != key) {
    return NoSuchUpload();
  }
  return Status::Ok();
}

Result<std::string> ObjectStore::CommitPart(Upload& up, std::string_view upload_id, int part_number,
                                            std::string etag) {
  ObjectMeta meta;
  meta.etag = etag;
  if (fsync(up.fd_) != 0) return Errno("fsync", up.path_);
  THAW_RETURN_IF_ERROR(SetMeta(up.fd_, meta, up.path_));
  std::array<char, 16> name;
  std::snprintf(name.data(), name.size(), "part-%05d", part_number);
  fs::path dest = UploadDir(upload_id) / name.data();
  if (rename(up.path_.c_str(), dest.c_str()) != 0) {
    if (errno == ENOENT) return NoSuchUpload();  // aborted meanwhile
    return Errno("rename", dest);
  }
  up.path_.clear();
  return etag;
}

Result<std::vector<PartInfo>> ObjectStore::ListParts(std::string_view upload_id) const {
  std::vector<PartInfo> parts;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(UploadDir(upload_id), ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("part-", 0) != 0) continue;
    int number = std::atoi(name.c_str() + 5);
    int fd = open(entry.path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    struct stat st {};
    if (fstat(fd, &st) == 0) {
      ObjectMeta m = ReadMeta(fd, st);
      parts.push_back({number, m.etag, m.size, m.last_modified});
    }
    close(fd);
  }
  if (ec) return NoSuchUpload();
  std::sort(parts.begin(), parts.end(),
            [](const PartInfo& a, const PartInfo& b) { return a.number < b.number; });
  return parts;
}

Result<ObjectMeta> ObjectStore::CompleteMultipart(
    std::string_view upload_id, std::string_view bucket, std::string_view key,
    const std::vector<std::pair<int, std::string>>& parts) {
  THAW_RETURN_IF_ERROR(CheckUpload(upload_id, bucket, key));
  if (parts.empty()) {
    return S3Error("MalformedXML", Code::kInvalidArgument,
                   "The XML you provided was not well-formed or did not validate against our "
                   "published schema");
  }
  THAW_ASSIGN_OR_RETURN(auto stored, ListParts(upload_id));
  auto invalid_part = [] {
    return S3Error("InvalidPart", Code::kInvalidArgument,
                   "One or more of the specified parts could not be found.  The part may not have "
                   "been uploaded, or the specified entity tag may not match the part's entity "
                   "tag.");
  };
  std::string md5s;
  int previous = 0;
  std::vector<const PartInfo*> chosen;
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto& [number, etag_in] = parts[i];
    if (number <= previous) {
      return S3Error("InvalidPartOrder", Code::kInvalidArgument,
                     "The list of parts was not in ascending order. Parts must be ordered by part "
                     "number.");
    }
    previous = number;
    std::string etag = etag_in;
    etag.erase(std::remove(etag.begin(), etag.end(), '"'), etag.end());
    auto it = std::find_if(stored.begin(), stored.end(),
                           [n = number](const PartInfo& p) { return p.number == n; });
    if (it == stored.end() || it->etag != etag) return invalid_part();
    if (i + 1 < parts.size() && it->size < kMinPartSize) {
      return S3Error("EntityTooSmall", Code::kInvalidArgument,
                     "Your proposed upload is smaller than the minimum allowed object size.");
    }
    auto raw = RawOfHex(etag);
    if (!raw) return invalid_part();
    md5s += *raw;
    chosen.push_back(&*it);
  }
  THAW_ASSIGN_OR_RETURN(auto up, BeginUpload());
  std::array<char, 1 << 16> buf;
  for (const PartInfo* part : chosen) {
    std::array<char, 16> name;
    std::snprintf(name.data(), name.size(), "part-%05d", part->number);
    fs::path p = UploadDir(upload_id) / name.data();
    int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return invalid_part();
    off_t off = 0;
    for (;;) {
      ssize_t n = pread(fd, buf.data(), buf.size(), off);
      if (n <= 0) break;
      Status st = up->Write({buf.data(), static_cast<size_t>(n)});
      if (!st.ok()) {
        close(fd);
        return st;
      }
      off += n;
    }
    close(fd);
  }
  std::ifstream in(UploadDir(upload_id) / "upload.json");
  auto info = nlohmann::json::parse(in, nullptr, false);
  ObjectMeta meta;
  if (!info.is_discarded()) {
    meta.content_type = info.value("content_type", meta.content_type);
    if (auto it = info.find("meta"); it != info.end() && it->is_array()) {
      for (const auto& kv : *it) {
        if (kv.is_array() && kv.size() == 2) {
          meta.user_meta.emplace_back(kv[0].get<std::string>(), kv[1].get<std::string>());
        }
      }
    }
  }
  // S3's multipart ETag: MD5 of the concatenated binary part MD5s, then "-<part count>".
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  EVP_DigestUpdate(ctx, md5s.data(), md5s.size());
  std::array<unsigned char, EVP_MAX_MD_SIZE> out;
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, out.data(), &len);
  EVP_MD_CTX_free(ctx);
  meta.etag = HexEncode({reinterpret_cast<const char*>(out.data()), len}) + "-" +
              std::to_string(parts.size());
  THAW_ASSIGN_OR_RETURN(ObjectMeta done, Commit(*up, bucket, key, meta));
  std::error_code ec;
  fs::remove_all(UploadDir(upload_id), ec);
  return done;
}

Status ObjectStore::AbortMultipart(std::string_view upload_id) {
  std::error_code ec;
  fs::remove_all(UploadDir(upload_id), ec);
  return Status::Ok();
}

}  // namespace thaw::s3
