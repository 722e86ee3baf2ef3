#include "logs/log_format.h"

#include <cctype>
#include <charconv>

#include "common/hash.h"

namespace thaw::logs {
namespace {

constexpr char kHex[] = "0123456789abcdef";

int FromHex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string GroupOf(std::string_view endpoint) {
  return std::string(kGroupPrefix) + std::string(endpoint);
}

std::optional<std::string> EndpointOfGroup(std::string_view group) {
  if (group.size() <= kGroupPrefix.size() || group.substr(0, kGroupPrefix.size()) != kGroupPrefix) {
    return std::nullopt;
  }
  std::string_view name = group.substr(kGroupPrefix.size());
  // Endpoint names are [a-zA-Z0-9](-*[a-zA-Z0-9])*: nothing that could walk the filesystem.
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return std::nullopt;
  }
  return std::string(name);
}

std::string EncodeLine(int64_t timestamp_ms, std::string_view message) {
  std::string out = std::to_string(timestamp_ms);
  out.reserve(out.size() + message.size() + 2);
  out.push_back('\t');
  for (char c : message) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out.push_back(c);
    }
  }
  out.push_back('\n');
  return out;
}

bool DecodeLine(std::string_view line, int64_t* timestamp_ms, std::string* message) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  auto tab = line.find('\t');
  if (tab == std::string_view::npos || !ParseInt(line.substr(0, tab), timestamp_ms)) return false;
  message->clear();
  message->reserve(line.size() - tab - 1);
  for (size_t i = tab + 1; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\\' && i + 1 < line.size()) {
      char n = line[++i];
      message->push_back(n == 'n' ? '\n' : n == 'r' ? '\r' : n);
    } else {
      message->push_back(c);
    }
  }
  return true;
}

std::string StreamDirName(std::string_view stream) {
  std::string out;
  for (size_t i = 0; i < stream.size(); ++i) {
    char c = stream[i];
    if (c == '%' || c == '/' || (c == '.' && i == 0) || c == '\0') {
      out.push_back('%');
      out.push_back(kHex[(static_cast<unsigned char>(c) >> 4) & 0xf]);
      out.push_back(kHex[static_cast<unsigned char>(c) & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string> StreamFromDirName(std::string_view dir) {
  std::string out;
  for (size_t i = 0; i < dir.size(); ++i) {
    if (dir[i] != '%') {
      out.push_back(dir[i]);
      continue;
    }
    if (i + 2 >= dir.size()) return std::nullopt;
    int hi = FromHex(dir[i + 1]), lo = FromHex(dir[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

Result<FilterPattern> ParseFilterPattern(std::string_view pattern) {
  FilterPattern out;
  size_t i = 0;
  auto bad = [&](const std::string& why) {
    return Status(Code::kInvalidArgument, "Invalid filter pattern: " + why);
  };
  while (i < pattern.size()) {
    if (std::isspace(static_cast<unsigned char>(pattern[i]))) {
      ++i;
      continue;
    }
    if (pattern[i] == '{' || pattern[i] == '[') {
      return bad("JSON and space-delimited patterns are not supported by this server");
    }
    std::vector<std::string>* into = &out.all;
    if (pattern[i] == '-' || pattern[i] == '?') {
      into = pattern[i] == '-' ? &out.none : &out.any;
      ++i;
      if (i == pattern.size() || std::isspace(static_cast<unsigned char>(pattern[i]))) {
        return bad("'" + std::string(1, pattern[i - 1]) + "' must be followed by a term");
      }
    }
    std::string term;
    if (pattern[i] == '"') {
      ++i;
      bool closed = false;
      while (i < pattern.size()) {
        char c = pattern[i++];
        if (c == '\\' && i < pattern.size()) {
          term.push_back(pattern[i++]);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          term.push_back(c);
        }
      }
      if (!closed) return bad("unterminated quoted phrase");
    } else {
      while (i < pattern.size() && !std::isspace(static_cast<unsigned char>(pattern[i]))) {
        term.push_back(pattern[i++]);
      }
    }
    if (!term.empty()) into->push_back(std::move(term));
  }
  return out;
}

bool Matches(const FilterPattern& pattern, std::string_view message) {
  for (const auto& t : pattern.all) {
    if (message.find(t) == std::string_view::npos) return false;
  }
  for (const auto& t : pattern.none) {
    if (message.find(t) != std::string_view::npos) return false;
  }
  if (pattern.any.empty()) return true;
  for (const auto& t : pattern.any) {
    if (message.find(t) != std::string_view::npos) return true;
  }
  return false;
}

std::string EncodeKey(const EventKey& key) {
  std::string out = std::to_string(key.timestamp_ms) + "-" + std::to_string(key.segment) + "-" +
                    std::to_string(key.offset) + "-";
  return out + HexEncode(key.stream);
}

std::optional<EventKey> DecodeKey(std::string_view text) {
  EventKey key;
  int64_t* fields[] = {&key.timestamp_ms, &key.segment, &key.offset};
  for (int64_t* f : fields) {
    auto dash = text.find('-');
    if (dash == std::string_view::npos || !ParseInt(text.substr(0, dash), f)) return std::nullopt;
    text.remove_prefix(dash + 1);
  }
  if (text.empty() || text.size() % 2 != 0) return std::nullopt;
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = FromHex(text[i]), lo = FromHex(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    key.stream.push_back(static_cast<char>(hi * 16 + lo));
  }
  return key;
}

}  // namespace thaw::logs
