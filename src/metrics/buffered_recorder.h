#pragma once
// The hot-path Recorder: appends a copy of the record to one of a few mutex-guarded buffers,
// picked by the calling thread, and returns. The metrics thread swaps the buffers out (Drain)
// and does all the folding there. With one buffer per I/O thread in practice, the mutex is
// uncontended except for the instant of a swap; the cost is one lock and one copy (measured by
// bench/micro/recorder_bench.cc, see docs/ARCHITECTURE.md § Metrics).
//
// Bounded: past `capacity` records per buffer between two drains, records are dropped and
// counted (dropped()), so a stalled metrics thread cannot eat the server's memory.

#include <array>
#include <atomic>
#include <mutex>
#include <vector>

#include "metrics/record.h"

namespace thaw::metrics {

class BufferedRecorder final : public Recorder {
 public:
  explicit BufferedRecorder(size_t capacity_per_shard = 1 << 16);
  void Record(const InvocationRecord& record) override;
  // Everything recorded since the last Drain, in no particular order. Thread-safe.
  std::vector<InvocationRecord> Drain();
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 8;
  struct alignas(64) Shard {
    std::mutex mu;  // guards records
    std::vector<InvocationRecord> records;
  };
  std::array<Shard, kShards> shards_;
  const size_t capacity_;
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace thaw::metrics
