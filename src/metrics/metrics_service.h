#pragma once
// The metrics module's one object: the Recorder the invoke path calls, the sampler that reads
// the fleet, the persistence of aggregates to SQLite, and the reads CloudWatch queries make.
//
//   invoke path ──Record()──▶ BufferedRecorder      (≤ 1 µs: a lock and a copy)
//   metrics thread, every sample interval (1 s):   Drain → Aggregator; SampleSource → Aggregator
//                   every flush interval (5 s):    Aggregator deltas ─merge─▶ store (one tx)
//                   every minute:                  retention (delete minutes older than N days)
//   Stop():                                        a last drain + flush
//   Fetch/ListSeries (blocking pool):              drain, then stored rows ⊕ unflushed deltas
//   PrometheusText (GET /metrics):                 drain, then render the counters/histograms
//   live namespaces (thaw/KeepAlive, live_gauges.h): Fetch/ListSeries ask the GaugeSource, no
//                   lock of ours held, nothing stored
//
// Reads drain the recorder first, so a query sees every invocation answered before it. `mu_`
// serialises the aggregator, a flush and a read, so a read never counts a delta twice or misses
// one in flight. Time comes from the injected Clock; Tick() is the whole periodic step, so
// tests drive it with a FakeClock and no thread.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "metrics/aggregator.h"
#include "metrics/buffered_recorder.h"
#include "metrics/catalog.h"
#include "metrics/live_gauges.h"
#include "metrics/prometheus.h"
#include "store/store.h"

namespace thaw::metrics {

struct MetricsOptions {
  std::chrono::seconds sample_interval{1};
  std::chrono::seconds flush_interval{5};
  int64_t retention_days = 15;
};

struct MinutePoint {
  Minute minute;
  Aggregate aggregate;
};

struct SeriesInfo {
  SeriesKey key;
  std::string unit;
  Minute last_minute = 0;
};

class MetricsService final : public Recorder {
 public:
  // `store` must outlive the service; `source` may be empty (no sampled metrics).
  MetricsService(store::Store& store, const Clock& clock, MetricsOptions options,
                 SampleSource source);
  ~MetricsService() override;

  void Record(const InvocationRecord& record) override { recorder_.Record(record); }

  // The live namespaces' source (live_gauges.h); set before the service answers queries.
  void set_gauge_source(GaugeSource source) { gauges_ = std::move(source); }

  // Starts the metrics thread. Stop() ends it after a final flush; idempotent.
  void Start();
  void Stop();

  // One periodic step at `now`: sample, drain, and flush/prune when due.
  void Tick(WallTime now);
  // Drains and writes every pending delta now.
  Status Flush(WallTime now);

  // The minutes of one series with from <= minute < to (stored ⊕ pending), in minute order. A
  // live series (live_gauges.h) has one point, its value now, at the current minute.
  Result<std::vector<MinutePoint>> Fetch(const SeriesKey& key, Minute from, Minute to);
  // Every series with data (stored ⊕ pending), then the live series there are now.
  Result<std::vector<SeriesInfo>> ListSeries();

  // The invocation counters and histograms in the Prometheus text format (prometheus.h), after
  // a drain. Thread-safe; called by GET /metrics on an I/O thread (a lock and a render).
  std::string PrometheusText();

  const Clock& clock() const { return clock_; }
  uint64_t dropped_records() const { return recorder_.dropped(); }

 private:
  void DrainLocked();
  Result<std::vector<MinutePoint>> FetchLive(const SeriesKey& key, Minute from, Minute to) const;
  Status FlushLocked();
  void Run();

  store::Store& store_;
  const Clock& clock_;
  const MetricsOptions options_;
  SampleSource source_;
  GaugeSource gauges_;
  BufferedRecorder recorder_;

  std::mutex mu_;  // guards aggregator_, prometheus_, the flush/prune schedule, store I/O order
  Aggregator aggregator_;
  PrometheusRegistry prometheus_;
  WallTime last_sample_{}, last_flush_{}, last_prune_{};

  std::mutex thread_mu_;  // guards stop_
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace thaw::metrics
