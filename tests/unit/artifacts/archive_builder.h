#pragma once
// Builds tar archives for the artifacts tests: well-formed ones with libarchive's writer, and
// hand-made blocks for headers no honest writer produces. Failures throw std::runtime_error,
// which GoogleTest reports as a test failure.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace thaw::artifacts::testing {

struct TestEntry {
  enum class Type { kFile, kDir, kSymlink, kHardlink, kCharDevice, kFifo };
  Type type = Type::kFile;
  std::string name;
  std::string content;  // kFile: the data (for a sparse file, its first data region)
  std::string target;   // kSymlink, kHardlink
  int perm = 0644;
  int64_t sparse_size = -1;  // kFile: >= 0 makes a pax sparse entry of this logical size
};

TestEntry File(std::string name, std::string content, int perm = 0644);
TestEntry Dir(std::string name);
TestEntry Symlink(std::string name, std::string target);
TestEntry Hardlink(std::string name, std::string target);
TestEntry CharDevice(std::string name);
TestEntry Fifo(std::string name);
// A file of `logical_size` bytes whose only data is `content` at offset 0; the rest is a hole.
TestEntry SparseFile(std::string name, std::string content, int64_t logical_size);

enum class TarFormat { kPax, kUstar, kGnu };

// Writes the entries, in order, as a tar archive: gzip-compressed unless `gzip` is false.
void WriteTar(const std::filesystem::path& path, const std::vector<TestEntry>& entries,
              bool gzip = true, TarFormat format = TarFormat::kPax);

// Writes `bytes` gzip-compressed (no tar around them).
void WriteGzip(const std::filesystem::path& path, std::string_view bytes);

// One hand-made ustar header block. A size too large for octal is written in base-256.
std::string UstarHeader(std::string_view name, uint64_t size, char typeflag);
// A pax extended header block ('x') carrying `records` ("key=value" each), with its data.
std::string PaxHeader(const std::vector<std::string>& records);
// `data` padded with NULs to a multiple of 512 bytes.
std::string PadToBlock(std::string data);
// The two zero blocks that end a tar archive.
std::string EndOfArchive();

// A deterministic, incompressible string of `n` bytes.
std::string RandomBytes(size_t n, uint32_t seed = 1);
std::string ReadFileBytes(const std::filesystem::path& path);
void WriteFileBytes(const std::filesystem::path& path, std::string_view bytes);
// Every path under `dir`, relative to it, sorted; symbolic links are listed, not followed.
std::vector<std::string> ListTree(const std::filesystem::path& dir);

}  // namespace thaw::artifacts::testing
