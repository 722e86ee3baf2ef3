#include "fleet/pool_state.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace thaw::fleet {

namespace {
std::shared_ptr<const KeepAlivePolicy> PolicyOf(const PoolConfig& c) {
  if (c.policy) return c.policy;
  return std::make_shared<FixedKeepAlive>(c.keep_alive);
}
}  // namespace

PoolState::PoolState(PoolConfig config)
    : config_(std::move(config)),
      history_((config_.policy = PolicyOf(config_))->NewHistory()),
      window_(config_.policy->Decide(history_)) {}

double PoolState::Frequency(WallTime now) const {
  double age_s = std::chrono::duration<double>(now - frequency_at_).count();
  double half_life_s = std::chrono::duration<double>(kFrequencyHalfLife).count();
  // A decayed count with half-life h has a steady state of rate × h / ln 2.
  return frequency_ * std::exp2(-std::max(0.0, age_s) / half_life_s) * std::log(2.0) / half_life_s;
}

WallTime PoolState::Deadline(const Worker& w, bool newest) const {
  if (w.prewarmed) return (idle_since_ ? *idle_since_ : w.last_used) + window_.keep_alive;
  // With a pre-warm window the workers are unloaded as soon as the endpoint is idle (nothing in
  // flight): a pre-warm brings one back before the predicted next request. While other requests
  // are still running, a released worker may serve the next of them.
  if (window_.prewarm_after.count() > 0 && idle_since_) return *idle_since_;
  return w.last_used + (newest ? window_.keep_alive : window_.extra_keep_alive);
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
  (w.prewarmed ? idle_prewarmed_ : idle_plain_).insert(key);
  idle_by_affinity_[w.affinity].insert(key);
}

void PoolState::Unindex(WorkerMap::iterator it) {
  const Worker& w = it->second;
  IdleKey key{w.last_used, it->first};
  // By key in both: EndIdle may have cleared `prewarmed` of a worker still in the index.
  idle_plain_.erase(key);
  idle_prewarmed_.erase(key);
  auto a = idle_by_affinity_.find(w.affinity);
  if (a == idle_by_affinity_.end()) return;
  a->second.erase(key);
  if (a->second.empty()) idle_by_affinity_.erase(a);
}

WorkerId PoolState::MostRecent(const IdleSet& s) {
  // Worker ids start at 1: {t, 0} sorts before every entry used at t.
  return s.lower_bound({std::prev(s.end())->first, 0})->second;
}

std::optional<PoolState::IdleKey> PoolState::NewestIdle() const {
  std::optional<IdleKey> newest;
  for (const IdleSet* s : {&idle_plain_, &idle_prewarmed_}) {
    if (!s->empty() && (!newest || *std::prev(s->end()) > *newest)) newest = *std::prev(s->end());
  }
  return newest;
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
  if (in_flight_ == 0 && idle_since_) {
    history_.Record(now - *idle_since_);  // an idle period of the endpoint ends
    idle_since_.reset();
  }
  ++in_flight_;
  busy_peak_ = std::max(busy_peak_, in_flight_);
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
  } else if (auto newest = NewestIdle()) {
    const IdleSet& s = idle_plain_.count(*newest) ? idle_plain_ : idle_prewarmed_;
    pick = MostRecent(s);
    // The other set may hold an entry of the same last_used with a lower id.
    const IdleSet& other = &s == &idle_plain_ ? idle_prewarmed_ : idle_plain_;
    if (auto o = other.lower_bound({newest->first, 0});
        o != other.end() && o->first == newest->first) {
      pick = std::min(*pick, o->second);
    }
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
  workers_[id] = {WorkerState::kStarting, now, 0, prewarm, from_template};
  if (from_template) {
    ++template_.workers;
    template_.last_used = std::max(template_.last_used, now);
  }
  if (prewarm) ++stats_.prewarms;
  ++counts_[static_cast<int>(WorkerState::kStarting)];
  return id;
}

