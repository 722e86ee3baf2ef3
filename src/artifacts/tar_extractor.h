#pragma once
// Safe extraction of an untrusted gzip-compressed tar archive (a SageMaker model.tar.gz).
//
// libarchive reads and decompresses; this module decides and writes. Every entry is checked by the
// lexical rules of entry_path.h and against what the extraction has already created, and only
// then written, relative to a directory file descriptor with openat/mkdirat/symlinkat/linkat and
// O_NOFOLLOW | O_EXCL. That gives what ARCHIVE_EXTRACT_SECURE_NODOTDOT, _SECURE_SYMLINKS and
// _SECURE_NOABSOLUTEPATHS give archive_write_disk, plus checked link targets, without
// archive_write_disk's process-wide side effects: it calls umask(0) and back on every entry
// (another thread creating a file in that window gets mode 0666/0777), it resolves relative
// names against the process's working directory, so a base directory needs chdir, and it
// chdir()s itself for paths longer than PATH_MAX. thaw extracts on a deploy thread while other
// threads serve requests, so none of that is acceptable.
//
// Accepted: regular files, directories, symbolic links whose target stays inside, hard links to a
// regular file extracted earlier. Refused: absolute names, "..", devices, FIFOs, sockets, an entry
// that repeats a name or lies under a non-directory, more bytes or entries than the limits allow,
// truncated or corrupt data. Modes are normalized: directories 0755, files 0755 when any execute
// bit is set in the archive and 0644 otherwise; owners, times, ACLs and xattrs are not restored.

#include <cstdint>
#include <functional>

#include "common/status.h"

namespace thaw::artifacts {

struct ExtractLimits {
  // Sum of the sizes of the extracted regular files, holes of sparse files included.
  uint64_t max_total_bytes = 10ull << 30;
  // Archive headers read and file system objects created (implicit parent directories count).
  uint64_t max_entries = 100000;
};

struct ExtractStats {
  uint64_t bytes = 0;    // sum of regular-file sizes; a hard link adds nothing
  uint64_t entries = 0;  // archive headers read
};

// Sees each chunk of archive bytes as it is read, e.g. to hash exactly what was extracted.
using ByteObserver = std::function<void(const char* data, size_t size)>;

// Extracts the gzip-compressed tar read from `archive_fd` (from its current offset) into the
// empty directory open as `dest_dir_fd`. Both descriptors stay owned by the caller. On success
// the archive has been read to its end, so `observe` (if set) has seen every byte after the
// starting offset. On error, whatever was already written stays in the destination directory:
// the caller removes the directory. Errors: InvalidArgument with a message a person can act on
// for anything wrong with the archive; Internal for I/O failures of the host.
Result<ExtractStats> ExtractTarGz(int archive_fd, int dest_dir_fd, const ExtractLimits& limits,
                                  const ByteObserver& observe = nullptr);

}  // namespace thaw::artifacts
