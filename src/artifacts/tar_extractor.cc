#include "artifacts/tar_extractor.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "artifacts/entry_path.h"
#include "artifacts/unique_fd.h"

namespace thaw::artifacts {
namespace {

constexpr size_t kReadChunkBytes = size_t{64} * 1024;
// Headers, padding and skipped data may add this much to the decompressed stream on top of the
// file bytes, so a stream of pax headers cannot make us inflate without bound.
constexpr uint64_t kMetadataSlackBytes = 16ull << 20;
constexpr uint64_t kMetadataBytesPerEntry = uint64_t{8} * 1024;
constexpr char kNotGzipTar[] = "the file is not a gzip-compressed tar archive";

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

std::string Entry(std::string_view name) { return "archive entry " + QuoteEntryName(name); }

// libarchive's messages are ASCII in practice; keep them so, whatever they quote.
std::string Printable(const char* msg) {
  std::string out = msg != nullptr ? msg : "unexpected end of the compressed data";
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return out;
}

// The archive bytes, read from a descriptor, shown to the observer as libarchive consumes them.
// No skip callback is registered, so libarchive reads every byte and the observer sees them all.
struct Source {
  int fd = -1;
  const ByteObserver* observe = nullptr;
  std::vector<char> buf = std::vector<char>(kReadChunkBytes);
  size_t prefilled = 0;  // the first read, checked for the gzip magic, not yet handed out
  int read_errno = 0;    // set when read() failed: an I/O error of the host, not a bad archive

  // Reads once into buf; returns the byte count or -1 with read_errno set.
  ssize_t ReadChunk() {
    ssize_t n;
    do {
      n = ::read(fd, buf.data(), buf.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      read_errno = errno;
      return -1;
    }
    if (n > 0 && observe != nullptr && *observe) (*observe)(buf.data(), static_cast<size_t>(n));
    return n;
  }

  static la_ssize_t Callback(struct archive* a, void* client, const void** out) {
    auto* self = static_cast<Source*>(client);
    *out = self->buf.data();
    if (self->prefilled > 0) return static_cast<la_ssize_t>(std::exchange(self->prefilled, 0));
    ssize_t n = self->ReadChunk();
    if (n < 0) archive_set_error(a, self->read_errno, "read failed");
    return n;
  }
};

struct ArchiveReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveReadFree>;

enum class Kind { kDir, kFile, kSymlink };

// What this extraction has created, by name. The destination starts empty and only we write to
// it, so this tree is the truth about it: no name is looked up on disk.
struct Node {
  Kind kind = Kind::kDir;
  std::map<std::string, std::unique_ptr<Node>, std::less<>> children;
};

// The open directory that will hold an entry, and its node.
struct Parent {
  UniqueFd owned;  // empty when the parent is the destination directory itself
  int fd = -1;
  Node* node = nullptr;
};

class Extractor {
 public:
  Extractor(struct archive* a, Source* source, int dest_fd, const ExtractLimits& limits)
      : a_(a), source_(source), dest_fd_(dest_fd), limits_(limits) {}

  Result<ExtractStats> Run() {
    while (true) {
      struct archive_entry* e = nullptr;
      int r = archive_read_next_header(a_, &e);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return ReadError();
      if (++stats_.entries > limits_.max_entries) return TooManyEntries();
      const auto consumed = static_cast<uint64_t>(archive_filter_bytes(a_, 0));
      if (consumed > stats_.bytes + kMetadataSlackBytes + kMetadataBytesPerEntry * stats_.entries) {
        return TooBig();
      }
      THAW_RETURN_IF_ERROR(ExtractEntry(e));
    }
    // Read the rest (the gzip trailer, padding) so the observer has seen the whole file.
    while (true) {
      ssize_t n = source_->ReadChunk();
      if (n < 0) return Internal("reading the archive: " + ErrnoText(source_->read_errno));
      if (n == 0) break;
    }
    return stats_;
  }

 private:
  Status ReadError() const {
    if (source_->read_errno != 0) {
      return Internal("reading the archive: " + ErrnoText(source_->read_errno));
    }
    return InvalidArgument("the archive is truncated or corrupt: " +
                           Printable(archive_error_string(a_)));
  }
  Status TooBig() const {
    return InvalidArgument("the archive expands past the " +
                           std::to_string(limits_.max_total_bytes) + "-byte limit");
  }
  Status TooManyEntries() const {
    return InvalidArgument("the archive has more than " + std::to_string(limits_.max_entries) +
                           " entries");
  }
  Status CountObject() {
    return ++objects_ > limits_.max_entries ? TooManyEntries() : Status::Ok();
  }
  // An environment failure while extracting `raw`; reads errno, so call it right after the call.
  static Status SysError(std::string_view raw, const char* what) {
    const int err = errno;
    return Internal(std::string(what) + " for " + Entry(raw) + ": " + ErrnoText(err));
  }
  // Like SysError, but EEXIST means two names this extraction thought different met on disk
  // (a case-insensitive file system): the archive's fault, and never followed.
  static Status CreateError(std::string_view raw, const char* what) {
    if (errno == EEXIST) {
      return InvalidArgument(Entry(raw) +
                             " collides with an earlier entry (the file system treats the names "
                             "as the same)");
    }
    return SysError(raw, what);
  }

