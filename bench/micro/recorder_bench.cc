// The cost the metrics recorder adds to each invocation (issue 5: ≤ 1 µs), and the cost of the
// work it defers to the metrics thread. Build with the release preset:
//   cmake --preset release && cmake --build --preset release --target recorder_bench
//   build/release/bench/micro/recorder_bench --benchmark_repetitions=5
//
// BM_Record                 one invocation record handed to the recorder (copy + lock), with a
//                           realistic 28-character endpoint name (heap-allocated string)
// BM_Record/threads:N       the same from N threads at once (per-thread buffers)
// BM_RecordWithDrainer      as production: a thread drains every millisecond meanwhile
// BM_InvokePathShare        everything RuntimeApi::Invoke adds: two clock reads, building the
//                           record (two string copies) and Record()
// BM_FoldIntoAggregates     the metrics thread's share per record (not on the hot path)
// BM_FoldIntoPrometheus     its Prometheus share per record (counters + histograms, same thread)

#include <benchmark/benchmark.h>

#include <atomic>
#include <thread>

#include "metrics/aggregator.h"
#include "metrics/buffered_recorder.h"
#include "metrics/prometheus.h"

namespace {

using thaw::metrics::BufferedRecorder;
using thaw::metrics::InvocationRecord;

InvocationRecord Typical(int i) {
  InvocationRecord r;
  r.endpoint = "fraud-detector-prod-endpoint";  // longer than the SSO buffer
  r.variant = "AllTraffic";
  r.time = thaw::FromEpochSeconds(1'700'000'000 + i / 1000);
  r.model_answered = true;
  r.model_latency_us = 850 + i % 100;
  r.overhead_latency_us = 120;
  r.bytes_in = 64;
  r.bytes_out = 24;
  r.memory_mb = 2048;
  return r;
}

BufferedRecorder* g_recorder = nullptr;

void BM_Record(benchmark::State& state) {
  if (state.thread_index() == 0) g_recorder = new BufferedRecorder(1 << 20);
  InvocationRecord r = Typical(state.thread_index());
  int64_t n = 0;
  for (auto _ : state) {
    r.model_latency_us = 850 + (n & 63);
    g_recorder->Record(r);
    if ((++n & 0xffff) == 0 && state.thread_index() == 0) {
      state.PauseTiming();
      benchmark::DoNotOptimize(g_recorder->Drain());
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    state.counters["dropped"] = static_cast<double>(g_recorder->dropped());
    delete g_recorder;
    g_recorder = nullptr;
  }
}
BENCHMARK(BM_Record)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

void BM_RecordWithDrainer(benchmark::State& state) {
  BufferedRecorder recorder(1 << 20);
  std::atomic<bool> stop{false};
  std::thread drainer([&] {
    while (!stop.load()) {
      benchmark::DoNotOptimize(recorder.Drain());
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  InvocationRecord r = Typical(0);
  for (auto _ : state) recorder.Record(r);
  stop = true;
  drainer.join();
  state.SetItemsProcessed(state.iterations());
  state.counters["dropped"] = static_cast<double>(recorder.dropped());
}
BENCHMARK(BM_RecordWithDrainer)->UseRealTime();

void BM_InvokePathShare(benchmark::State& state) {
  BufferedRecorder recorder(1 << 20);
  thaw::SystemClock clock;
  const std::string endpoint = "fraud-detector-prod-endpoint", variant = "AllTraffic";
  int64_t n = 0;
  for (auto _ : state) {
    thaw::WallTime started = clock.Now();
    InvocationRecord r;  // what MakeInvocationRecord builds
    r.endpoint = endpoint;
    r.variant = variant;
    r.time = clock.Now();
    r.model_answered = true;
    r.model_latency_us = 850;
    r.overhead_latency_us = (r.time - started).count();
    r.memory_mb = 2048;
    recorder.Record(r);
    if ((++n & 0xffff) == 0) {
      state.PauseTiming();
      benchmark::DoNotOptimize(recorder.Drain());
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InvokePathShare);

void BM_FoldIntoAggregates(benchmark::State& state) {
  thaw::metrics::Aggregator agg;
  int i = 0;
  InvocationRecord r = Typical(0);
  for (auto _ : state) {
    r.model_latency_us = 500 + (i++ % 5000);
    agg.Add(r);
    if ((i & 0xffff) == 0) benchmark::DoNotOptimize(agg.TakeDeltas());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FoldIntoAggregates);

void BM_FoldIntoPrometheus(benchmark::State& state) {
  thaw::metrics::PrometheusRegistry reg;
  int i = 0;
  InvocationRecord r = Typical(0);
  for (auto _ : state) {
    r.model_latency_us = 500 + (i++ % 5000);
    reg.Add(r);
  }
  benchmark::DoNotOptimize(reg.variants().size());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FoldIntoPrometheus);

}  // namespace

BENCHMARK_MAIN();
