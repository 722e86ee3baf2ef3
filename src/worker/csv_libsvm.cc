#include "worker/csv_libsvm.h"

#include <algorithm>
#include <array>
#include <cfloat>
#include <cmath>
#include <limits>
#include <string>

#include "worker/python_compat.h"

namespace thaw::worker {
namespace {

constexpr size_t kSniffChars = 512;  // the container sniffs line[:512]

Status CsvError(std::string_view type, std::string_view message) {
  std::string text =
      "Loading csv data failed with Exception, please ensure data is in csv format:\n <class '";
  text.append(type).append("'>\n ").append(message);
  return InvalidArgument(std::move(text));
}

Status LibsvmError(std::string_view type, std::string_view message) {
  std::string text =
      "Loading libsvm data failed with Exception, please ensure data is in libsvm format:\n "
      "<class '";
  text.append(type).append("'>\n ").append(message);
  return InvalidArgument(std::move(text));
}

// numpy's float64 → float32 cast: round to nearest, overflow to ±inf (a plain C++ cast of an
// out-of-range double is undefined).
float ToFloat32(double d) {
  if (std::isfinite(d) && std::fabs(d) > FLT_MAX) {
    // Doubles between FLT_MAX and the midpoint to 2^128 round down to FLT_MAX.
    constexpr double kHalfwayToOverflow = 0x1.ffffffp127;
    float mag =
        std::fabs(d) >= kHalfwayToOverflow ? std::numeric_limits<float>::infinity() : FLT_MAX;
    return d < 0 ? -mag : mag;
  }
  return static_cast<float>(d);
}

// The first `n` code points of UTF-8 text.
std::string_view FirstCodePoints(std::string_view s, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) {
      if (count == n) return s.substr(0, i);
      ++count;
    }
  }
  return s;
}

// Python's \w for one byte of UTF-8: ASCII word characters, and (an approximation) every byte of
// a non-ASCII character, since most of those are letters.
bool IsWordByte(unsigned char c) {
  return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         c == '_';
}
// The class [^\w\n"'].
bool IsDelimClass(unsigned char c) { return !IsWordByte(c) && c != '\n' && c != '"' && c != '\''; }
bool IsQuote(char c) { return c == '"' || c == '\''; }

// Sniffer._guess_quote_and_delimiter's four patterns, tried in order until one matches, on a
// sample without '\n'. Returns the delimiter it settles on, or 0 ("no delimiter").
char GuessQuoteAndDelimiter(std::string_view s) {
  const size_t n = s.size();
  std::vector<char> matches;  // the delimiter group of each match
  // 1: delim [space] quote .*? quote delim — findall, non-overlapping.
  for (size_t i = 0; i + 1 < n;) {
    size_t q = i + 1;
    if (IsDelimClass(s[i]) && s[q] == ' ') ++q;  // the optional space
    size_t end = 0;
    if (IsDelimClass(s[i]) && q < n && IsQuote(s[q])) {
      for (size_t j = q + 1; j + 1 < n; ++j) {
        if (s[j] == s[q] && s[j + 1] == s[i]) {
          end = j + 2;
          break;
        }
      }
    }
    if (end) {
      matches.push_back(s[i]);
      i = end;
    } else {
      ++i;
    }
  }
  // 2: ^quote .*? quote delim [space].
  if (matches.empty() && n > 0 && IsQuote(s[0])) {
    for (size_t j = 1; j + 1 < n; ++j) {
      if (s[j] == s[0] && IsDelimClass(s[j + 1])) {
        matches.push_back(s[j + 1]);
        break;
      }
    }
  }
  // 3: delim [space] quote .*? quote$ — the first (leftmost) start that works.
  if (matches.empty() && n > 0 && IsQuote(s[n - 1])) {
    for (size_t i = 0; i + 1 < n; ++i) {
      if (!IsDelimClass(s[i])) continue;
      size_t q = (s[i + 1] == ' ' && i + 2 < n && IsQuote(s[i + 2])) ? i + 2 : i + 1;
      if (IsQuote(s[q]) && s[q] == s[n - 1] && n - 1 > q) {
        matches.push_back(s[i]);
        break;
      }
    }
  }
  // 4: ^quote .*? quote$ — a quoted single column: no delimiter.
  if (matches.empty()) return 0;
  // max(delims, key=count): the first delimiter reaching the highest count.
  std::vector<std::pair<char, int>> delims;
  for (char m : matches) {
    auto it = std::find_if(delims.begin(), delims.end(), [&](auto& d) { return d.first == m; });
    if (it == delims.end()) {
      delims.emplace_back(m, 1);
    } else {
      ++it->second;
    }
  }
  auto best = delims.begin();
  for (auto it = delims.begin(); it != delims.end(); ++it) {
    if (it->second > best->second) best = it;
  }
  return best->first;
}