  static const char* NameOf(struct archive_entry* e) {
    const char* n = archive_entry_pathname(e);
    return n != nullptr ? n : archive_entry_pathname_utf8(e);
  }
  static const char* SymlinkOf(struct archive_entry* e) {
    const char* n = archive_entry_symlink(e);
    return n != nullptr ? n : archive_entry_symlink_utf8(e);
  }
  static const char* HardlinkOf(struct archive_entry* e) {
    const char* n = archive_entry_hardlink(e);
    return n != nullptr ? n : archive_entry_hardlink_utf8(e);
  }

  Status ExtractEntry(struct archive_entry* e) {
    const char* name = NameOf(e);
    if (name == nullptr) return InvalidArgument("an archive entry has a name that cannot be read");
    const std::string_view raw = name;
    THAW_ASSIGN_OR_RETURN(EntryPath path, NormalizeEntryPath(raw));
    if (const char* target = HardlinkOf(e); target != nullptr) {
      return MakeHardLink(raw, path, target);
    }
    switch (archive_entry_filetype(e)) {
      case AE_IFDIR:
        return MakeDir(raw, path);
      case AE_IFREG:
        return MakeFile(raw, path, e);
      case AE_IFLNK:
        return MakeSymlink(raw, path, SymlinkOf(e));
      case AE_IFCHR:
      case AE_IFBLK:
        return InvalidArgument(Entry(raw) + " is a device file");
      case AE_IFIFO:
        return InvalidArgument(Entry(raw) + " is a FIFO (named pipe)");
      case AE_IFSOCK:
        return InvalidArgument(Entry(raw) + " is a socket");
      default:
        return InvalidArgument(Entry(raw) + " has an unsupported file type");
    }
  }

