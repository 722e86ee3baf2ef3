#pragma once
// Small pieces of CPython behaviour that the SageMaker XGBoost container's answers depend on:
// cgi.parse_header, float(str), int(str), bytes.strip(), str's repr and UTF-8 decoding. The worker
// reproduces the container's responses byte for byte, so these follow CPython 3.8+ exactly for
// ASCII input. Non-ASCII digits and spaces (which Python accepts in float()/int()) are rejected;
// the deviation only changes which error text a malformed request gets.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace thaw::worker {

// cgi.parse_header(line): the main value (stripped, case kept) and its parameters (names
// lower-cased, values stripped and unquoted). A repeated parameter keeps its last value, as in
// Python's dict.
struct ParsedHeader {
  std::string key;
  std::vector<std::pair<std::string, std::string>> params;

  // The value of parameter `name` (lower-case), or nullopt.
  std::optional<std::string_view> Param(std::string_view name) const;
};
ParsedHeader ParseHeader(std::string_view line);

// ASCII lower-casing, as str.lower() does for ASCII.
std::string AsciiLower(std::string_view s);

// bytes.strip(): removes ASCII whitespace (" \t\n\r\v\f") at both ends.
std::string_view StripBytes(std::string_view s);

// float(s) for a str: surrounding whitespace, sign, underscores between digits, "inf",
// "infinity", "nan" in any case. Out-of-range values become ±inf or ±0.0 as in Python.
std::optional<double> PyFloat(std::string_view s);

// int(s, 10) followed by numpy's conversion to a C long.
enum class PyIntError { kInvalid, kOverflow };
struct PyIntResult {
  int64_t value = 0;
  std::optional<PyIntError> error;
};
PyIntResult PyInt(std::string_view s);

// repr(s) of a str that holds the UTF-8 text `s` (quotes chosen like Python, control characters
// escaped). `s` must be valid UTF-8.
std::string PyRepr(std::string_view s);

// Validates UTF-8 like bytes.decode("utf-8"). Returns nullopt when valid, else the message of
// the UnicodeDecodeError Python raises, e.g.
// "'utf-8' codec can't decode byte 0xff in position 3: invalid start byte".
std::optional<std::string> Utf8DecodeError(std::string_view s);

}  // namespace thaw::worker
