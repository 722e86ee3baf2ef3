// thaw: a self-hosted serverless inference server. `main` reads the options, constructs every
// module, wires them, runs until SIGTERM/SIGINT, and shuts down in order:
//   stop accepting → finish in-flight requests → stop deploy jobs → close the database → exit 0.

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "api/api.h"
#include "api/http_server.h"
#include "artifacts/model_cache.h"
#include "cli/cli.h"
#include "common/logging.h"
#include "control/control_plane.h"
#include "control/serving.h"
#include "fleet/fleet.h"
#include "metrics/metrics_service.h"
#include "sandbox/zygote.h"
#include "server/metrics_wiring.h"
#include "server/options.h"
#include "store/store.h"
#include "worker/worker.h"

namespace thaw::server {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;

// Set once, before the zygote forks: whether workers see their model at /opt/ml/model (the
// sandbox binds it there) or at its host path (--sandbox unsafe-off).
bool g_sandboxed = true;

int WorkerEntry(int fd, const sandbox::SpawnSpec& spec) {
  worker::WorkerSpec w;
  w.runtime = spec.runtime;
  w.model_dir = g_sandboxed ? "/opt/ml/model" : spec.model_dir.string();
  w.env = spec.env;
  return worker::RunWorker(fd, w);
}

class ZygoteLauncher final : public fleet::Launcher {
 public:
  explicit ZygoteLauncher(sandbox::Zygote& zygote) : zygote_(zygote) {}
  Result<fleet::LaunchedWorker> Launch(const fleet::LaunchSpec& spec) override {
    sandbox::SpawnSpec s{spec.worker_id, spec.runtime, spec.model_dir, spec.memory_mb, spec.env};
    THAW_ASSIGN_OR_RETURN(sandbox::SpawnedWorker w, zygote_.Spawn(s));
    return fleet::LaunchedWorker{w.fd, w.pid};
  }
  void Kill(pid_t pid) override { zygote_.Kill(pid); }

 private:
  sandbox::Zygote& zygote_;
};

class PoolJobRunner final : public control::JobRunner {
 public:
  explicit PoolJobRunner(asio::thread_pool& pool) : pool_(pool) {}
  void Post(std::function<void()> job) override { asio::post(pool_, std::move(job)); }