std::optional<Assignment> PoolState::ServeWaiterOrIdle(WorkerId worker, WallTime now) {
  auto it = workers_.find(worker);
  if (it == workers_.end()) return std::nullopt;
  it->second.last_used = now;
  if (waiters_.empty()) {
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
  if (auto it = workers_.find(worker); it != workers_.end() && !it->second.from_template) {
    template_.wanted = true;
  }
  return ServeWaiterOrIdle(worker, now);
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
  if (--in_flight_ == 0) {
    // An idle period of the endpoint begins: the policy sets its windows from the history.
    idle_since_ = now;
    window_ = config_.policy->Decide(history_);
    prewarm_done_ = false;
    last_peak_ = std::max(1, busy_peak_);
    busy_peak_ = 0;
  }
  return ServeWaiterOrIdle(worker, now);
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
  // Oldest first: they expire first, and the newest are the ones the floor keeps. Within each
  // set the deadlines never decrease with last_used (Deadline: a pre-warmed worker's counts
  // from the idle start or its last use; a plain one's is the idle start, or its last use plus
  // extra_keep_alive, plus keep_alive >= extra_keep_alive for the newest), so each walk stops
  // at its first worker not yet due: that one's deadline is the set's next check.
  std::optional<IdleKey> newest = NewestIdle();
  bool monotonic = window_.extra_keep_alive <= window_.keep_alive;
  for (IdleSet* set : {&idle_prewarmed_, &idle_plain_}) {
    for (auto k = set->begin(); k != set->end() && workers() > keep_floor;) {
      auto it = workers_.find(k->second);
      WallTime deadline = Deadline(it->second, newest && *k == *newest);
      ++k;  // RetireIdle erases the current entry
      if (deadline <= now) {
        up.retire.push_back(it->first);
        RetireIdle(it, now);
        continue;
      }
      due(deadline);
      if (monotonic) break;
    }
  }
  up.start = std::max(0, keep_floor - workers());
  if (template_.state == TemplateState::kReady && template_.workers == 0) {
    WallTime at = template_.last_used + window_.keep_alive;
    if (at <= now) {
      up.retire_template = true;
      OnTemplateGone();
    } else {
      due(at);
    }
  }
  if (idle_since_ && !prewarm_done_ && window_.prewarm_after.count() > 0) {
    WallTime at = *idle_since_ + window_.prewarm_after;
    if (workers() + up.start > 0 || now >= *idle_since_ + window_.keep_alive) {
      prewarm_done_ = true;  // a worker is there anyway, or the window has passed
    } else if (now >= at) {
      up.prewarm = std::min(last_peak_, Cap());
      prewarm_done_ = true;
    } else {
      due(at);
    }
  }
  return up;
}

std::vector<WorkerId> PoolState::RetireAllIdle(WallTime now) {
  std::vector<WorkerId> out;
  for (const IdleSet* s : {&idle_plain_, &idle_prewarmed_}) {
    for (const auto& [used, id] : *s) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  for (WorkerId id : out) RetireIdle(workers_.find(id), now);
  return out;
}

std::optional<std::pair<WorkerId, WallTime>> PoolState::OldestIdle() const {
  std::optional<IdleKey> oldest;
  for (const IdleSet* s : {&idle_plain_, &idle_prewarmed_}) {
    if (!s->empty() && (!oldest || *s->begin() < *oldest)) oldest = *s->begin();
  }
  if (!oldest) return std::nullopt;
  return std::make_pair(oldest->second, oldest->first);
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
  std::vector<IdleKey> merged;
  std::merge(idle_plain_.begin(), idle_plain_.end(), idle_prewarmed_.begin(), idle_prewarmed_.end(),
             std::back_inserter(merged));
  if (merged.size() > spare) merged.resize(spare);
  std::vector<std::pair<WorkerId, WallTime>> idle;
  idle.reserve(merged.size());
  for (const auto& [used, id] : merged) idle.emplace_back(id, used);
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
