#include "unit/artifacts/archive_builder.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace thaw::artifacts::testing {
namespace fs = std::filesystem;

namespace {

struct WriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

void Check(struct archive* a, int r, const char* what) {
  if (r < ARCHIVE_WARN) {
    const char* msg = archive_error_string(a);
    throw std::runtime_error(std::string(what) + ": " + (msg != nullptr ? msg : "?"));
  }
}

}  // namespace

TestEntry File(std::string name, std::string content, int perm) {
  TestEntry e;
  e.name = std::move(name);
  e.content = std::move(content);
  e.perm = perm;
  return e;
}

TestEntry Dir(std::string name) {
  TestEntry e;
  e.type = TestEntry::Type::kDir;
  e.name = std::move(name);
  e.perm = 0755;
  return e;
}

TestEntry Symlink(std::string name, std::string target) {
  TestEntry e;
  e.type = TestEntry::Type::kSymlink;
  e.name = std::move(name);
  e.target = std::move(target);
  e.perm = 0777;
  return e;
}

TestEntry Hardlink(std::string name, std::string target) {
  TestEntry e;
  e.type = TestEntry::Type::kHardlink;
  e.name = std::move(name);
  e.target = std::move(target);
  return e;
}

TestEntry CharDevice(std::string name) {
  TestEntry e;
  e.type = TestEntry::Type::kCharDevice;
  e.name = std::move(name);
  return e;
}

TestEntry Fifo(std::string name) {
  TestEntry e;
  e.type = TestEntry::Type::kFifo;
  e.name = std::move(name);
  return e;
}

TestEntry SparseFile(std::string name, std::string content, int64_t logical_size) {
  TestEntry e = File(std::move(name), std::move(content));
  e.sparse_size = logical_size;
  return e;
}

void WriteTar(const fs::path& path, const std::vector<TestEntry>& entries, bool gzip,
              TarFormat format) {
  std::unique_ptr<struct archive, WriteFree> a(archive_write_new());
  if (gzip) Check(a.get(), archive_write_add_filter_gzip(a.get()), "gzip filter");
  switch (format) {
    case TarFormat::kPax:
      Check(a.get(), archive_write_set_format_pax(a.get()), "pax format");
      break;
    case TarFormat::kUstar:
      Check(a.get(), archive_write_set_format_ustar(a.get()), "ustar format");
      break;
    case TarFormat::kGnu:
      Check(a.get(), archive_write_set_format_gnutar(a.get()), "gnutar format");
      break;
  }
  Check(a.get(), archive_write_open_filename(a.get(), path.c_str()), "open");
  for (const TestEntry& t : entries) {
    std::unique_ptr<struct archive_entry, EntryFree> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), t.name.c_str());
    archive_entry_set_perm(e.get(), static_cast<mode_t>(t.perm));
    archive_entry_set_mtime(e.get(), 1700000000, 0);
    archive_entry_set_size(e.get(), 0);
    bool has_data = false;
    switch (t.type) {
      case TestEntry::Type::kFile:
        archive_entry_set_filetype(e.get(), AE_IFREG);
        if (t.sparse_size >= 0) {
          archive_entry_set_size(e.get(), t.sparse_size);
          archive_entry_sparse_add_entry(e.get(), 0, static_cast<la_int64_t>(t.content.size()));
        } else {
          archive_entry_set_size(e.get(), static_cast<la_int64_t>(t.content.size()));
        }
        has_data = true;
        break;
      case TestEntry::Type::kDir:
        archive_entry_set_filetype(e.get(), AE_IFDIR);
        break;
      case TestEntry::Type::kSymlink:
        archive_entry_set_filetype(e.get(), AE_IFLNK);
        archive_entry_set_symlink(e.get(), t.target.c_str());
        break;
      case TestEntry::Type::kHardlink:
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_hardlink(e.get(), t.target.c_str());
        break;
      case TestEntry::Type::kCharDevice:
        archive_entry_set_filetype(e.get(), AE_IFCHR);
        archive_entry_set_rdevmajor(e.get(), 1);
        archive_entry_set_rdevminor(e.get(), 3);
        break;
      case TestEntry::Type::kFifo:
        archive_entry_set_filetype(e.get(), AE_IFIFO);
        break;
    }
    Check(a.get(), archive_write_header(a.get(), e.get()), "write header");
    if (has_data && !t.content.empty()) {
      if (archive_write_data(a.get(), t.content.data(), t.content.size()) < 0) {
        Check(a.get(), ARCHIVE_FATAL, "write data");
      }
    }
    Check(a.get(), archive_write_finish_entry(a.get()), "finish entry");
  }
  Check(a.get(), archive_write_close(a.get()), "close");
}

