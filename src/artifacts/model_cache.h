#pragma once
// Content-addressed cache of extracted model archives.
//
// <root>/<sha256 of the archive bytes>/ holds the extracted files of one archive. A directory
// appears there only whole: extraction goes to <root>/.tmp-<random>/ and is renamed into place,
// so a reader never sees a half-extracted model, and a crash leaves only a .tmp- directory
// (RemoveLeftovers). Identical bytes, whatever their path, extract once and share a directory.
// The archive is hashed before extraction, to look it up, and again as it is extracted, so a
// file rewritten in between cannot put other content under its digest.

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "artifacts/tar_extractor.h"
#include "common/status.h"

namespace thaw::artifacts {

struct CachedModel {
  std::string digest;         // lower-case hex SHA-256 of the archive bytes
  std::filesystem::path dir;  // <root>/<digest>: the extracted files; treat as read-only
  uint64_t bytes = 0;         // total extracted bytes (regular files, hard links once)
};

// Thread-safe. Concurrent Materialize calls for the same bytes extract once: the first caller
// extracts, the others wait for its result. Other processes may share the root: the rename into
// place decides who wins, and the loser discards its copy.
class ModelCache {
 public:
  ModelCache(std::filesystem::path root, ExtractLimits limits);
  ModelCache(const ModelCache&) = delete;
  ModelCache& operator=(const ModelCache&) = delete;

  // The extracted model for the gzip-compressed tar at `archive`, extracting it unless a
  // directory for its digest exists. Errors: NotFound when the file does not exist;
  // InvalidArgument, with a message a person can act on, for anything wrong with the archive
  // (see tar_extractor.h); FailedPrecondition when the file changed while it was read; Internal
  // for host failures. After an error nothing new stays under root.
  Result<CachedModel> Materialize(const std::filesystem::path& archive);

  // Removes the .tmp- directories a crashed process left under root. Call at start-up, before
  // any Materialize, and only when no other process is extracting into the same root.
  Status RemoveLeftovers();

  const std::filesystem::path& root() const { return root_; }
  const ExtractLimits& limits() const { return limits_; }
  // Archives this object extracted (cache hits excluded).
  uint64_t extractions() const;

 private:
  struct Flight;  // one extraction in progress, which later callers for the same digest join

  Result<CachedModel> LookupOrExtract(int archive_fd, const std::string& digest);
  Result<CachedModel> ExtractInto(int root_fd, const std::string& tmp_name, int archive_fd,
                                  const std::string& digest);
  // The cached model for `digest` when its directory exists, nullopt when it does not.
  Result<std::optional<CachedModel>> Lookup(int root_fd, const std::string& digest);

  const std::filesystem::path root_;
  const ExtractLimits limits_;

  mutable std::mutex mu_;
  std::condition_variable flight_done_;                     // signalled when a Flight completes
  std::map<std::string, std::shared_ptr<Flight>> flights_;  // guarded by mu_; by digest
  std::map<std::string, uint64_t> known_bytes_;             // guarded by mu_; by digest
  uint64_t extractions_ = 0;                                // guarded by mu_
};

}  // namespace thaw::artifacts
