#include "fleet/pool.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <future>

#include "fakes/fake_clock.h"
#include "fakes/fake_launcher.h"
#include "fleet/fleet.h"

namespace thaw::fleet {
namespace {

namespace asio = boost::asio;
using testing::FakeClock;
using testing::FakeLauncher;

// Real Pool, real sockets and HTTP, fake processes: the io_context runs on two threads, and each
// request runs on its own strand (Invoke needs a serial executor, as a connection has).
class PoolTest : public ::testing::Test {
 protected:
  PoolTest() : work_(asio::make_work_guard(io_)) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~PoolTest() override {
    pools_.clear();
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
    blocking_.join();
  }

  VariantSpec Spec(int max, int provisioned = 0, std::string endpoint = "ep",
                   int64_t memory_mb = 2048) {
    VariantSpec spec;
    spec.endpoint = std::move(endpoint);
    spec.memory_mb = memory_mb;
    spec.variant = "AllTraffic";
    spec.runtime = "fake";
    spec.pool.max_concurrency = max;
    spec.pool.provisioned = provisioned;
    spec.invocation_timeout = std::chrono::milliseconds(300);
    spec.startup_timeout = std::chrono::milliseconds(2000);
    return spec;
  }
  std::shared_ptr<Pool> MakePool(int max, int provisioned = 0) {
    auto pool = std::make_shared<Pool>(io_, blocking_, launcher_, clock_, Spec(max, provisioned));
    pools_.push_back(pool);
    return pool;
  }

  std::future<InvokeResult> InvokeAsync(const std::shared_ptr<Pool>& pool, std::string body) {
    return InvokeOn(asio::make_strand(io_), pool, std::move(body));
  }
  template <typename Executor>
  std::future<InvokeResult> InvokeOn(Executor ex, const std::shared_ptr<Pool>& pool,
                                     std::string body) {
    auto promise = std::make_shared<std::promise<InvokeResult>>();
    auto fut = promise->get_future();
    asio::co_spawn(
        ex,
        [pool, promise, body]() -> asio::awaitable<void> {
          // Built before the co_await: GCC 12 memcpy-relocates braced temporaries inside a
          // co_await expression, breaking std::string's small-buffer pointer.
          InvokeRequest request{body, "text/csv", std::nullopt, std::nullopt};
          promise->set_value(co_await pool->Invoke(request));
        },
        asio::detached);
    return fut;
  }
  InvokeResult Invoke(const std::shared_ptr<Pool>& pool, std::string body = "x") {
    return InvokeAsync(pool, std::move(body)).get();
  }