void WriteGzip(const fs::path& path, std::string_view bytes) {
  std::unique_ptr<struct archive, WriteFree> a(archive_write_new());
  Check(a.get(), archive_write_add_filter_gzip(a.get()), "gzip filter");
  Check(a.get(), archive_write_set_format_raw(a.get()), "raw format");
  Check(a.get(), archive_write_open_filename(a.get(), path.c_str()), "open");
  std::unique_ptr<struct archive_entry, EntryFree> e(archive_entry_new());
  archive_entry_set_pathname(e.get(), "raw");
  archive_entry_set_filetype(e.get(), AE_IFREG);
  Check(a.get(), archive_write_header(a.get(), e.get()), "write header");
  if (!bytes.empty() && archive_write_data(a.get(), bytes.data(), bytes.size()) < 0) {
    Check(a.get(), ARCHIVE_FATAL, "write data");
  }
  Check(a.get(), archive_write_close(a.get()), "close");
}

std::string UstarHeader(std::string_view name, uint64_t size, char typeflag) {
  std::string h(512, '\0');
  std::memcpy(h.data(), name.data(), std::min<size_t>(name.size(), 100));
  std::snprintf(&h[100], 8, "%07o", 0644);
  std::snprintf(&h[108], 8, "%07o", 0);
  std::snprintf(&h[116], 8, "%07o", 0);
  if (size > 077777777777ull) {
    h[124] = static_cast<char>(0x80);  // base-256, as GNU tar writes sizes of 8 GiB and more
    for (int i = 0; i < 8; ++i) h[135 - i] = static_cast<char>((size >> (8 * i)) & 0xff);
  } else {
    std::snprintf(&h[124], 12, "%011llo", static_cast<unsigned long long>(size));
  }
  std::snprintf(&h[136], 12, "%011o", 0);
  h[156] = typeflag;
  std::memcpy(&h[257],
              "ustar\0"
              "00",
              8);
  std::memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(&h[148], 8, "%06o", sum);
  h[155] = ' ';
  return h;
}

std::string PaxHeader(const std::vector<std::string>& records) {
  std::string data;
  for (const std::string& kv : records) {
    // "<length> key=value\n", where <length> counts itself.
    size_t n = kv.size() + 3;
    std::string rec;
    while (true) {
      rec = std::to_string(n) + " " + kv + "\n";
      if (rec.size() == n) break;
      n = rec.size();
    }
    data += rec;
  }
  return UstarHeader("PaxHeaders/entry", data.size(), 'x') + PadToBlock(data);
}

std::string PadToBlock(std::string data) {
  data.resize((data.size() + 511) / 512 * 512, '\0');
  return data;
}

std::string EndOfArchive() { return std::string(1024, '\0'); }

std::string RandomBytes(size_t n, uint32_t seed) {
  std::string out(n, '\0');
  uint32_t x = seed;
  for (char& c : out) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  return out;
}

std::string ReadFileBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFileBytes(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::vector<std::string> ListTree(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    out.push_back(fs::relative(it->path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace thaw::artifacts::testing
