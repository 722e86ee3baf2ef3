#include "artifacts/entry_path.h"

#include <string>

namespace thaw::artifacts {
namespace {

constexpr size_t kMaxQuotedBytes = 200;

std::string Entry(std::string_view name) { return "archive entry " + QuoteEntryName(name); }

// Calls `fn` with each component of a '/'-separated name, including empty ones.
template <typename Fn>
void ForEachComponent(std::string_view name, Fn&& fn) {
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string_view::npos) slash = name.size();
    fn(name.substr(start, slash - start));
    start = slash + 1;
  }
}

}  // namespace

Result<EntryPath> NormalizeEntryPath(std::string_view name) {
  if (name.empty()) return InvalidArgument("an archive entry has an empty name");
  if (name.size() > kMaxEntryNameBytes) {
    return InvalidArgument(Entry(name) + " has a name longer than " +
                           std::to_string(kMaxEntryNameBytes) + " bytes");
  }
  if (name.front() == '/') return InvalidArgument(Entry(name) + " has an absolute path");
  EntryPath path;
  bool dot_dot = false;
  bool too_long = false;
  ForEachComponent(name, [&](std::string_view c) {
    if (c.empty() || c == ".") return;
    if (c == "..") dot_dot = true;
    if (c.size() > kMaxComponentBytes) too_long = true;
    path.emplace_back(c);
  });
  if (dot_dot) return InvalidArgument(Entry(name) + " escapes the model directory");
  if (too_long) {
    return InvalidArgument(Entry(name) + " has a path component longer than " +
                           std::to_string(kMaxComponentBytes) + " bytes");
  }
  if (path.size() > kMaxEntryDepth) {
    return InvalidArgument(Entry(name) + " is nested more than " + std::to_string(kMaxEntryDepth) +
                           " directories deep");
  }
  return path;
}

Result<EntryPath> ResolveSymlinkTarget(std::string_view link_name, const EntryPath& link,
                                       std::string_view target) {
  const std::string what = Entry(link_name) + " is a symbolic link";
  if (target.empty()) return InvalidArgument(what + " with an empty target");
  if (target.size() > kMaxEntryNameBytes) {
    return InvalidArgument(what + " with a target longer than " +
                           std::to_string(kMaxEntryNameBytes) + " bytes");
  }
  const std::string outside =
      what + " that points outside the model directory (target " + QuoteEntryName(target) + ")";
  if (target.front() == '/') return InvalidArgument(outside);

  EntryPath resolved(link.begin(), link.empty() ? link.end() : link.end() - 1);
  bool seen_name = false;
  bool climbs_out = false;
  bool late_dot_dot = false;
  bool too_long = false;
  ForEachComponent(target, [&](std::string_view c) {
    if (c.empty() || c == ".") return;
    if (c == "..") {
      if (seen_name) {
        late_dot_dot = true;
      } else if (resolved.empty()) {
        climbs_out = true;
      } else {
        resolved.pop_back();
      }
      return;
    }
    if (c.size() > kMaxComponentBytes) too_long = true;
    seen_name = true;
    resolved.emplace_back(c);
  });
  if (climbs_out) return InvalidArgument(outside);
  if (late_dot_dot) {
    return InvalidArgument(what + " whose target " + QuoteEntryName(target) +
                           " has \"..\" after a name, which is not allowed");
  }
  if (too_long) {
    return InvalidArgument(what + " whose target has a path component longer than " +
                           std::to_string(kMaxComponentBytes) + " bytes");
  }
  return resolved;
}

std::string JoinEntryPath(const EntryPath& path) {
  if (path.empty()) return ".";
  std::string out;
  for (const std::string& c : path) {
    if (!out.empty()) out.push_back('/');
    out += c;
  }
  return out;
}

std::string QuoteEntryName(std::string_view name) {
  // Bytes >= 0x80 are escaped too: the message may end up in a JSON FailureReason, and a cut or
  // crafted name is not guaranteed to be valid UTF-8.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  const size_t n = name.size() > kMaxQuotedBytes ? kMaxQuotedBytes : name.size();
  for (size_t i = 0; i < n; ++i) {
    const auto b = static_cast<unsigned char>(name[i]);
    if (b == '"' || b == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(b));
    } else if (b < 0x20 || b >= 0x7f) {
      out += "\\x";
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xf]);
    } else {
      out.push_back(static_cast<char>(b));
    }
  }
  if (n < name.size()) out += "...";
  out.push_back('"');
  return out;
}

}  // namespace thaw::artifacts
