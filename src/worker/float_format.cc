#include "worker/float_format.h"

#include <charconv>
#include <cmath>

namespace thaw::worker {

void AppendPyFloat(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("nan");
    return;
  }
  if (std::isinf(v)) {
    out->append(v < 0 ? "-inf" : "inf");
    return;
  }
  // Shortest round-trip digits in scientific form: "-d.ddde±XX".
  char sci[40];
  auto res = std::to_chars(sci, sci + sizeof(sci), v, std::chars_format::scientific);
  const char* p = sci;
  const char* end = res.ptr;
  if (*p == '-') {
    out->push_back('-');
    ++p;
  }
  char digits[24];
  size_t n = 0;
  while (p < end && *p != 'e') {
    if (*p != '.') digits[n++] = *p;
    ++p;
  }
  int exp10 = 0;  // v = d.ddd × 10^exp10
  if (p < end) std::from_chars(p + (p[1] == '+' ? 2 : 1), end, exp10);

  if (exp10 < -4 || exp10 >= 16) {
    // Python: mantissa digits, '.' only when more than one digit, exponent with sign and at
    // least two digits.
    out->push_back(digits[0]);
    if (n > 1) {
      out->push_back('.');
      out->append(digits + 1, n - 1);
    }
    out->push_back('e');
    out->push_back(exp10 < 0 ? '-' : '+');
    int a = exp10 < 0 ? -exp10 : exp10;
    if (a < 10) out->push_back('0');
    char ebuf[8];
    auto er = std::to_chars(ebuf, ebuf + sizeof(ebuf), a);
    out->append(ebuf, er.ptr);
    return;
  }
  if (exp10 < 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-exp10 - 1), '0');
    out->append(digits, n);
    return;
  }
  size_t int_len = static_cast<size_t>(exp10) + 1;
  if (n <= int_len) {
    out->append(digits, n);
    out->append(int_len - n, '0');
    out->append(".0");
  } else {
    out->append(digits, int_len);
    out->push_back('.');
    out->append(digits + int_len, n - int_len);
  }
}

void AppendJsonFloat(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v < 0 ? "-Infinity" : "Infinity");
  } else {
    AppendPyFloat(v, out);
  }
}

}  // namespace thaw::worker
