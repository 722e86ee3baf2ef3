#pragma once
// The web console's files (issue 9 part 2): thaw serves the built single-page app at /console/
// on its own port. GET only, no authentication for the files themselves (the app signs every API
// call it makes with the user's keys); the files are whatever `--console-dir` holds.
//
// Contract: a request can only ever read a regular file under the root directory. The URL path
// is percent-decoded once, then refused if it has a NUL, a backslash, or a "." / ".." segment;
// the file found is checked again after symlinks are resolved (its canonical path must stay under
// the root's). A path whose last segment has no extension (a client-side route such as
// /console/endpoints/foo) gets index.html; a missing asset (with an extension) is a 404, so a
// stale script tag never receives HTML.
//
// Thread: Serve() reads the disk on the calling (I/O) thread; the files are small (the whole
// console is a few hundred KB) and served rarely, so no cache.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "api/http_types.h"

namespace thaw::api {

inline constexpr std::string_view kConsolePrefix = "/console";
inline constexpr std::string_view kConsoleCsp =
    "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

// Pure: whether a request target belongs to the console ("/console", "/console/…", "/console?…").
bool IsConsoleTarget(std::string_view target);

// Pure: the file a console URL asks for, relative to the root ("index.html" for "/console/");
// nullopt when the target is not under /console/ or is unsafe. The query string is ignored.
std::optional<std::string> ConsoleRelativePath(std::string_view target);

// Pure: the Content-Type for a file name, by its extension (application/octet-stream if unknown).
std::string_view ContentTypeFor(std::string_view file_name);

// Pure: whether a miss on this relative path falls back to index.html (client-side routes).
bool FallsBackToIndex(std::string_view relative);

class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path root);

  // True when the root holds an index.html (the console was built).
  bool Available() const;
  const std::filesystem::path& root() const { return root_; }

  // The answer to a GET whose target starts with /console: 301 to /console/ for the bare prefix,
  // the file, index.html for a client-side route, 404 otherwise (or 503 when not built).
  Response Serve(const Request& request) const;

 private:
  std::filesystem::path root_;
};

}  // namespace thaw::api
