#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace thaw {

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// Lower-case hex SHA-256 of a file's content, streamed.
Result<std::string> Sha256File(const std::filesystem::path& path);

}  // namespace thaw

namespace thaw {

std::string Base64Encode(std::string_view data);
// nullopt when `text` is not valid base64.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace thaw