// Sniffer._guess_delimiter on one line: every ASCII character present is a candidate; the
// preferred list decides, then the highest count, then the highest character.
char GuessDelimiter(std::string_view s) {
  std::array<int, 127> counts{};
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 127) ++counts[u];
  }
  int candidates = 0;
  char only = 0;
  for (int c = 0; c < 127; ++c) {
    if (counts[c] > 0) {
      ++candidates;
      only = static_cast<char>(c);
    }
  }
  if (candidates == 0) return 0;
  if (candidates == 1) return only;
  for (char preferred : {',', '\t', ';', ' ', ':'}) {
    if (counts[static_cast<unsigned char>(preferred)] > 0) return preferred;
  }
  int best = -1;
  for (int c = 0; c < 127; ++c) {
    if (counts[c] > 0 && (best < 0 || counts[c] >= counts[best])) best = c;
  }
  return static_cast<char>(best);
}

bool IsAsciiAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

}  // namespace

std::optional<char> SniffCsvDelimiter(std::string_view sample) {
  char delim = 0;
  if (sample.find_first_of("\"'") != std::string_view::npos) delim = GuessQuoteAndDelimiter(sample);
  if (delim == 0) delim = GuessDelimiter(sample);
  if (delim == 0) return std::nullopt;
  return IsAsciiAlnum(delim) ? ',' : delim;
}

Status DecodeCsv(std::string_view body, DenseMatrix* out) {
  out->rows = out->cols = 0;
  out->values.clear();
  const std::string_view text = StripBytes(body);
  if (auto err = Utf8DecodeError(text)) return CsvError("UnicodeDecodeError", *err);
  const auto delim =
      SniffCsvDelimiter(FirstCodePoints(text.substr(0, text.find('\n')), kSniffChars));
  if (!delim) return CsvError("_csv.Error", "Could not determine delimiter");

  const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  std::optional<std::string_view> bad_field;  // the first field float() rejects, row-major
  size_t rows = 0, cols = 0;
  for (size_t pos = 0; pos <= text.size(); ++rows) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    size_t fields = 0;
    for (size_t f = 0; f <= line.size(); ++fields) {
      size_t sep = line.find(*delim, f);
      if (sep == std::string_view::npos) sep = line.size();
      const std::string_view field = line.substr(f, sep - f);
      float value = std::numeric_limits<float>::quiet_NaN();
      if (!field.empty()) {
        if (auto parsed = PyFloat(field)) {
          value = ToFloat32(*parsed);
        } else if (!bad_field) {
          bad_field = field;
        }
      }
      out->values.push_back(value);
      f = sep + 1;
    }
    if (rows == 0) {
      cols = fields;
      out->values.reserve(lines * cols);
    } else if (fields != cols) {
      // numpy fails to build the 2-D array before it converts any string.
      out->values.clear();
      return CsvError("ValueError",
                      "setting an array element with a sequence. The requested array has an "
                      "inhomogeneous shape after 1 dimensions. The detected shape was (" +
                          std::to_string(lines) + ",) + inhomogeneous part.");
    }
    pos = eol + 1;
  }
  if (bad_field) {
    out->values.clear();
    return CsvError("ValueError", "could not convert string to float: " + PyRepr(*bad_field));
  }
  out->rows = rows;
  out->cols = cols;
  return Status::Ok();
}

