// model.tar.gz extraction: arbitrary bytes as the archive, extracted into a fresh directory with
// small limits; nothing may be written outside it (checked: the parent stays as it was).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "artifacts/tar_extractor.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fs::path root = [] {
    fs::path p = fs::temp_directory_path() / ("thaw-fuzz-tar-" + std::to_string(getpid()));
    fs::create_directories(p);
    return p;
  }();
  int archive = memfd_create("archive", MFD_CLOEXEC);
  if (archive < 0 || write(archive, data, size) != static_cast<ssize_t>(size)) __builtin_trap();
  lseek(archive, 0, SEEK_SET);
  fs::path dest = root / "out";
  fs::create_directory(dest);
  int dir = open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  thaw::artifacts::ExtractLimits limits;
  limits.max_total_bytes = 1 << 20;
  limits.max_entries = 256;
  (void)thaw::artifacts::ExtractTarGz(archive, dir, limits);
  close(dir);
  close(archive);
  // Only `out` may exist under the root: anything else escaped the destination.
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.path().filename() != "out") __builtin_trap();
  }
  fs::remove_all(dest);
  return 0;
}
