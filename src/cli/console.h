#pragma once
// Where a command writes: results to `out`, progress and errors to `err`. Commands never touch
// std::cout/std::cerr directly, so tests capture both.

#include <chrono>
#include <cstdio>
#include <ostream>
#include <string>

namespace thaw::cli {

struct Console {
  std::ostream& out;
  std::ostream& err;
  bool err_is_tty = false;  // progress redraws one line (\r) instead of printing lines
};

// "0.42 s", "12.3 s".
inline std::string FormatSeconds(std::chrono::steady_clock::duration d) {
  double s = std::chrono::duration<double>(d).count();
  char buf[32];
  std::snprintf(buf, sizeof buf, s < 10 ? "%.2f s" : "%.1f s", s);
  return buf;
}

}  // namespace thaw::cli
