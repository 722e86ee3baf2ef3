#pragma once
// Where a model's ModelDataUrl lives on this host.

#include <filesystem>
#include <string_view>

#include "common/status.h"

namespace thaw::artifacts {

// Resolves a ModelDataUrl to an existing local file. Accepted forms:
//   "/abs/path/model.tar.gz"                 the path itself;
//   "file:///abs/path" (or file://localhost/...)  the path, with %XX escapes decoded;
//   "s3://bucket/key/with/slashes"           <s3_root>/bucket/key, the local S3 store's layout.
// The bucket must be a plain name ([A-Za-z0-9._-], not "." or ".."), and the key a relative path
// without empty, "." or ".." segments, so an s3:// URL can never name a file outside s3_root.
// Errors: InvalidArgument for an unsupported scheme ("https:// model data URLs are not supported;
// use s3://, file:// or an absolute path"), a relative path or a malformed URL, and for a path
// that is a directory; NotFound ("... does not exist") when the file is missing.
Result<std::filesystem::path> ResolveLocal(std::string_view url,
                                           const std::filesystem::path& s3_root);

}  // namespace thaw::artifacts
