#include "worker/python_compat.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace thaw::worker {
namespace {

// str.isspace() for ASCII: Python counts the four information separators as whitespace too.
bool IsPySpace(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f');
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view StripPySpace(std::string_view s) {
  while (!s.empty() && IsPySpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsPySpace(s.back())) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != b[i]) return false;
  }
  return true;
}

// Consumes Python's `digitpart` (digit (["_"] digit)*) from s[*pos], appending the digits to
// `out`. Returns false when no digit is there or an underscore is not between two digits.
bool ConsumeDigitPart(std::string_view s, size_t* pos, std::string* out) {
  size_t i = *pos;
  if (i >= s.size() || !IsDigit(s[i])) return false;
  while (i < s.size()) {
    if (IsDigit(s[i])) {
      out->push_back(s[i++]);
    } else if (s[i] == '_' && i + 1 < s.size() && IsDigit(s[i + 1])) {
      ++i;
    } else {
      break;
    }
  }
  *pos = i;
  return true;
}

void AppendDecodeError(std::string* out, std::string_view s, size_t start, size_t end,
                       const char* reason) {
  char buf[128];
  if (end - start == 1) {
    std::snprintf(buf, sizeof(buf), "'utf-8' codec can't decode byte 0x%02x in position %zu: %s",
                  static_cast<unsigned char>(s[start]), start, reason);
  } else {
    std::snprintf(buf, sizeof(buf), "'utf-8' codec can't decode bytes in position %zu-%zu: %s",
                  start, end - 1, reason);
  }
  out->append(buf);
}

}  // namespace

std::optional<std::string_view> ParsedHeader::Param(std::string_view name) const {
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    if (it->first == name) return std::string_view(it->second);
  }
  return std::nullopt;
}

ParsedHeader ParseHeader(std::string_view line) {
  // cgi._parseparam: split on ';' outside double quotes, strip each part.
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = line.find(';', start);
    // A ';' after an odd number of unescaped quotes (counted from the part's start) does not
    // end the part. Counted incrementally: a header full of quoted ';' stays linear.
    size_t quotes = 0;
    for (size_t i = start; end != std::string_view::npos; end = line.find(';', end + 1)) {
      for (; i < end; ++i) {
        if (line[i] == '"' && !(i > start && line[i - 1] == '\\')) ++quotes;
      }
      if (quotes % 2 == 0) break;
    }
    if (end == std::string_view::npos) {
      parts.push_back(StripPySpace(line.substr(start)));
      break;
    }
    parts.push_back(StripPySpace(line.substr(start, end - start)));
    start = end + 1;
  }
  ParsedHeader out;
  out.key = std::string(parts.front());
  for (size_t p = 1; p < parts.size(); ++p) {
    size_t eq = parts[p].find('=');
    if (eq == std::string_view::npos) continue;
    std::string name = AsciiLower(StripPySpace(parts[p].substr(0, eq)));
    std::string_view raw = StripPySpace(parts[p].substr(eq + 1));
    std::string value;
    if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"') {
      raw = raw.substr(1, raw.size() - 2);
      // value.replace('\\\\', '\\').replace('\\"', '"'), applied in that order.
      std::string once;
      for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\\' && i + 1 < raw.size() && raw[i + 1] == '\\') {
          once.push_back('\\');
          ++i;
        } else {
          once.push_back(raw[i]);
        }
      }
      for (size_t i = 0; i < once.size(); ++i) {
        if (once[i] == '\\' && i + 1 < once.size() && once[i + 1] == '"') {
          value.push_back('"');
          ++i;
        } else {
          value.push_back(once[i]);
        }
      }
    } else {
      value = std::string(raw);
    }
    // A dict keeps the first insertion position but the last value.
    bool replaced = false;
    for (auto& [k, v] : out.params) {
      if (k == name) {
        v = value;
        replaced = true;
      }
    }
    if (!replaced) out.params.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view StripBytes(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<double> PyFloat(std::string_view s) {
  s = StripPySpace(s);
  if (s.empty()) return std::nullopt;
  // Fast path: plain decimal text, whose grammar from_chars and Python agree on ("1.", ".5",
  // "-1e+5"); no allocation. Anything else (a '+' sign, underscores, inf/nan) takes the slow path.
  if (s.front() != '+' && s.find_first_not_of("0123456789.eE+-") == std::string_view::npos) {
    double value = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec == std::errc() && ptr == s.data() + s.size()) return value;
    if (ec != std::errc::result_out_of_range) return std::nullopt;
  }

  bool negative = false;
  if (s.front() == '+' || s.front() == '-') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (EqualsIgnoreCase(s, "inf") || EqualsIgnoreCase(s, "infinity")) {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  if (EqualsIgnoreCase(s, "nan")) return std::numeric_limits<double>::quiet_NaN();

  // Python's floatnumber grammar, rebuilt without underscores.
  std::string clean;
  clean.reserve(s.size() + 1);
  if (negative) clean.push_back('-');
  size_t pos = 0;
  bool int_digits = ConsumeDigitPart(s, &pos, &clean);
  bool frac_digits = false;
  if (pos < s.size() && s[pos] == '.') {
    clean.push_back('.');
    ++pos;
    frac_digits = ConsumeDigitPart(s, &pos, &clean);
  }
  if (!int_digits && !frac_digits) return std::nullopt;
  if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
    clean.push_back('e');
    ++pos;
    if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) clean.push_back(s[pos++]);
    if (!ConsumeDigitPart(s, &pos, &clean)) return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;

  double value = 0;
  auto [ptr, ec] = std::from_chars(clean.data(), clean.data() + clean.size(), value);
  if (ec == std::errc() && ptr == clean.data() + clean.size()) return value;
  // Out of range: strtod gives Python's answers (overflow to ±inf, underflow to ±0 or a
  // subnormal). The worker never changes the C locale, so '.' is the decimal point.
  return std::strtod(clean.c_str(), nullptr);
}