  // Polls a condition the pool reaches asynchronously (worker counts), with a deadline.
  template <typename F>
  bool Eventually(F f) {
    for (int i = 0; i < 400; ++i) {
      if (f()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  asio::thread_pool blocking_{2};
  FakeLauncher launcher_;
  FakeClock clock_;
  std::vector<std::shared_ptr<Pool>> pools_;
};

TEST_F(PoolTest, ColdThenWarm) {
  auto pool = MakePool(5);
  InvokeResult first = Invoke(pool, "1,2");
  ASSERT_EQ(first.failure, InvokeFailure::kNone) << first.message;
  EXPECT_EQ(first.status, 200u);
  EXPECT_EQ(first.body, "echo:1,2");
  EXPECT_TRUE(first.cold_start);
  EXPECT_GT(first.setup_us, 0);
  InvokeResult second = Invoke(pool);
  EXPECT_FALSE(second.cold_start);
  EXPECT_EQ(launcher_.launches, 1);
  EXPECT_EQ(pool->counts().idle, 1);
}

TEST_F(PoolTest, ModelErrorsPassThroughAndKeepTheWorker) {
  auto pool = MakePool(1);
  launcher_.invoke_status = 415;
  InvokeResult r = Invoke(pool);
  EXPECT_EQ(r.failure, InvokeFailure::kNone);
  EXPECT_EQ(r.status, 415u);
  EXPECT_EQ(pool->counts().idle, 1);
}

TEST_F(PoolTest, ConcurrentRequestsBeyondMaxAreThrottled) {
  auto pool = MakePool(2);
  launcher_.delay_ms = 200;
  std::vector<std::future<InvokeResult>> futs;
  for (int i = 0; i < 5; ++i) futs.push_back(InvokeAsync(pool, std::to_string(i)));
  int ok = 0, throttled = 0;
  for (auto& f : futs) {
    InvokeResult r = f.get();
    ok += r.failure == InvokeFailure::kNone;
    throttled += r.failure == InvokeFailure::kThrottled;
  }
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(throttled, 3);
  EXPECT_LE(launcher_.launches, 2);
}

TEST_F(PoolTest, TimeoutKillsTheWorkerAndOnlyThatRequestFails) {
  auto pool = MakePool(1);
  ASSERT_EQ(Invoke(pool).failure, InvokeFailure::kNone);
  launcher_.delay_ms = 1000;  // past the 300 ms invocation timeout
  InvokeResult r = Invoke(pool);
  EXPECT_EQ(r.failure, InvokeFailure::kTimeout);
  EXPECT_GE(launcher_.kills, 1);
  launcher_.delay_ms = 0;
  InvokeResult next = Invoke(pool);
  EXPECT_EQ(next.failure, InvokeFailure::kNone);
  EXPECT_TRUE(next.cold_start);  // a fresh worker replaced the killed one
}

TEST_F(PoolTest, WorkerDyingMidRequestFailsThatRequest) {
  auto pool = MakePool(1);
  launcher_.hang_up = true;
  EXPECT_EQ(Invoke(pool).failure, InvokeFailure::kWorkerDied);
  launcher_.hang_up = false;
  EXPECT_EQ(Invoke(pool).failure, InvokeFailure::kNone);
}

TEST_F(PoolTest, FailedPingFailsTheWaitingRequest) {
  auto pool = MakePool(1);
  launcher_.ping_status = 500;
  InvokeResult r = Invoke(pool);
  EXPECT_EQ(r.failure, InvokeFailure::kStartFailed);
  EXPECT_NE(r.message.find("did not pass the ping health check"), std::string::npos);
  launcher_.fail_launch = true;
  EXPECT_EQ(Invoke(pool).failure, InvokeFailure::kStartFailed);
}

TEST_F(PoolTest, KeepAliveRetiresIdleWorkers) {
  auto pool = MakePool(2);
  ASSERT_EQ(Invoke(pool).failure, InvokeFailure::kNone);
  EXPECT_EQ(pool->counts().idle, 1);
  clock_.Advance(std::chrono::seconds(301));
  pool->Tick();
  EXPECT_TRUE(Eventually([&] { return pool->counts().idle == 0; }));
  // Retirement is graceful: the socket closes (the worker's stop request) and the launcher is
  // asked to SIGKILL only after the grace; nothing is killed now.
  EXPECT_EQ(launcher_.stops, 1);
  EXPECT_EQ(launcher_.last_grace_ms, 30000);
  EXPECT_EQ(launcher_.kills, 0);
}

TEST_F(PoolTest, ZeroStopGraceKillsOnRetirement) {
  VariantSpec spec = Spec(1);
  spec.stop_grace = std::chrono::milliseconds(0);
  auto pool = std::make_shared<Pool>(io_, blocking_, launcher_, clock_, spec);
  pools_.push_back(pool);
  ASSERT_EQ(Invoke(pool).failure, InvokeFailure::kNone);
  clock_.Advance(std::chrono::seconds(301));
  pool->Tick();
  EXPECT_TRUE(Eventually([&] { return pool->counts().idle == 0; }));
  EXPECT_EQ(launcher_.kills, 1);
  EXPECT_EQ(launcher_.stops, 0);
}

TEST_F(PoolTest, TimedOutWorkerIsKilledNotStopped) {
  auto pool = MakePool(1);
  launcher_.delay_ms = 1000;
  EXPECT_EQ(Invoke(pool).failure, InvokeFailure::kTimeout);
  EXPECT_EQ(launcher_.kills, 1);
  EXPECT_EQ(launcher_.stops, 0);
}

TEST_F(PoolTest, ProvisionedFloorStartsOnTick) {
  auto pool = MakePool(3, 2);
  pool->Tick();
  EXPECT_TRUE(Eventually([&] { return pool->counts().idle == 2; }));
  InvokeResult r = Invoke(pool);
  EXPECT_FALSE(r.cold_start);
}

TEST_F(PoolTest, DrainFinishesInFlightThenRetires) {
  auto pool = MakePool(2);
  launcher_.delay_ms = 100;
  auto inflight = InvokeAsync(pool, "a");
  ASSERT_TRUE(Eventually([&] { return pool->counts().busy == 1; }));
  pool->Drain();
  EXPECT_EQ(launcher_.stops, 0);  // the busy worker is not retired under its request
  EXPECT_EQ(inflight.get().failure, InvokeFailure::kNone);
  EXPECT_TRUE(Eventually([&] { return pool->counts().busy + pool->counts().idle == 0; }));
  // Then it is stopped gracefully.
  EXPECT_EQ(launcher_.stops, 1);
  EXPECT_EQ(launcher_.kills, 0);
  EXPECT_EQ(Invoke(pool).failure, InvokeFailure::kDraining);
}

TEST_F(PoolTest, TrialStartLeavesServerlessAtZero) {
  Fleet fleet(io_, blocking_, launcher_, clock_);
  auto pool = MakePool(2);
  auto setup = fleet.TrialStart(pool);
  ASSERT_TRUE(setup.ok()) << setup.status().ToString();
  EXPECT_TRUE(Eventually([&] { return pool->counts().idle == 0 && pool->counts().starting == 0; }));
  EXPECT_EQ(launcher_.stops, 1);  // the trial worker retires gracefully
  EXPECT_EQ(launcher_.kills, 0);
  launcher_.ping_status = 503;
  auto bad = fleet.TrialStart(MakePool(1));
  EXPECT_FALSE(bad.ok());
  fleet.Activate("ep", pool);
  EXPECT_EQ(fleet.Find("ep"), pool);
  EXPECT_NE(fleet.PrometheusText().find("thaw_workers{endpoint=\"ep\",variant=\"AllTraffic\""),
            std::string::npos);
  for (const char* gauge : {"thaw_concurrent_executions", "thaw_max_concurrency",
                            "thaw_provisioned_concurrency", "thaw_memory_size_bytes"}) {
    EXPECT_NE(fleet.PrometheusText().find(std::string(gauge) +
                                          "{endpoint=\"ep\",variant=\"AllTraffic\"}"),
              std::string::npos)
        << gauge;
  }
  fleet.Remove("ep");
  EXPECT_EQ(fleet.Find("ep"), nullptr);
}

// The server's sharded mode: each shard is an io_context run by one thread, and a request runs
// on its connection's shard. A worker used from another shard moves its socket there.
TEST_F(PoolTest, AWorkerServesRequestsFromSeveralSingleThreadedShards) {
  asio::io_context shard_a(1), shard_b(1);
  auto work_a = asio::make_work_guard(shard_a);
  auto work_b = asio::make_work_guard(shard_b);
  std::thread ta([&] { shard_a.run(); });
  std::thread tb([&] { shard_b.run(); });
  auto pool = MakePool(1);
  for (int i = 0; i < 6; ++i) {
    asio::io_context& shard = i % 2 ? shard_b : shard_a;
    InvokeResult r = InvokeOn(shard.get_executor(), pool, std::to_string(i)).get();
    ASSERT_EQ(r.failure, InvokeFailure::kNone) << r.message;
    EXPECT_EQ(r.body, "echo:" + std::to_string(i));
    EXPECT_EQ(r.cold_start, i == 0);
  }
  EXPECT_EQ(launcher_.launches, 1);
  // A timeout on a shard still kills and replaces the worker.
  launcher_.delay_ms = 1000;
  EXPECT_EQ(InvokeOn(shard_b.get_executor(), pool, "slow").get().failure, InvokeFailure::kTimeout);
  launcher_.delay_ms = 0;
  InvokeResult next = InvokeOn(shard_a.get_executor(), pool, "again").get();
  EXPECT_EQ(next.failure, InvokeFailure::kNone);
  EXPECT_TRUE(next.cold_start);
  pools_.clear();
  pool.reset();
  work_a.reset();
  work_b.reset();
  shard_a.stop();
  shard_b.stop();
  ta.join();
  tb.join();
}

// issue 3 §4: budget 3072 MB, two serverless endpoints of 2048 MB each. Invoking B evicts A's
// idle worker; A's next invoke is a cold start again (and evicts B's). Both succeed.
TEST_F(PoolTest, MemoryBudgetEvictsAnotherEndpointsIdleWorker) {
  Fleet fleet(io_, blocking_, launcher_, clock_, 3072);
  auto a = fleet.NewPool(Spec(2, 0, "a"));
  auto b = fleet.NewPool(Spec(2, 0, "b"));
  fleet.Activate("a", a);
  fleet.Activate("b", b);
  InvokeResult ra = Invoke(a);
  ASSERT_EQ(ra.failure, InvokeFailure::kNone) << ra.message;
  EXPECT_EQ(a->counts().idle, 1);
  EXPECT_EQ(fleet.memory().used_mb(), 2048);
  clock_.Advance(std::chrono::seconds(1));
  InvokeResult rb = Invoke(b);
  ASSERT_EQ(rb.failure, InvokeFailure::kNone) << rb.message;
  EXPECT_TRUE(rb.cold_start);
  EXPECT_EQ(a->counts().idle, 0);  // evicted: killed, its memory is needed now
  EXPECT_EQ(launcher_.kills, 1);
  EXPECT_EQ(launcher_.stops, 0);
  EXPECT_EQ(b->counts().idle, 1);
  EXPECT_EQ(fleet.memory().used_mb(), 2048);
  InvokeResult again = Invoke(a);
  ASSERT_EQ(again.failure, InvokeFailure::kNone) << again.message;
  EXPECT_TRUE(again.cold_start);
  EXPECT_EQ(b->counts().idle, 0);
  EXPECT_EQ(launcher_.launches, 3);
  EXPECT_NE(fleet.PrometheusText().find("thaw_memory_reserved_bytes 2147483648"),
            std::string::npos);
}

TEST_F(PoolTest, MemoryBudgetFullOfBusyWorkersFailsTheColdStart) {
  Fleet fleet(io_, blocking_, launcher_, clock_, 3072);
  auto a = fleet.NewPool(Spec(2, 0, "a"));
  auto b = fleet.NewPool(Spec(2, 0, "b"));
  fleet.Activate("a", a);
  fleet.Activate("b", b);
  launcher_.delay_ms = 150;  // within the 300 ms invocation timeout
  auto busy = InvokeAsync(a, "busy");
  ASSERT_TRUE(Eventually([&] { return a->counts().busy == 1; }));
  InvokeResult r = Invoke(b);
  EXPECT_EQ(r.failure, InvokeFailure::kNoMemory);
  EXPECT_NE(r.message.find("Not enough memory"), std::string::npos) << r.message;
  EXPECT_EQ(busy.get().failure, InvokeFailure::kNone);
  launcher_.delay_ms = 0;
  EXPECT_EQ(Invoke(b).failure, InvokeFailure::kNone);  // A is idle now: evicted
  EXPECT_EQ(fleet.memory().used_mb(), 2048);
}

TEST_F(PoolTest, MemoryBudgetNeverEvictsAProvisionedFloor) {
  Fleet fleet(io_, blocking_, launcher_, clock_, 3072);
  auto a = fleet.NewPool(Spec(2, 1, "a"));
  auto b = fleet.NewPool(Spec(2, 0, "b"));
  fleet.Activate("a", a);  // starts the floor
  fleet.Activate("b", b);
  ASSERT_TRUE(Eventually([&] { return a->counts().idle == 1; }));
  EXPECT_EQ(Invoke(b).failure, InvokeFailure::kNoMemory);
  EXPECT_EQ(a->counts().idle, 1);
  // The trial start of a deploy needs room too.
  auto c = fleet.NewPool(Spec(1, 0, "c"));
  auto trial = fleet.TrialStart(c);
  ASSERT_FALSE(trial.ok());
  EXPECT_EQ(trial.status().code(), Code::kResourceLimit);  // the deploy fails with its message
  EXPECT_EQ(fleet.memory().used_mb(), 2048);
}

// The template tier (pool_state.h, TemplateState), with the fake launcher's templates.
class TemplatePoolTest : public PoolTest {
 protected:
  std::shared_ptr<Pool> MakeTemplatePool(Fleet* fleet = nullptr, std::string endpoint = "ep",
                                         int64_t memory_mb = 2048) {
    VariantSpec spec = Spec(4, 0, std::move(endpoint), memory_mb);
    spec.pool.templates = true;
    auto pool = fleet ? fleet->NewPool(spec)
                      : std::make_shared<Pool>(io_, blocking_, launcher_, clock_, spec);
    pools_.push_back(pool);
    return pool;
  }
  void RetireIdleWorkers(const std::shared_ptr<Pool>& pool) {
    clock_.Advance(std::chrono::seconds(301));
    pool->Tick();
    ASSERT_TRUE(Eventually([&] { return pool->counts().idle == 0; }));
  }
};

TEST_F(TemplatePoolTest, FirstColdStartMakesATemplateLaterOnesForkFromIt) {
  auto pool = MakeTemplatePool();
  InvokeResult first = Invoke(pool, "1");
  ASSERT_EQ(first.failure, InvokeFailure::kNone) << first.message;
  EXPECT_TRUE(Eventually([&] { return pool->counts().templates == 1; }));
  EXPECT_EQ(launcher_.template_launches, 1);
  // Its worker retires; the template outlives it (its keep-alive starts now).
  RetireIdleWorkers(pool);
  EXPECT_EQ(pool->counts().templates, 1);
  InvokeResult second = Invoke(pool, "2");
  ASSERT_EQ(second.failure, InvokeFailure::kNone) << second.message;
  EXPECT_TRUE(second.cold_start);
  EXPECT_EQ(second.body, "echo:2");
  EXPECT_EQ(launcher_.forks, 1);
  EXPECT_EQ(launcher_.launches, 1);  // the first start only
  EXPECT_EQ(launcher_.template_launches, 1);
  // The template retires keep-alive after its last worker, gracefully.
  RetireIdleWorkers(pool);
  EXPECT_EQ(pool->counts().templates, 1);
  clock_.Advance(std::chrono::seconds(301));
  pool->Tick();
  EXPECT_EQ(pool->counts().templates, 0);
  EXPECT_EQ(launcher_.LiveTemplates(), 0);
  EXPECT_EQ(launcher_.kills, 0);
}

TEST_F(TemplatePoolTest, DeadTemplateSendsTheColdStartToTheGenericPathThenIsRecreated) {
  auto pool = MakeTemplatePool();
  ASSERT_EQ(Invoke(pool).failure, InvokeFailure::kNone);
  ASSERT_TRUE(Eventually([&] { return pool->counts().templates == 1; }));
  RetireIdleWorkers(pool);
  launcher_.KillTemplates();  // unnoticed until a start asks it for a fork
  InvokeResult r = Invoke(pool, "after");
  ASSERT_EQ(r.failure, InvokeFailure::kNone) << r.message;
  EXPECT_EQ(r.body, "echo:after");
  EXPECT_EQ(launcher_.forks, 0);
  EXPECT_EQ(launcher_.launches, 2);  // the generic path
  EXPECT_TRUE(Eventually([&] { return launcher_.template_launches == 2; }));
  EXPECT_TRUE(Eventually([&] { return pool->counts().templates == 1; }));
  // A death noticed by the tick (EOF on its socket) is forgotten the same way.
  launcher_.KillTemplates();
  pool->Tick();
  EXPECT_EQ(pool->counts().templates, 0);
}

TEST_F(TemplatePoolTest, TemplateRefusedByTheModelIsNotTriedAgain) {
  launcher_.template_line = "error model_fn left 3 threads running\n";
  auto pool = MakeTemplatePool();
  ASSERT_EQ(Invoke(pool).failure, InvokeFailure::kNone);
  ASSERT_TRUE(Eventually([&] { return launcher_.kills == 1; }));  // the refused template
  EXPECT_EQ(pool->counts().templates, 0);
  RetireIdleWorkers(pool);
  ASSERT_EQ(Invoke(pool).failure, InvokeFailure::kNone);
  EXPECT_EQ(launcher_.launches, 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(launcher_.template_launches, 1);
}

TEST_F(TemplatePoolTest, TemplatesNeverEvictAndAreEvictedAfterIdleWorkers) {
  Fleet fleet(io_, blocking_, launcher_, clock_, 4096);
  auto a = MakeTemplatePool(&fleet, "a", 1024);
  VariantSpec big = Spec(2, 0, "b", 3072);
  auto b = fleet.NewPool(big);
  fleet.Activate("a", a);
  fleet.Activate("b", b);
  ASSERT_EQ(Invoke(a).failure, InvokeFailure::kNone);
  ASSERT_TRUE(Eventually([&] { return a->counts().templates == 1; }));
  EXPECT_EQ(fleet.memory().used_mb(), 2048);  // its worker and its template
  clock_.Advance(std::chrono::seconds(1));
  // b needs 3072: one of a's two 1024 MB must go, and it is the idle worker.
  ASSERT_EQ(Invoke(b).failure, InvokeFailure::kNone);
  EXPECT_EQ(a->counts().idle, 0);
  EXPECT_EQ(a->counts().templates, 1);
  EXPECT_EQ(fleet.memory().used_mb(), 4096);
  // b's worker busy: a's cold start needs room, only the template can give it; a's own
  // template is not a candidate for a's start, so the start fails without evicting it.
  launcher_.delay_ms = 200;
  auto busy = InvokeAsync(b, "busy");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  InvokeResult no_room = Invoke(a);
  EXPECT_EQ(no_room.failure, InvokeFailure::kNoMemory);
  EXPECT_EQ(busy.get().failure, InvokeFailure::kNone);
  launcher_.delay_ms = 0;
  // Another endpoint's start evicts b's idle worker before a's template.
  VariantSpec small = Spec(1, 0, "c", 1024);
  auto c = fleet.NewPool(small);
  fleet.Activate("c", c);
  ASSERT_EQ(Invoke(c).failure, InvokeFailure::kNone);
  EXPECT_EQ(b->counts().idle, 0);
  EXPECT_EQ(a->counts().templates, 1);
  // And when only templates are left, the template goes.
  VariantSpec huge = Spec(1, 0, "d", 4096);
  auto d = fleet.NewPool(huge);
  fleet.Activate("d", d);
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_EQ(Invoke(d).failure, InvokeFailure::kNone);
  EXPECT_EQ(a->counts().templates, 0);
  EXPECT_NE(fleet.PrometheusText().find("state=\"template\"} 0"), std::string::npos);
}

}  // namespace
}  // namespace thaw::fleet
