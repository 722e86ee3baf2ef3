#include "fleet/pool_state.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

namespace thaw::fleet {

namespace {
std::shared_ptr<const KeepAlivePolicy> PolicyOf(const PoolConfig& c) {
  if (c.policy) return c.policy;
  return std::make_shared<FixedKeepAlive>(c.keep_alive);
}
}  // namespace

PoolState::PoolState(PoolConfig config) : config_(std::move(config)) {
  config_.policy = PolicyOf(config_);
  LevelAt(1);
}

PoolState::Level& PoolState::LevelAt(int k) {
  while (static_cast<int>(levels_.size()) < k) {
    IdleHistogram h = config_.policy->NewHistory();
    const int k = static_cast<int>(levels_.size()) + 1;
    LevelInfo info{k, stats_.requests, k > 1 ? levels_.back().window : KeepAliveWindow{}};
    KeepAliveWindow w = config_.policy->Decide(h, info);
    levels_.push_back({std::move(h), std::nullopt, w, std::nullopt});
  }
  return levels_[static_cast<size_t>(k - 1)];
}

WallTime PoolState::IdleDeadline(const Level& level, WallTime now) {
  // A level that pre-warms unloads its worker (at once, or after its first warm spell) and
  // brings one back at its time.
  if (level.window.prewarm_after.count() > 0) return now + level.window.warm_first;
  return now + level.window.keep_alive;
}

double PoolState::Frequency(WallTime now) const {
  double age_s = std::chrono::duration<double>(now - frequency_at_).count();
  double half_life_s = std::chrono::duration<double>(kFrequencyHalfLife).count();
  // A decayed count with half-life h has a steady state of rate × h / ln 2.
  return frequency_ * std::exp2(-std::max(0.0, age_s) / half_life_s) * std::log(2.0) / half_life_s;
}

void PoolState::EndIdle(Worker& w, WallTime now, bool retired) {
  stats_.idle_worker_us += std::max<int64_t>(0, (now - w.last_used).count());
  if (!w.prewarmed) return;
  if (retired) {
    ++stats_.prewarm_wasted;
  } else {
    ++stats_.prewarm_hits;
  }
  w.prewarmed = false;
}

void PoolState::SetState(WorkerMap::iterator it, WorkerState s) {
  Worker& w = it->second;
  if (w.state == WorkerState::kIdle) Unindex(it);
  --counts_[static_cast<int>(w.state)];
  ++counts_[static_cast<int>(s)];
  w.state = s;
  if (s == WorkerState::kIdle) Index(it);
}

void PoolState::Erase(WorkerMap::iterator it, std::optional<WallTime> now) {
  if (it->second.state == WorkerState::kIdle) Unindex(it);
  --counts_[static_cast<int>(it->second.state)];
  if (it->second.from_template && template_.workers > 0) --template_.workers;
  // Any worker of the pool that goes restarts the template's keep-alive: it retires after the
  // pool's workers, whether they were forked from it or started the generic way before it.
  if (template_.state == TemplateState::kReady) {
    template_.last_used = std::max(template_.last_used, now.value_or(it->second.last_used));
  }
  workers_.erase(it);
}

bool PoolState::FromTemplate(WorkerId worker) const {
  auto it = workers_.find(worker);
  return it != workers_.end() && it->second.from_template;
}

bool PoolState::WantTemplate() const {
  return config_.templates && template_.state == TemplateState::kNone && template_.wanted;
}

void PoolState::OnTemplateStarting() { template_.state = TemplateState::kStarting; }

void PoolState::OnTemplateReady(WallTime now) {
  template_.state = TemplateState::kReady;
  template_.workers = 0;
  template_.last_used = now;
}

void PoolState::OnTemplateFailed(bool model) {
  template_.state = model ? TemplateState::kUnusable : TemplateState::kNone;
  template_.wanted = false;
}

void PoolState::OnTemplateGone() {
  if (template_.state == TemplateState::kUnusable) return;
  template_ = Template();
  for (auto& [id, w] : workers_) w.from_template = false;
}

void PoolState::OnStartedGeneric(WorkerId worker) {
  auto it = workers_.find(worker);
  if (it == workers_.end() || !it->second.from_template) return;
  it->second.from_template = false;
  if (template_.workers > 0) --template_.workers;
}

std::optional<WallTime> PoolState::EvictableTemplate() const {
  if (template_.state != TemplateState::kReady || template_.workers > 0) return std::nullopt;
  return template_.last_used;
}

void PoolState::Index(WorkerMap::iterator it) {
  const Worker& w = it->second;
  IdleKey key{w.last_used, it->first};
  idle_.insert(key);
  idle_by_deadline_.insert({w.retire_at, it->first});
  idle_by_affinity_[w.affinity].insert(key);
}

void PoolState::Unindex(WorkerMap::iterator it) {
  const Worker& w = it->second;
  IdleKey key{w.last_used, it->first};
  idle_.erase(key);
  idle_by_deadline_.erase({w.retire_at, it->first});
  auto a = idle_by_affinity_.find(w.affinity);
  if (a == idle_by_affinity_.end()) return;
  a->second.erase(key);
  if (a->second.empty()) idle_by_affinity_.erase(a);
}

WorkerId PoolState::MostRecent(const IdleSet& s) {
  // Worker ids start at 1: {t, 0} sorts before every entry used at t.
  return s.lower_bound({std::prev(s.end())->first, 0})->second;
}

void PoolState::RetireIdle(WorkerMap::iterator it, WallTime now) {
  EndIdle(it->second, now, /*retired=*/true);
  Erase(it, now);
}

int PoolState::StartsNeeded() const {
  int uncovered = static_cast<int>(waiters_.size()) - Count(WorkerState::kStarting);
  int room = Cap() - workers();
  return std::max(0, std::min(uncovered, room));
}

Admission PoolState::Admit(RequestId request, WallTime now, uintptr_t affinity) {
  int limit = config_.instance_mode ? config_.instance_count + static_cast<int>(config_.max_queue)
                                    : config_.max_concurrency;
  if (in_flight_ >= limit) return {Admission::kThrottle};
  ++in_flight_;
  // An idle period of concurrency level in_flight_ ends (level 1: of the endpoint).
  Level& level = LevelAt(in_flight_);
  if (level.idle_since) {
    level.history.Record(now - *level.idle_since);
    level.idle_since.reset();
  }
  if (level.prewarm_at) {
    prewarms_.erase({*level.prewarm_at, in_flight_});
    level.prewarm_at.reset();
  }
  ++stats_.requests;
  if (now > frequency_at_) {
    double age_s = std::chrono::duration<double>(now - frequency_at_).count();
    frequency_ *= std::exp2(-age_s / std::chrono::duration<double>(kFrequencyHalfLife).count());
    frequency_at_ = now;
  }
  frequency_ += 1;
  // Most recently used idle worker first: its caches are warmest, and the others age out. One
  // of the caller's shard wins over a more recent one elsewhere: using it costs no re-registration
  // of its socket with another reactor.
  // Among equal last_used, the lowest id.
  std::optional<WorkerId> pick;
  if (auto local = idle_by_affinity_.find(affinity); local != idle_by_affinity_.end()) {
    pick = MostRecent(local->second);
  } else if (!idle_.empty()) {
    pick = MostRecent(idle_);
  }
  if (pick) {
    auto best = workers_.find(*pick);
    SetState(best, WorkerState::kBusy);
    EndIdle(best->second, now, /*retired=*/false);
    best->second.last_used = now;
    best->second.affinity = affinity;
    return {Admission::kRunOn, best->first};
  }
  waiters_.push_back(request);
  ++stats_.cold_starts;
  return {Admission::kWait, 0, StartsNeeded() > 0};
}

WorkerId PoolState::StartWorker(WallTime now, bool prewarm) {
  WorkerId id = next_worker_++;
  const bool from_template = template_.state == TemplateState::kReady;
  workers_[id] = {WorkerState::kStarting,        now, 0, prewarm, from_template,
                  prewarm ? prewarm_until_ : now};
  if (from_template) {
    ++template_.workers;
    template_.last_used = std::max(template_.last_used, now);
  }
  if (prewarm) ++stats_.prewarms;
  ++counts_[static_cast<int>(WorkerState::kStarting)];
  return id;
}

std::optional<Assignment> PoolState::ServeWaiterOrIdle(WorkerId worker, WallTime now,
                                                       WallTime retire_at) {
  auto it = workers_.find(worker);
  if (it == workers_.end()) return std::nullopt;
  it->second.last_used = now;
  if (waiters_.empty()) {
    it->second.retire_at = retire_at;
    SetState(it, WorkerState::kIdle);
    return std::nullopt;
  }
  SetState(it, WorkerState::kBusy);
  it->second.prewarmed = false;  // a pre-warm that came too late for its request
  RequestId r = waiters_.front();
  waiters_.pop_front();
  return Assignment{r, worker};
}

std::optional<Assignment> PoolState::OnWorkerReady(WorkerId worker, WallTime now) {
  auto it = workers_.find(worker);
  if (it == workers_.end()) return std::nullopt;
  if (!it->second.from_template) template_.wanted = true;
  // A pre-warmed worker keeps its pre-warm's window; one whose request another worker took
  // keeps the window of the level it would hold (the next one up from the busy and idle ones).
  WallTime retire_at = it->second.retire_at;
  if (!it->second.prewarmed && waiters_.empty()) {
    retire_at = IdleDeadline(LevelAt(in_flight_ + Count(WorkerState::kIdle) + 1), now);
  }
  return ServeWaiterOrIdle(worker, now, retire_at);
}

std::vector<RequestId> PoolState::OnStartFailed(WorkerId worker) {
  if (auto it = workers_.find(worker); it != workers_.end()) Erase(it);
  std::vector<RequestId> failed;
  if (workers_.empty()) {
    // Nobody is left to serve the waiters: they fail now rather than wait forever.
    failed.assign(waiters_.begin(), waiters_.end());
    waiters_.clear();
    in_flight_ -= static_cast<int>(failed.size());
  }
  return failed;
}

std::optional<Assignment> PoolState::OnReleased(WorkerId worker, WallTime now) {
  if (in_flight_ <= 0) return ServeWaiterOrIdle(worker, now, now);
  // An idle period of level in_flight_ begins (level 1: of the endpoint): the policy sets its
  // window from that level's history; the released worker is the level's.
  const int k = in_flight_--;
  Level& level = LevelAt(k);
  level.idle_since = now;
  LevelInfo info{k, stats_.requests,
                 k > 1 ? levels_[static_cast<size_t>(k - 2)].window : KeepAliveWindow{}};
  level.window = config_.policy->Decide(level.history, info);
  if (level.prewarm_at) prewarms_.erase({*level.prewarm_at, k});
  level.prewarm_at.reset();
  if (level.window.prewarm_after.count() > 0) {
    level.prewarm_at = now + level.window.prewarm_after;
    prewarms_.insert({*level.prewarm_at, k});
  }
  return ServeWaiterOrIdle(worker, now, IdleDeadline(level, now));
}

void PoolState::OnWorkerGone(WorkerId worker) {
  auto it = workers_.find(worker);
  if (it == workers_.end()) return;
  if (it->second.state == WorkerState::kBusy) --in_flight_;
  Erase(it);
}

void PoolState::Cancel(RequestId request) {
  auto it = std::find(waiters_.begin(), waiters_.end(), request);
  if (it == waiters_.end()) return;
  waiters_.erase(it);
  --in_flight_;
}

PoolState::Upkeep PoolState::Tick(WallTime now) {
  Upkeep up;
  int keep_floor = Floor();
  auto due = [&up](WallTime t) {
    if (!up.next_check || t < *up.next_check) up.next_check = t;
  };
  // The idle workers past their retire_at go, oldest first: the floor keeps the newest.
  std::vector<IdleKey> expired;  // (last_used, id)
  for (auto d = idle_by_deadline_.begin(); d != idle_by_deadline_.end() && d->first <= now; ++d) {
    expired.emplace_back(workers_.at(d->second).last_used, d->second);
  }
  std::sort(expired.begin(), expired.end());
  for (const auto& [used, id] : expired) {
    if (workers() <= keep_floor) break;
    up.retire.push_back(id);
    RetireIdle(workers_.find(id), now);
  }
  up.start = std::max(0, keep_floor - workers());
  const KeepAliveWindow& window = levels_.front().window;
  if (template_.state == TemplateState::kReady && template_.workers == 0) {
    WallTime at = template_.last_used + window.keep_alive;
    if (at <= now) {
      up.retire_template = true;
      OnTemplateGone();
    } else {
      due(at);
    }
  }
  // Pre-warms that fell due: the pool goes back to as many workers as the highest such level,
  // kept until the latest of their windows ends.
  int target = 0;
  WallTime until{};
  while (!prewarms_.empty() && prewarms_.begin()->first <= now) {
    int k = prewarms_.begin()->second;
    prewarms_.erase(prewarms_.begin());
    Level& level = levels_[static_cast<size_t>(k - 1)];
    level.prewarm_at.reset();
    if (!level.idle_since) continue;
    WallTime end = *level.idle_since + level.window.keep_alive;
    if (now >= end) continue;  // its window has passed
    target = std::max(target, k);
    until = std::max(until, end);
  }
  if (target > 0) {
    // Idle workers count towards it (newest first) and stay until the window's end with it.
    const int want = std::min(target, Cap());
    int extend = want - (workers() - Count(WorkerState::kIdle)) - up.start;
    std::vector<WorkerId> keep;
    for (auto k = idle_.rbegin(); k != idle_.rend() && extend-- > 0; ++k) keep.push_back(k->second);
    for (WorkerId id : keep) {
      auto it = workers_.find(id);
      if (it->second.retire_at >= until) continue;
      Unindex(it);
      it->second.retire_at = until;
      Index(it);
    }
    up.prewarm = std::max(0, want - workers() - up.start);
    prewarm_until_ = until;
  }
  if (!prewarms_.empty()) due(prewarms_.begin()->first);
  // After the pre-warm, which may have kept idle workers longer.
  if (workers() > keep_floor) {
    auto next = idle_by_deadline_.upper_bound({now, std::numeric_limits<WorkerId>::max()});
    if (next != idle_by_deadline_.end()) due(next->first);
  }
  return up;
}

std::vector<WorkerId> PoolState::RetireAllIdle(WallTime now) {
  std::vector<WorkerId> out;
  for (const auto& [used, id] : idle_) out.push_back(id);
  std::sort(out.begin(), out.end());
  for (WorkerId id : out) RetireIdle(workers_.find(id), now);
  return out;
}

std::optional<std::pair<WorkerId, WallTime>> PoolState::OldestIdle() const {
  if (idle_.empty()) return std::nullopt;
  return std::make_pair(idle_.begin()->second, idle_.begin()->first);
}

bool PoolState::Retire(WorkerId worker, WallTime now) {
  auto it = workers_.find(worker);
  if (it == workers_.end() || it->second.state != WorkerState::kIdle) return false;
  RetireIdle(it, now);
  return true;
}

std::vector<std::pair<WorkerId, WallTime>> PoolState::Evictable() const {
  // The floor keeps the most recently used ones, as Tick does.
  size_t spare = static_cast<size_t>(std::max(0, workers() - Floor()));
  std::vector<std::pair<WorkerId, WallTime>> idle;
  for (auto k = idle_.begin(); k != idle_.end() && idle.size() < spare; ++k) {
    idle.emplace_back(k->second, k->first);
  }
  return idle;
}

void PoolState::SetAffinity(WorkerId worker, uintptr_t affinity) {
  auto it = workers_.find(worker);
  if (it == workers_.end() || it->second.affinity == affinity) return;
  bool idle = it->second.state == WorkerState::kIdle;
  if (idle) Unindex(it);
  it->second.affinity = affinity;
  if (idle) Index(it);
}

}  // namespace thaw::fleet