PyIntResult PyInt(std::string_view s) {
  PyIntResult out;
  s = StripPySpace(s);
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  std::string digits;
  size_t pos = 0;
  if (!ConsumeDigitPart(s, &pos, &digits) || pos != s.size()) {
    out.error = PyIntError::kInvalid;
    return out;
  }
  // Accumulate as a negative number so that INT64_MIN fits.
  int64_t value = 0;
  for (char c : digits) {
    int d = c - '0';
    if (value < (std::numeric_limits<int64_t>::min() + d) / 10) {
      out.error = PyIntError::kOverflow;
      return out;
    }
    value = value * 10 - d;
  }
  if (!negative) {
    if (value == std::numeric_limits<int64_t>::min()) {
      out.error = PyIntError::kOverflow;
      return out;
    }
    value = -value;
  }
  out.value = value;
  return out;
}

std::string PyRepr(std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back(quote);
  char buf[8];
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\\' || c == static_cast<unsigned char>(quote)) {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\t') {
      out.append("\\t");
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (c < 0x20 || c == 0x7f) {
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out.append(buf);
    } else if (c == 0xc2 && i + 1 < s.size()) {
      // U+0080..U+00BF: the C1 controls, NBSP and the soft hyphen are not printable.
      unsigned char c2 = static_cast<unsigned char>(s[i + 1]);
      if (c2 <= 0xa0 || c2 == 0xad) {
        std::snprintf(buf, sizeof(buf), "\\x%02x", c2);
        out.append(buf);
      } else {
        out.push_back(static_cast<char>(c));
        out.push_back(static_cast<char>(c2));
      }
      ++i;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back(quote);
  return out;
}

std::optional<std::string> Utf8DecodeError(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    std::string msg;
    if (b < 0xc2 || b > 0xf4) {
      AppendDecodeError(&msg, s, i, i + 1, "invalid start byte");
      return msg;
    }
    size_t need = b < 0xe0 ? 1 : (b < 0xf0 ? 2 : 3);
    unsigned char lo = 0x80, hi = 0xbf;
    if (b == 0xe0) lo = 0xa0;
    if (b == 0xed) hi = 0x9f;
    if (b == 0xf0) lo = 0x90;
    if (b == 0xf4) hi = 0x8f;
    for (size_t k = 1; k <= need; ++k) {
      if (i + k >= n) {
        AppendDecodeError(&msg, s, i, n, "unexpected end of data");
        return msg;
      }
      unsigned char c = static_cast<unsigned char>(s[i + k]);
      unsigned char lo_k = k == 1 ? lo : 0x80;
      unsigned char hi_k = k == 1 ? hi : 0xbf;
      if (c < lo_k || c > hi_k) {
        AppendDecodeError(&msg, s, i, i + k, "invalid continuation byte");
        return msg;
      }
    }
    i += need + 1;
  }
  return std::nullopt;
}

}  // namespace thaw::worker
