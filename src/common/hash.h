#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace thaw {

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// HMAC-SHA256 of `data` under `key`: the raw 32-byte MAC (not hex), so that it can key the next
// HMAC of a chain (SigV4's signing key, aws-chunked's chunk signatures).
std::string HmacSha256(std::string_view key, std::string_view data);

// Lower-case hex of arbitrary bytes: two characters a byte, high nibble first.
std::string HexEncode(std::string_view bytes);

// Lower-case hex SHA-256 of a file's content, streamed.
Result<std::string> Sha256File(const std::filesystem::path& path);

}  // namespace thaw

namespace thaw {

std::string Base64Encode(std::string_view data);
// nullopt when `text` is not valid base64.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace thaw
