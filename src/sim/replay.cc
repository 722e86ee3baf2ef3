#include "sim/replay.h"

#include <algorithm>
#include <cmath>
#include <queue>
#include <unordered_map>

#include "fleet/pool_state.h"

namespace thaw::sim {
namespace {

using fleet::Admission;
using fleet::PoolState;
using fleet::RequestId;
using fleet::WorkerId;

struct Arrival {
  int64_t at_us;
  int64_t duration_us;
  bool operator<(const Arrival& o) const {
    return at_us != o.at_us ? at_us < o.at_us : duration_us < o.duration_us;
  }
};

enum class Kind { kRelease, kReady, kTick };

struct Event {
  int64_t at_us;
  uint64_t seq;  // FIFO among equal times: the replay is deterministic
  Kind kind;
  WorkerId worker;
  bool operator>(const Event& o) const { return at_us != o.at_us ? at_us > o.at_us : seq > o.seq; }
};

std::vector<Arrival> Arrivals(const AppTrace& app, int minutes) {
  std::vector<Arrival> out;
  for (const FunctionTrace& fn : app.functions) {
    for (int m = 0; m < minutes && m < static_cast<int>(fn.per_minute.size()); ++m) {
      uint32_t n = fn.per_minute[static_cast<size_t>(m)];
      for (uint32_t i = 0; i < n; ++i) {
        int64_t at = int64_t{m} * 60'000'000 + (2 * int64_t{i} + 1) * 30'000'000 / n;
        out.push_back({at, fn.duration_us});
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

AppResult ReplayApp(const AppTrace& app, int minutes, const fleet::KeepAlivePolicy& policy,
                    const ReplayOptions& options) {
  // Borrowed, not owned: the policy outlives the replay.
  fleet::PoolConfig config;
  config.max_concurrency = 1 << 30;
  config.policy = std::shared_ptr<const fleet::KeepAlivePolicy>(&policy, [](const auto*) {});
  PoolState pool(config);

  const WallTime epoch{};
  auto at = [&epoch](int64_t us) { return epoch + std::chrono::microseconds(us); };
  const int64_t end_us = int64_t{minutes} * 60'000'000;
  const int64_t start_us = options.start_delay.count();

  std::vector<Arrival> arrivals = Arrivals(app, minutes);
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  uint64_t seq = 0;
  std::unordered_map<RequestId, int64_t> waiting;  // request → its duration
  std::optional<int64_t> tick_at;                  // earliest pending tick event

  auto push = [&](int64_t t, Kind k, WorkerId w) { events.push({t, seq++, k, w}); };
  auto run_on = [&](const std::optional<fleet::Assignment>& a, int64_t t) {
    if (!a) return;
    auto it = waiting.find(a->request);
    push(t + it->second, Kind::kRelease, a->worker);
    waiting.erase(it);
  };
  auto tick = [&](int64_t t) {
    PoolState::Upkeep up = pool.Tick(at(t));
    for (int i = 0; i < up.prewarm; ++i) {
      WorkerId w = pool.StartWorker(at(t), /*prewarm=*/true);
      push(t + start_us, Kind::kReady, w);
    }
    if (up.next_check) {
      int64_t next = (*up.next_check - epoch).count();
      if (!tick_at || next < *tick_at || *tick_at <= t) {
        tick_at = next;
        push(next, Kind::kTick, 0);
      }
    }
  };

  RequestId next_request = 1;
  size_t i = 0;
  for (;;) {
    bool arrival_next =
        i < arrivals.size() && (events.empty() || arrivals[i].at_us < events.top().at_us);
    int64_t t = arrival_next ? arrivals[i].at_us : events.empty() ? end_us : events.top().at_us;
    if (t >= end_us) break;
    if (arrival_next) {
      const Arrival& a = arrivals[i++];
      RequestId r = next_request++;
      Admission adm = pool.Admit(r, at(t));
      if (adm.kind == Admission::kRunOn) {
        push(t + a.duration_us, Kind::kRelease, adm.worker);
      } else if (adm.kind == Admission::kWait) {
        waiting[r] = a.duration_us;
        if (adm.cold_start) push(t + start_us, Kind::kReady, pool.StartWorker(at(t)));
      }
      continue;
    }
    Event e = events.top();
    events.pop();
    switch (e.kind) {
      case Kind::kRelease:
        run_on(pool.OnReleased(e.worker, at(t)), t);
        tick(t);
        break;
      case Kind::kReady:
        run_on(pool.OnWorkerReady(e.worker, at(t)), t);
        tick(t);
        break;
      case Kind::kTick:
        if (tick_at && *tick_at == t) tick_at.reset();
        tick(t);
        break;
    }
  }
  pool.RetireAllIdle(at(end_us));  // idle until the end of the day

  const fleet::KeepAliveStats& s = pool.stats();
  AppResult r;
  r.requests = s.requests;
  r.cold_starts = s.cold_starts;
  r.prewarms = s.prewarms;
  r.prewarm_hits = s.prewarm_hits;
  r.prewarm_wasted = s.prewarm_wasted;
  r.idle_gb_s =
      static_cast<double>(s.idle_worker_us) / 1e6 * static_cast<double>(app.memory_mb) / 1024.0;
  return r;
}

double Quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  if (rank < 1) rank = 1;
  return values[std::min(rank, values.size()) - 1];
}

Summary Replay(const Trace& trace, const fleet::KeepAlivePolicy& policy,
               const ReplayOptions& options) {
  Summary s;
  s.policy = policy.Name();
  std::vector<double> rates;
  double idle_gb_s = 0;
  for (const AppTrace& app : trace.apps) {
    AppResult r = ReplayApp(app, trace.minutes, policy, options);
    if (options.keep_per_app) s.per_app.push_back(r);
    if (r.requests == 0) continue;
    ++s.apps;
    s.requests += r.requests;
    s.cold_starts += r.cold_starts;
    s.prewarms += r.prewarms;
    s.prewarm_hits += r.prewarm_hits;
    s.prewarm_wasted += r.prewarm_wasted;
    idle_gb_s += r.idle_gb_s;
    rates.push_back(static_cast<double>(r.cold_starts) / static_cast<double>(r.requests));
  }
  s.cold_rate =
      s.requests ? static_cast<double>(s.cold_starts) / static_cast<double>(s.requests) : 0;
  s.p75_app_cold = Quantile(std::move(rates), 0.75);
  s.idle_gb_hours = idle_gb_s / 3600.0;
  return s;
}

}  // namespace thaw::sim
