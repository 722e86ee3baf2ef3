#pragma once

#include <chrono>

#include "common/clock.h"

namespace thaw::testing {

// A clock that moves only when a test says so.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(WallTime start = FromEpochSeconds(1'700'000'000)) : now_(start) {}
  WallTime Now() const override { return now_; }
  void Advance(std::chrono::microseconds d) { now_ += d; }
  void Set(WallTime t) { now_ = t; }

 private:
  WallTime now_;
};

}  // namespace thaw::testing
