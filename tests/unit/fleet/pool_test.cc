#include "fleet/pool.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
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

// Real Pool, real sockets and HTTP, fake processes: the io_context runs on two threads.
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

  std::shared_ptr<Pool> MakePool(int max, int provisioned = 0) {
    VariantSpec spec;
    spec.endpoint = "ep";
    spec.variant = "AllTraffic";
    spec.runtime = "fake";
    spec.pool.max_concurrency = max;
    spec.pool.provisioned = provisioned;
    spec.invocation_timeout = std::chrono::milliseconds(300);
    spec.startup_timeout = std::chrono::milliseconds(2000);
    auto pool = std::make_shared<Pool>(io_, blocking_, launcher_, clock_, spec);
    pools_.push_back(pool);
    return pool;
  }

  std::future<InvokeResult> InvokeAsync(const std::shared_ptr<Pool>& pool, std::string body) {
    auto promise = std::make_shared<std::promise<InvokeResult>>();
    auto fut = promise->get_future();
    asio::co_spawn(
        io_,
        [pool, promise, body]() -> asio::awaitable<void> {
          // Built before the co_await: GCC 12 memcpy-relocates braced temporaries inside a
          // co_await expression, breaking std::string's small-buffer pointer.
          InvokeRequest request{body, "text/csv", std::nullopt, std::nullopt};
          promise->set_value(co_await pool->Invoke(std::move(request)));
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
  EXPECT_GE(launcher_.kills, 1);
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
  EXPECT_EQ(inflight.get().failure, InvokeFailure::kNone);
  EXPECT_TRUE(Eventually([&] { return pool->counts().busy + pool->counts().idle == 0; }));
  EXPECT_EQ(Invoke(pool).failure, InvokeFailure::kDraining);
}

TEST_F(PoolTest, TrialStartLeavesServerlessAtZero) {
  Fleet fleet(io_, blocking_, launcher_, clock_);
  auto pool = MakePool(2);
  auto setup = fleet.TrialStart(pool);
  ASSERT_TRUE(setup.ok()) << setup.status().ToString();
  EXPECT_TRUE(Eventually([&] { return pool->counts().idle == 0 && pool->counts().starting == 0; }));
  launcher_.ping_status = 503;
  auto bad = fleet.TrialStart(MakePool(1));
  EXPECT_FALSE(bad.ok());
  fleet.Activate("ep", pool);
  EXPECT_EQ(fleet.Find("ep"), pool);
  EXPECT_NE(fleet.PrometheusText().find("thaw_workers{endpoint=\"ep\",variant=\"AllTraffic\""),
            std::string::npos);
  fleet.Remove("ep");
  EXPECT_EQ(fleet.Find("ep"), nullptr);
}

}  // namespace
}  // namespace thaw::fleet
