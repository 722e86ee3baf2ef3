#pragma once
// Injectable time. Production code asks a Clock for `now` once per event and passes it down;
// tests use tests/fakes/fake_clock.h and advance time by hand.

#include <chrono>
#include <cstdint>

namespace thaw {

// Wall-clock time as AWS shows it: a point on the system clock, microsecond resolution.
using WallTime = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  WallTime Now() const override {
    return std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now());
  }
};

// Epoch seconds with a fraction, the form awsJson timestamps take on the wire.
inline double ToEpochSeconds(WallTime t) {
  return static_cast<double>(t.time_since_epoch().count()) / 1e6;
}
inline WallTime FromEpochSeconds(double seconds) {
  return WallTime(std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6)));
}
inline int64_t ToEpochMicros(WallTime t) { return t.time_since_epoch().count(); }
inline WallTime FromEpochMicros(int64_t us) { return WallTime(std::chrono::microseconds(us)); }

}  // namespace thaw
