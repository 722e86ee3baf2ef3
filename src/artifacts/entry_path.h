#pragma once
// Lexical rules for the names inside an untrusted tar archive. They decide whether an entry may be
// extracted before anything touches the disk. The extractor then creates every object relative to
// a directory file descriptor with O_NOFOLLOW and never through a symbolic link, so a name that
// passes these rules names the same place on disk as it does here.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace thaw::artifacts {

// A name inside the model directory as its components: never empty, ".", ".." or containing '/'.
// An empty EntryPath is the model directory itself.
using EntryPath = std::vector<std::string>;

// Bounds that keep every extracted path usable (root + digest + name stays well under PATH_MAX)
// and the bookkeeping of one extraction small.
inline constexpr size_t kMaxEntryNameBytes = 1024;
inline constexpr size_t kMaxComponentBytes = 255;  // NAME_MAX on Linux file systems
inline constexpr size_t kMaxEntryDepth = 64;

// Normalizes an archive member name: drops "./" prefixes, "." components and repeated or trailing
// slashes, so "./xgboost-model", "xgboost-model" and ".//xgboost-model/" are the same entry.
// InvalidArgument, naming the entry, for: an empty name, an absolute path, any ".." component
// (even "a/../b", which would stay inside: such names only appear in crafted archives), a name
// longer than kMaxEntryNameBytes, a component longer than kMaxComponentBytes, more than
// kMaxEntryDepth components.
Result<EntryPath> NormalizeEntryPath(std::string_view name);

// Where the symbolic link `link` (a normalized entry; its last component is the link itself)
// with target `target` points, as a path from the model directory (empty = the directory itself).
// Leading ".." components climb from the link's directory and may not climb above the model
// directory; after the first ordinary component no ".." is allowed, because "x/.." only means the
// link's directory when "x" is a real directory, and "x" may itself be a link. With every link
// checked by this rule, following any chain of links stays inside the model directory.
// InvalidArgument naming the link for: an absolute or empty target, a target that climbs out, a
// ".." after an ordinary component, or a target longer than kMaxEntryNameBytes.
Result<EntryPath> ResolveSymlinkTarget(std::string_view link_name, const EntryPath& link,
                                       std::string_view target);

// "a/b/c"; "." for the model directory itself.
std::string JoinEntryPath(const EntryPath& path);

// `name` in double quotes for an error message a person reads: quotes, backslashes and
// non-printable bytes are escaped, and long names are cut to about 200 bytes.
std::string QuoteEntryName(std::string_view name);

}  // namespace thaw::artifacts