  // Opens the directories above the entry's last component, creating the missing ones (implicit
  // parents), and refuses a path through anything that is not a directory we created.
  Result<Parent> WalkParents(std::string_view raw, const EntryPath& path) {
    Parent p;
    p.fd = dest_fd_;
    p.node = &root_;
    for (size_t i = 0; i + 1 < path.size(); ++i) {
      const std::string& c = path[i];
      auto it = p.node->children.find(c);
      const bool create = it == p.node->children.end();
      if (create) {
        THAW_RETURN_IF_ERROR(CountObject());
        if (::mkdirat(p.fd, c.c_str(), 0700) != 0) return CreateError(raw, "creating a directory");
        it = p.node->children.emplace(c, std::make_unique<Node>()).first;
      } else if (it->second->kind != Kind::kDir) {
        const EntryPath prefix(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        return InvalidArgument(Entry(raw) + " lies under " + QuoteEntryName(JoinEntryPath(prefix)) +
                               ", which is not a directory");
      }
      UniqueFd next(::openat(p.fd, c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!next.valid()) return SysError(raw, "opening a directory");
      if (create && ::fchmod(next.get(), 0755) != 0) {
        return SysError(raw, "setting the mode of a directory");
      }
      p.owned = std::move(next);
      p.fd = p.owned.get();
      p.node = it->second.get();
    }
    return p;
  }

  // The node named by `path`, or null when a component is missing or not a directory.
  const Node* Find(const EntryPath& path) const {
    const Node* node = &root_;
    for (const std::string& c : path) {
      if (node->kind != Kind::kDir) return nullptr;
      auto it = node->children.find(c);
      if (it == node->children.end()) return nullptr;
      node = it->second.get();
    }
    return node;
  }

  // A second entry with the same name could replace a directory by a link after files were
  // written under it, or swap a checked file; only a repeated directory is harmless.
  static Status CheckNew(std::string_view raw, const Parent& p, const std::string& last) {
    if (p.node->children.count(last) != 0) {
      return InvalidArgument(Entry(raw) + " appears more than once in the archive");
    }
    return Status::Ok();
  }

  Status MakeDir(std::string_view raw, const EntryPath& path) {
    if (path.empty()) return Status::Ok();  // "./": the model directory itself
    THAW_ASSIGN_OR_RETURN(Parent p, WalkParents(raw, path));
    auto it = p.node->children.find(path.back());
    if (it != p.node->children.end() && it->second->kind == Kind::kDir) return Status::Ok();
    THAW_RETURN_IF_ERROR(CheckNew(raw, p, path.back()));
    THAW_RETURN_IF_ERROR(CountObject());
    if (::mkdirat(p.fd, path.back().c_str(), 0700) != 0) {
      return CreateError(raw, "creating a directory");
    }
    p.node->children.emplace(path.back(), std::make_unique<Node>());
    UniqueFd fd(
        ::openat(p.fd, path.back().c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid() || ::fchmod(fd.get(), 0755) != 0) {
      return SysError(raw, "setting the mode of a directory");
    }
    return Status::Ok();
  }

  Status MakeFile(std::string_view raw, const EntryPath& path, struct archive_entry* e) {
    if (path.empty()) {
      return InvalidArgument(Entry(raw) +
                             " names the model directory itself but is not a directory");
    }
    const uint64_t remaining = limits_.max_total_bytes - stats_.bytes;
    const bool size_known = archive_entry_size_is_set(e) != 0;
    const int64_t declared = size_known ? archive_entry_size(e) : 0;
    if (declared < 0) return InvalidArgument(Entry(raw) + " has a negative size");
    // Refuse early on the header alone: a sparse entry or a lying header may declare far more
    // than it carries, and the file would still reach the declared size.
    if (static_cast<uint64_t>(declared) > remaining) return TooBig();
    THAW_ASSIGN_OR_RETURN(Parent p, WalkParents(raw, path));
    THAW_RETURN_IF_ERROR(CheckNew(raw, p, path.back()));
    THAW_RETURN_IF_ERROR(CountObject());
    UniqueFd fd(::openat(p.fd, path.back().c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) return CreateError(raw, "creating a file");
    auto node = std::make_unique<Node>();
    node->kind = Kind::kFile;
    p.node->children.emplace(path.back(), std::move(node));

    // Data blocks carry their offset; sparse entries skip the holes. Every block is checked
    // before it is written, so neither a lying sparse map nor a missing size can grow the file
    // past the declared size or the budget.
    uint64_t end = 0;
    while (true) {
      const void* buf = nullptr;
      size_t len = 0;
      la_int64_t off = 0;
      const int r = archive_read_data_block(a_, &buf, &len, &off);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK) return ReadError();
      if (len == 0) continue;
      if (off < 0 || static_cast<uint64_t>(off) > std::numeric_limits<uint64_t>::max() - len) {
        return InvalidArgument(Entry(raw) + " has a corrupt sparse map");
      }
      const uint64_t block_end = static_cast<uint64_t>(off) + len;
      if (size_known && block_end > static_cast<uint64_t>(declared)) {
        return InvalidArgument(Entry(raw) + " holds data past the size its header declares");
      }
      if (block_end > remaining) return TooBig();
      THAW_RETURN_IF_ERROR(WriteAt(raw, fd.get(), static_cast<const char*>(buf), len, off));
      if (block_end > end) end = block_end;
    }
    const uint64_t final_size = size_known ? static_cast<uint64_t>(declared) : end;
    if (final_size > end && ::ftruncate(fd.get(), static_cast<off_t>(final_size)) != 0) {
      return SysError(raw, "sizing the file");
    }
    const mode_t mode = (archive_entry_perm(e) & 0111) != 0 ? 0755 : 0644;
    if (::fchmod(fd.get(), mode) != 0) return SysError(raw, "setting the mode of the file");
    stats_.bytes += final_size;
    return Status::Ok();
  }

  static Status WriteAt(std::string_view raw, int fd, const char* data, size_t len, int64_t off) {
    while (len > 0) {
      const ssize_t n = ::pwrite(fd, data, len, static_cast<off_t>(off));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return SysError(raw, "writing the file");
      if (n == 0) return Internal("writing the file for " + Entry(raw) + ": no progress");
      data += n;
      len -= static_cast<size_t>(n);
      off += n;
    }
    return Status::Ok();
  }

  Status MakeSymlink(std::string_view raw, const EntryPath& path, const char* target) {
    if (path.empty()) {
      return InvalidArgument(Entry(raw) +
                             " names the model directory itself but is not a directory");
    }
    if (target == nullptr) {
      return InvalidArgument(Entry(raw) + " is a symbolic link without a target");
    }
    THAW_RETURN_IF_ERROR(ResolveSymlinkTarget(raw, path, target).status());
    THAW_ASSIGN_OR_RETURN(Parent p, WalkParents(raw, path));
    THAW_RETURN_IF_ERROR(CheckNew(raw, p, path.back()));
    THAW_RETURN_IF_ERROR(CountObject());
    if (::symlinkat(target, p.fd, path.back().c_str()) != 0) {
      return CreateError(raw, "creating a symbolic link");
    }
    auto node = std::make_unique<Node>();
    node->kind = Kind::kSymlink;
    p.node->children.emplace(path.back(), std::move(node));
    return Status::Ok();
  }

  // A hard link may only join a regular file this extraction created: anything else could link
  // in a file from outside (the destination and the source share a file system).
  Status MakeHardLink(std::string_view raw, const EntryPath& path, std::string_view target) {
    if (path.empty()) {
      return InvalidArgument(Entry(raw) +
                             " names the model directory itself but is not a directory");
    }
    Result<EntryPath> to = NormalizeEntryPath(target);
    if (!to.ok() || to->empty()) {
      return InvalidArgument(Entry(raw) + " is a hard link outside the model directory (target " +
                             QuoteEntryName(target) + ")");
    }
    const Node* target_node = Find(*to);
    if (target_node == nullptr || target_node->kind != Kind::kFile) {
      return InvalidArgument(Entry(raw) + " is a hard link to " + QuoteEntryName(target) +
                             ", which is not a regular file earlier in the archive");
    }
    THAW_ASSIGN_OR_RETURN(Parent from, WalkParents(target, *to));
    THAW_ASSIGN_OR_RETURN(Parent p, WalkParents(raw, path));
    THAW_RETURN_IF_ERROR(CheckNew(raw, p, path.back()));
    THAW_RETURN_IF_ERROR(CountObject());
    if (::linkat(from.fd, to->back().c_str(), p.fd, path.back().c_str(), 0) != 0) {
      return CreateError(raw, "creating a hard link");
    }
    auto node = std::make_unique<Node>();
    node->kind = Kind::kFile;
    p.node->children.emplace(path.back(), std::move(node));
    return Status::Ok();
  }

  struct archive* a_;
  Source* source_;
  int dest_fd_;
  ExtractLimits limits_;
  Node root_;
  uint64_t objects_ = 0;
  ExtractStats stats_;
};

}  // namespace

Result<ExtractStats> ExtractTarGz(int archive_fd, int dest_dir_fd, const ExtractLimits& limits,
                                  const ByteObserver& observe) {
  Source source;
  source.fd = archive_fd;
  source.observe = &observe;
  // Read the first chunk ourselves to check the gzip magic before libarchive parses anything.
  const ssize_t n = source.ReadChunk();
  if (n < 0) return Internal("reading the archive: " + ErrnoText(source.read_errno));
  source.prefilled = static_cast<size_t>(n);
  const auto* head = reinterpret_cast<const unsigned char*>(source.buf.data());
  if (source.prefilled < 2 || head[0] != 0x1f || head[1] != 0x8b) {
    return InvalidArgument(kNotGzipTar);
  }

  ArchivePtr a(archive_read_new());
  if (!a) return Internal("archive_read_new failed");
  // Only the gzip filter and the tar formats (ustar, pax, GNU, v7): nothing else may be parsed.
  // A warning from the gzip filter means libarchive lacks zlib and would fork gzip(1).
  if (archive_read_support_filter_gzip(a.get()) != ARCHIVE_OK ||
      archive_read_support_format_tar(a.get()) != ARCHIVE_OK) {
    return Internal("libarchive lacks built-in gzip or tar support");
  }
  if (archive_read_open(a.get(), &source, nullptr, &Source::Callback, nullptr) != ARCHIVE_OK) {
    if (source.read_errno != 0) {
      return Internal("reading the archive: " + ErrnoText(source.read_errno));
    }
    // libarchive reports "Unrecognized archive format" with ARCHIVE_ERRNO_FILE_FORMAT, which is
    // EILSEQ on Linux (the name is not in the public headers); the gzip layer decoded fine.
    if (archive_errno(a.get()) == EILSEQ) {
      return InvalidArgument(std::string(kNotGzipTar) +
                             " (the gzip data does not hold a tar archive)");
    }
    return InvalidArgument("the archive is truncated or corrupt: " +
                           Printable(archive_error_string(a.get())));
  }
  if (archive_filter_code(a.get(), 0) != ARCHIVE_FILTER_GZIP) return InvalidArgument(kNotGzipTar);
  Extractor extractor(a.get(), &source, dest_dir_fd, limits);
  return extractor.Run();
}

}  // namespace thaw::artifacts
