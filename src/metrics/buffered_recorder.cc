#include "metrics/buffered_recorder.h"

namespace thaw::metrics {
namespace {

std::atomic<size_t> g_next_shard{0};

size_t ThreadShard() {
  thread_local const size_t shard = g_next_shard.fetch_add(1, std::memory_order_relaxed);
  return shard;
}

}  // namespace

BufferedRecorder::BufferedRecorder(size_t capacity_per_shard) : capacity_(capacity_per_shard) {}

void BufferedRecorder::Record(const InvocationRecord& record) {
  Shard& shard = shards_[ThreadShard() % kShards];
  std::lock_guard lock(shard.mu);
  if (shard.records.size() >= capacity_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  shard.records.push_back(record);
}

std::vector<InvocationRecord> BufferedRecorder::Drain() {
  std::vector<InvocationRecord> out;
  for (Shard& shard : shards_) {
    // The fresh buffer gets the old one's capacity, allocated outside the lock: the hot path
    // then does not reallocate during a steady load.
    size_t want;
    {
      std::lock_guard lock(shard.mu);
      want = shard.records.size();
    }
    if (want == 0) continue;
    std::vector<InvocationRecord> taken;
    taken.reserve(std::min(want * 2, capacity_));
    {
      std::lock_guard lock(shard.mu);
      taken.swap(shard.records);
    }
    if (out.empty()) {
      out = std::move(taken);
    } else {
      out.insert(out.end(), std::make_move_iterator(taken.begin()),
                 std::make_move_iterator(taken.end()));
    }
  }
  return out;
}

}  // namespace thaw::metrics
