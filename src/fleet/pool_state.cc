#include "fleet/pool_state.h"

#include <algorithm>

namespace thaw::fleet {

void PoolState::SetState(Worker& w, WorkerState s) {
  --counts_[static_cast<int>(w.state)];
  ++counts_[static_cast<int>(s)];
  w.state = s;
}

void PoolState::Erase(std::map<WorkerId, Worker>::iterator it) {
  --counts_[static_cast<int>(it->second.state)];
  workers_.erase(it);
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
  // Most recently used idle worker first: its caches are warmest, and the others age out. One
  // of the caller's shard wins over a more recent one elsewhere: using it costs no re-registration
  // of its socket with another reactor.
  auto best = workers_.end();
  auto best_local = workers_.end();
  if (Count(WorkerState::kIdle) > 0) {
    for (auto it = workers_.begin(); it != workers_.end(); ++it) {
      if (it->second.state != WorkerState::kIdle) continue;
      if (best == workers_.end() || it->second.last_used > best->second.last_used) best = it;
      if (it->second.affinity == affinity &&
          (best_local == workers_.end() || it->second.last_used > best_local->second.last_used)) {
        best_local = it;
      }
    }
  }
  if (best_local != workers_.end()) best = best_local;
  if (best != workers_.end()) {
    SetState(best->second, WorkerState::kBusy);
    best->second.last_used = now;
    best->second.affinity = affinity;
    return {Admission::kRunOn, best->first};
  }
  waiters_.push_back(request);
  return {Admission::kWait, 0, StartsNeeded() > 0};
}

WorkerId PoolState::StartWorker(WallTime now) {
  WorkerId id = next_worker_++;
  workers_[id] = {WorkerState::kStarting, now};
  ++counts_[static_cast<int>(WorkerState::kStarting)];
  return id;
}

std::optional<Assignment> PoolState::ServeWaiterOrIdle(WorkerId worker, WallTime now) {
  auto it = workers_.find(worker);
  if (it == workers_.end()) return std::nullopt;
  it->second.last_used = now;
  if (waiters_.empty()) {
    SetState(it->second, WorkerState::kIdle);
    return std::nullopt;
  }
  SetState(it->second, WorkerState::kBusy);
  RequestId r = waiters_.front();
  waiters_.pop_front();
  return Assignment{r, worker};
}

std::optional<Assignment> PoolState::OnWorkerReady(WorkerId worker, WallTime now) {
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
  --in_flight_;
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
  std::vector<std::pair<WallTime, WorkerId>> idle;
  for (const auto& [id, w] : workers_) {
    if (w.state == WorkerState::kIdle) idle.emplace_back(w.last_used, id);
  }
  // Oldest first: they expire first, and the newest are the ones the floor keeps.
  std::sort(idle.begin(), idle.end());
  int keep_floor = Floor();
  int remaining = workers();
  for (const auto& [last_used, id] : idle) {
    if (remaining <= keep_floor) break;
    if (last_used + config_.keep_alive <= now) {
      up.retire.push_back(id);
      Erase(workers_.find(id));
      --remaining;
    } else if (!up.next_check || last_used + config_.keep_alive < *up.next_check) {
      up.next_check = last_used + config_.keep_alive;
    }
  }
  up.start = std::max(0, keep_floor - workers());
  return up;
}

std::vector<WorkerId> PoolState::RetireAllIdle() {
  std::vector<WorkerId> out;
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->second.state == WorkerState::kIdle) {
      out.push_back(it->first);
      --counts_[static_cast<int>(WorkerState::kIdle)];
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::optional<std::pair<WorkerId, WallTime>> PoolState::OldestIdle() const {
  std::optional<std::pair<WorkerId, WallTime>> best;
  for (const auto& [id, w] : workers_) {
    if (w.state == WorkerState::kIdle && (!best || w.last_used < best->second)) {
      best = std::make_pair(id, w.last_used);
    }
  }
  return best;
}

bool PoolState::Retire(WorkerId worker) {
  auto it = workers_.find(worker);
  if (it == workers_.end() || it->second.state != WorkerState::kIdle) return false;
  Erase(it);
  return true;
}

std::vector<std::pair<WorkerId, WallTime>> PoolState::Evictable() const {
  std::vector<std::pair<WorkerId, WallTime>> idle;
  for (const auto& [id, w] : workers_) {
    if (w.state == WorkerState::kIdle) idle.emplace_back(id, w.last_used);
  }
  std::sort(idle.begin(), idle.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  // The floor keeps the most recently used ones, as Tick does.
  size_t spare = static_cast<size_t>(std::max(0, workers() - Floor()));
  if (idle.size() > spare) idle.resize(spare);
  return idle;
}

void PoolState::SetAffinity(WorkerId worker, uintptr_t affinity) {
  if (auto it = workers_.find(worker); it != workers_.end()) it->second.affinity = affinity;
}

}  // namespace thaw::fleet
