#pragma once
// The files behind the embedded S3 subset. Layout under <data-dir>/s3 (what artifacts/resolve.cc
// reads for s3://bucket/key):
//
//   <bucket>/<key>                 one regular file per object ('/' in a key = directories)
//   .thaw-tmp/<random>             uploads being received (bucket names cannot start with '.')
//   .thaw-multipart/<upload id>/   upload.json (bucket, key, metadata) and part-NNNNN files
//
// An object's metadata (ETag, Content-Type, x-amz-meta-*) is a JSON extended attribute
// `user.thaw.s3` on the object's file: it is written on the temporary file before the rename,
// so the data and its metadata appear together, atomically, and a crash leaves either the old
// object or the new one. A file without the attribute (put there by hand) gets its MD5 as ETag
// (computed once, then stored) and binary/octet-stream.
//
// Writes: a temp file, fsync, setxattr, rename, fsync of the directory. .thaw-tmp is emptied at
// start-up (Init): a crash mid-upload leaves nothing visible. Thread-safe: operations are file
// system calls; concurrent writers of one key race as S3's last-writer-wins.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace thaw::s3 {

struct ObjectMeta {
  uint64_t size = 0;
  std::string etag;  // without quotes: hex MD5, or "<hex>-N" for multipart
  std::string content_type = "binary/octet-stream";
  std::vector<std::pair<std::string, std::string>> user_meta;  // names without x-amz-meta-
  std::chrono::system_clock::time_point last_modified;
};

struct BucketInfo {
  std::string name;
  std::chrono::system_clock::time_point created;
};

// A body being received into a temporary file. Destroying an uncommitted upload removes its file.
class Upload {
 public:
  ~Upload();
  Status Write(std::string_view data);
  uint64_t size() const { return size_; }
  // Digests of everything written (call once, after the last Write).
  std::string FinishMd5();     // raw 16 bytes
  std::string FinishSha256();  // lower-case hex

 private:
  friend class ObjectStore;
  Upload() = default;
  int fd_ = -1;
  std::filesystem::path path_;
  uint64_t size_ = 0;
  struct Digests;
  std::unique_ptr<Digests> digests_;
};

struct ListedObject {
  std::string key;
  ObjectMeta meta;
};

struct ListPage {
  std::vector<std::string> keys;             // in order
  std::vector<std::string> common_prefixes;  // in order
  bool truncated = false;
  std::string next_marker;  // the last key or prefix returned, when truncated
};

// Pure: one page of a listing over `sorted_keys` (all keys of the bucket, sorted bytewise).
// Keys after `start_after` only; a key containing `delimiter` after the prefix is rolled up into
// its common prefix (counted once against max_keys).
ListPage Paginate(const std::vector<std::string>& sorted_keys, std::string_view prefix,
                  std::string_view delimiter, std::string_view start_after, size_t max_keys);

// Pure: "bytes=a-b" / "bytes=a-" / "bytes=-n" against an object of `size` bytes → [first, last].
// nullopt: not a single byte range thaw understands (the whole object is served);
// InvalidRange (416) when unsatisfiable.
Result<std::optional<std::pair<uint64_t, uint64_t>>> ParseRange(std::string_view header,
                                                                uint64_t size);

struct PartInfo {
  int number = 0;
  std::string etag;
  uint64_t size = 0;
  std::chrono::system_clock::time_point last_modified;
};

class ObjectStore {
 public:
  explicit ObjectStore(std::filesystem::path root);

  // Creates the private directories and removes leftovers of interrupted uploads.
  Status Init();

  Result<std::vector<BucketInfo>> ListBuckets() const;
  bool BucketExists(std::string_view bucket) const;
  // AlreadyExists (BucketAlreadyOwnedByYou) when present.
  Status CreateBucket(std::string_view bucket);
  // NoSuchBucket, BucketNotEmpty.
  Status DeleteBucket(std::string_view bucket);
  Status CheckBucket(std::string_view bucket) const;  // NoSuchBucket when missing

  Result<ObjectMeta> Stat(std::string_view bucket, std::string_view key) const;
  // An open read-only descriptor (caller closes) and the metadata.
  Result<std::pair<int, ObjectMeta>> Open(std::string_view bucket, std::string_view key) const;
  // Succeeds for a missing key (S3's DeleteObject is idempotent); NoSuchBucket.
  Status Delete(std::string_view bucket, std::string_view key);
  // All keys of the bucket under the directory of `prefix`, sorted.
  Result<std::vector<std::string>> Keys(std::string_view bucket, std::string_view prefix) const;

  Result<std::unique_ptr<Upload>> BeginUpload();
  // fsync, metadata, rename into place. `meta.etag` empty: the upload's MD5.
  Result<ObjectMeta> Commit(Upload& upload, std::string_view bucket, std::string_view key,
                            ObjectMeta meta);
  Result<ObjectMeta> Copy(std::string_view src_bucket, std::string_view src_key,
                          std::string_view dst_bucket, std::string_view dst_key,
                          std::optional<ObjectMeta> replace_meta);

  // Multipart.
  Result<std::string> CreateMultipart(std::string_view bucket, std::string_view key,
                                      const ObjectMeta& meta);
  // NoSuchUpload unless the upload exists for this bucket and key.
  Status CheckUpload(std::string_view upload_id, std::string_view bucket,
                     std::string_view key) const;
  // `etag`: the part's hex MD5 (the caller finished the upload's digest).
  Result<std::string> CommitPart(Upload& upload, std::string_view upload_id, int part_number,
                                 std::string etag);
  Result<std::vector<PartInfo>> ListParts(std::string_view upload_id) const;
  Result<ObjectMeta> CompleteMultipart(std::string_view upload_id, std::string_view bucket,
                                       std::string_view key,
                                       const std::vector<std::pair<int, std::string>>& parts);
  Status AbortMultipart(std::string_view upload_id);

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path ObjectPath(std::string_view bucket, std::string_view key) const;
  std::filesystem::path UploadDir(std::string_view upload_id) const;

  std::filesystem::path root_;
};

}  // namespace thaw::s3