Status DecodeLibsvm(std::string_view body, CsrMatrix* out) {
  out->rows = out->cols = 0;
  out->indptr.clear();
  out->indices.clear();
  out->values.clear();
  const std::string_view text = StripBytes(body);
  if (auto err = Utf8DecodeError(text)) return LibsvmError("UnicodeDecodeError", *err);

  struct Entry {
    size_t row;
    int64_t col;
    double value;
  };
  std::vector<Entry> entries;
  std::optional<std::string> col_error, value_error;  // numpy converts all columns first
  size_t row = 0;
  for (size_t pos = 0; pos <= text.size(); ++row) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    for (size_t f = 0; f <= line.size();) {
      size_t sep = line.find(' ', f);
      if (sep == std::string_view::npos) sep = line.size();
      const std::string_view item = line.substr(f, sep - f);
      f = sep + 1;
      const size_t colon = item.find(':');
      if (colon == std::string_view::npos) continue;
      const std::string_view col_text = item.substr(0, colon);
      std::string_view value_text = item.substr(colon + 1);
      value_text = value_text.substr(0, value_text.find(':'));
      Entry e{row, 0, 0.0};
      PyIntResult col = PyInt(col_text);
      if (col.error && !col_error) {
        col_error = *col.error == PyIntError::kOverflow
                        ? "<class 'OverflowError'>\n Python int too large to convert to C long"
                        : "<class 'ValueError'>\n invalid literal for int() with base 10: " +
                              PyRepr(col_text);
      }
      e.col = col.value;
      if (auto v = PyFloat(value_text)) {
        e.value = *v;
      } else if (!value_error) {
        value_error =
            "<class 'ValueError'>\n could not convert string to float: " + PyRepr(value_text);
      }
      entries.push_back(e);
    }
    pos = eol + 1;
  }
  const std::string_view kPrefix =
      "Loading libsvm data failed with Exception, please ensure data is in libsvm format:\n ";
  if (col_error) return InvalidArgument(std::string(kPrefix) + *col_error);
  if (value_error) return InvalidArgument(std::string(kPrefix) + *value_error);
  if (entries.empty()) {
    return LibsvmError("ValueError", "cannot infer dimensions from zero sized index arrays");
  }
  int64_t max_col = std::numeric_limits<int64_t>::min(), min_col = 0;
  for (const Entry& e : entries) {
    max_col = std::max(max_col, e.col);
    min_col = std::min(min_col, e.col);
  }
  if (max_col < -1) return LibsvmError("ValueError", "'shape' elements cannot be negative");
  if (min_col < 0) return LibsvmError("ValueError", "negative column index found");
  if (max_col >= static_cast<int64_t>(std::numeric_limits<unsigned>::max())) {
    // XGBoost's feature indices are 32-bit; scipy would accept this, XGBoost could not.
    return LibsvmError("ValueError", "column index " + std::to_string(max_col) + " is too large");
  }

  // scipy's tocsr(): per row, sort by column and add duplicates (in float64, then cast).
  out->rows = entries.back().row + 1;
  out->cols = static_cast<size_t>(max_col) + 1;
  out->indptr.assign(out->rows + 1, 0);
  out->indices.reserve(entries.size());
  out->values.reserve(entries.size());
  size_t begin = 0;
  for (size_t r = 0; r < out->rows; ++r) {
    size_t end = begin;
    while (end < entries.size() && entries[end].row == r) ++end;
    std::stable_sort(entries.begin() + static_cast<ptrdiff_t>(begin),
                     entries.begin() + static_cast<ptrdiff_t>(end),
                     [](const Entry& a, const Entry& b) { return a.col < b.col; });
    for (size_t i = begin; i < end;) {
      double sum = entries[i].value;
      size_t j = i + 1;
      while (j < end && entries[j].col == entries[i].col) sum += entries[j++].value;
      out->indices.push_back(static_cast<unsigned>(entries[i].col));
      out->values.push_back(ToFloat32(sum));
      i = j;
    }
    out->indptr[r + 1] = out->indices.size();
    begin = end;
  }
  return Status::Ok();
}

}  // namespace thaw::worker