 private:
  asio::thread_pool& pool_;
};

void AddOptions(CLI::App& app, ServeOptions& opts) {
  for (const OptionSpec& spec : ServeOptionTable()) {
    std::string flag = std::string("--") + spec.name;
    if (auto* s = std::get_if<std::string ServeOptions::*>(&spec.field)) {
      app.add_option(flag, opts.*(*s), spec.help)->capture_default_str();
    } else {
      auto member = std::get<int64_t ServeOptions::*>(spec.field);
      app.add_option(flag, opts.*member, spec.help)
          ->capture_default_str()
          ->check(CLI::Range(spec.min, spec.max));
    }
  }
}

bool SplitHostPort(const std::string& s, std::string& host, uint16_t& port) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  try {
    int p = std::stoi(s.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    port = static_cast<uint16_t>(p);
  } catch (...) {
    return false;
  }
  return !host.empty();
}

int Serve(const ServeOptions& opts) {
  auto log = Logger("server");
  std::string host;
  uint16_t port = 0;
  if (!SplitHostPort(opts.listen, host, port)) {
    log->error("--listen must be HOST:PORT, got \"{}\"", opts.listen);
    return 2;
  }
  if (opts.metrics != "on" && opts.metrics != "off") {
    log->error("--metrics must be \"on\" or \"off\", got \"{}\"", opts.metrics);
    return 2;
  }
  if (opts.sandbox != "on" && opts.sandbox != "unsafe-off") {
    log->error("--sandbox must be \"on\" or \"unsafe-off\", got \"{}\"", opts.sandbox);
    return 2;
  }
  // The zygote forks first, while this process has a single thread.
  sandbox::SandboxOptions sandbox_opts;
  sandbox_opts.enabled = g_sandboxed = opts.sandbox == "on";
  auto zygote = sandbox::Zygote::Start(sandbox_opts, &WorkerEntry);
  if (!zygote.ok()) {
    log->error("cannot start workers: {}", zygote.status().message());
    return 1;
  }
  if (!sandbox_opts.enabled) {
    log->warn("--sandbox unsafe-off: workers run WITHOUT isolation (development only)");
  }
  log->info("sandbox ready: cgroups {}", (*zygote)->cgroup_mode());
  ZygoteLauncher zygote_launcher(**zygote);
  sandbox::Zygote& zygote_ref = **zygote;
  TrackingLauncher launcher(zygote_launcher, [&zygote_ref](const std::string& worker_id) {
    return zygote_ref.MemoryUsage(worker_id);
  });

  std::error_code ec;
  fs::path data_dir = fs::absolute(opts.data_dir, ec);
  fs::create_directories(data_dir / "s3", ec);
  fs::create_directories(data_dir / "cache" / "models", ec);
  if (ec) {
    log->error("cannot create data dir {}: {}", data_dir.string(), ec.message());
    return 1;
  }

  auto store = store::Store::Open(data_dir / "thaw.db");
  if (!store.ok()) {
    log->error("cannot open database: {}", store.status().ToString());
    return 1;
  }
  SystemClock clock;
  artifacts::ModelCache cache(
      data_dir / "cache" / "models",
      artifacts::ExtractLimits{static_cast<uint64_t>(opts.max_model_bytes)});
  if (Status st = cache.RemoveLeftovers(); !st.ok()) log->warn("model cache: {}", st.ToString());
  control::Deployer deployer({data_dir / "s3"}, cache, clock);
  asio::thread_pool deploy_pool(static_cast<size_t>(opts.deploy_threads));
  asio::thread_pool blocking_pool(static_cast<size_t>(opts.blocking_threads));
  PoolJobRunner jobs(deploy_pool);
  asio::io_context io(static_cast<int>(opts.io_threads));
  fleet::Fleet fleet(io, blocking_pool, launcher, clock);
  control::ServingOptions serving_opts;
  serving_opts.keep_alive = std::chrono::seconds(opts.keep_alive);
  serving_opts.invocation_timeout = std::chrono::seconds(opts.invocation_timeout);
  serving_opts.startup_timeout = std::chrono::seconds(opts.startup_timeout);
  control::FleetServing fleet_serving(fleet, serving_opts);
  TrackingServing serving(fleet_serving);
  control::ControlOptions control_opts;
  control_opts.identity = {opts.region, opts.account_id};
  control_opts.max_endpoints = static_cast<size_t>(opts.max_endpoints);
  control_opts.max_total_concurrency = opts.max_total_concurrency;
  control::ControlPlane control(**store, clock, deployer, serving, jobs, control_opts);

  metrics::MetricsOptions metrics_opts;
  metrics_opts.retention_days = opts.metrics_retention_days;
  metrics_opts.flush_interval = std::chrono::seconds(opts.metrics_flush_seconds);
  metrics::MetricsService metrics(**store, clock, metrics_opts,
                                  MakeSampleSource(fleet, serving, launcher));

  const bool metrics_on = opts.metrics == "on";
  api::Api app(control, fleet, blocking_pool, metrics_on ? &metrics : nullptr);
  api::HttpServerOptions http_opts;
  http_opts.host = host;
  http_opts.port = port;
  http_opts.body_limit = static_cast<uint64_t>(opts.max_request_bytes);
  http_opts.on_body_too_large = &api::BodyTooLarge;
  api::HttpServer server(io, http_opts, [&app](api::Request& req, api::RequestContext& ctx) {
    return app.Handle(req, ctx);
  });
  if (Status st = server.Listen(); !st.ok()) {
    log->error("cannot listen on {}: {}", opts.listen, st.ToString());
    return 1;
  }
  if (Status st = control.Recover(); !st.ok()) {
    log->error("cannot recover endpoints: {}", st.ToString());
    return 1;
  }

  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& error, int signo) {
    if (error) return;
    log->info("signal {} received: draining", signo);
    app.SetReady(false);
    server.Shutdown([&io, &fleet] {
      fleet.Stop();
      io.stop();
    });
  });

  server.Start();
  fleet.Start();
  if (metrics_on) metrics.Start();
  app.SetReady(true);
  log->info("thaw listening on {}:{} data_dir={} region={} account={}", host, server.port(),
            data_dir.string(), opts.region, opts.account_id);
  if (!opts.port_file.empty()) {
    std::ofstream(opts.port_file) << server.port() << "\n";
  }

  std::vector<std::thread> threads;
  for (int64_t i = 1; i < opts.io_threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();

  blocking_pool.join();
  deploy_pool.stop();  // queued jobs resume after restart (ControlPlane::Recover)
  deploy_pool.join();
  metrics.Stop();  // the last aggregates reach the database before it closes
  if (metrics.dropped_records() > 0) {
    log->warn("metrics: {} invocation records were dropped (buffer full)",
              metrics.dropped_records());
  }
  (*store)->Close();
  log->info("thaw stopped cleanly");
  return 0;
}

}  // namespace
}  // namespace thaw::server

int main(int argc, char** argv) {
  using namespace thaw::server;
  CLI::App app{"thaw — serverless inference server, SageMaker-compatible"};
  app.require_subcommand(1);
  ServeOptions opts;
  CLI::App* serve = app.add_subcommand("serve", "run the server");
  AddOptions(*serve, opts);
  CLI::App* version = app.add_subcommand("version", "print the version");
  thaw::cli::ClientCommands client(app);
  CLI11_PARSE(app, argc, argv);
  if (std::optional<int> code = client.RunParsed()) return *code;
  if (version->parsed()) {
    std::cout << "thaw 0.1.0\n";
    return 0;
  }
  if (!thaw::InitLogging(opts.log_level)) {
    std::cerr << "unknown --log-level " << opts.log_level << "\n";
    return 2;
  }
  return Serve(opts);
}
