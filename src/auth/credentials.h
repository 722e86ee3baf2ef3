#pragma once
// The keys thaw accepts, from `<data-dir>/credentials` in the AWS shared-credentials format:
//
//   [default]
//   aws_access_key_id = AKIA…
//   aws_secret_access_key = …
//   aws_session_token = …        (optional: then requests must carry it)
//
// Every profile with both a key id and a secret is accepted. On first start, when the file is
// missing, thaw creates it (mode 0600) with one random key pair in [default].

#include <filesystem>
#include <string_view>
#include <vector>

#include "auth/sigv4.h"
#include "common/status.h"

namespace thaw::auth {

// Parses the file's text. Lines: `[profile]` (or `[profile name]`), `key = value`, blank, or
// comments starting with '#' or ';'. A profile missing either key is skipped; a malformed line
// or a key outside any profile is an InvalidArgument naming the line. Two profiles may hold the
// same key id (a client file often does: the profile asked for decides, as in the AWS SDKs).
Result<std::vector<Credential>> ParseCredentials(std::string_view text);
// For the keys a server accepts: one key id with two different secrets (or session tokens)
// would make a signature's meaning depend on the profile order, so it is an InvalidArgument.
Status CheckDistinctKeys(const std::vector<Credential>& keys);

struct LoadedCredentials {
  std::vector<Credential> keys;
  bool created = false;  // the file did not exist and was written with a fresh key pair
};

// Reads `path`, or creates it with a random key pair when it does not exist. Fails when the file
// cannot be read or written, is readable by others than its owner, holds no usable key, or fails
// CheckDistinctKeys.
Result<LoadedCredentials> LoadOrCreateCredentials(const std::filesystem::path& path);

}  // namespace thaw::auth
