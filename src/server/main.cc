// thaw: a self-hosted serverless inference server. `main` reads the options, constructs every
// module, wires them, runs until SIGTERM/SIGINT, and shuts down in order:
//   stop accepting → finish in-flight requests → stop deploy jobs → close the database → exit 0.

#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "api/api.h"
#include "api/http_server.h"
#include "artifacts/model_cache.h"
#include "artifacts/s3_fetcher.h"
#include "auth/client_signing.h"
#include "auth/credentials.h"
#include "cli/cli.h"
#include "common/logging.h"
#include "control/control_plane.h"
#include "control/serving.h"
#include "fleet/fleet.h"
#include "logs/log_service.h"
#include "metrics/metrics_service.h"
#include "s3/object_store.h"
#include "sandbox/zygote.h"
#include "server/metrics_wiring.h"
#include "server/options.h"
#include "sim/simulate_cmd.h"
#include "store/store.h"
#include "worker/custom_container.h"
#include "worker/python_runtime.h"
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
  w.sandboxed = g_sandboxed;
  w.worker_id = spec.worker_id;
  w.on_first_invocation = &sandbox::NotifyColdStartDone;
  w.as_template = spec.as_template;
  w.serve_forks = [](int server_fd, std::string* child_worker_id) {
    sandbox::ForkHooks hooks;
    hooks.before = &worker::PythonBeforeFork;
    hooks.parent = &worker::PythonAfterForkParent;
    hooks.child = &worker::PythonAfterForkChild;
    hooks.spare = &worker::PythonWarmUpSpare;
    return sandbox::ServeForks(server_fd, hooks, child_worker_id);
  };
  return worker::RunWorker(fd, w);
}

// Routes each runtime to its zygote: scikit-learn workers come from the zygote that holds the
// Python interpreter (which may still be starting: Spawn waits for it), the others from the
// plain one.
class ZygoteLauncher final : public fleet::Launcher {
 public:
  ZygoteLauncher(sandbox::Zygote& zygote, sandbox::Zygote& python, logs::LogService& logs)
      : zygote_(zygote), python_(python), logs_(logs) {}
  Result<fleet::LaunchedWorker> Launch(const fleet::LaunchSpec& spec) override {
    sandbox::SpawnSpec s{spec.worker_id, spec.runtime, spec.model_dir,
                         spec.memory_mb, spec.env,     {}};
    s.capture_output = !spec.log_stream.empty();  // the worker's stdout/stderr → its stream
    s.as_template = spec.as_template;
    constexpr std::string_view kCustom = worker::kCustomRuntimePrefix;
    if (g_sandboxed && spec.runtime.rfind(kCustom, 0) == 0) {
      // The container's directory is bound at /opt/ml/program: its program runs from there.
      fs::path program = spec.runtime.substr(kCustom.size());
      s.program_dir = program.parent_path();
      s.runtime = std::string(kCustom) +
                  (fs::path(sandbox::kProgramMountPoint) / program.filename()).native();
    }
    sandbox::Zygote& z = spec.runtime == "sklearn" ? python_ : zygote_;
    auto w = z.Spawn(s);
    if (!w.ok()) {
      if (&z == &python_) {
        return Status(w.status().code(),
                      "the scikit-learn runtime is unavailable: " + w.status().message());
      }
      return w.status();
    }
    if (w->log_fd >= 0) logs_.Attach(spec.endpoint, spec.log_stream, w->log_fd);
    return fleet::LaunchedWorker{w->fd, w->pid};
  }
  Result<fleet::LaunchedWorker> LaunchFrom(pid_t template_pid,
                                           const fleet::LaunchSpec& spec) override {
    if (spec.runtime != "sklearn") return NotFound("only scikit-learn endpoints have templates");
    sandbox::SpawnSpec s;
    s.worker_id = spec.worker_id;
    s.runtime = spec.runtime;
    s.memory_mb = spec.memory_mb;
    s.capture_output = !spec.log_stream.empty();
    auto w = python_.SpawnFrom(template_pid, s);
    if (!w.ok()) return w.status();
    if (w->log_fd >= 0) logs_.Attach(spec.endpoint, spec.log_stream, w->log_fd);
    return fleet::LaunchedWorker{w->fd, w->pid};
  }
  void Note(const std::string& endpoint, const std::string& log_stream, std::string line) override {
    logs_.Append(endpoint, log_stream, std::move(line));
  }
  // A zygote kills only the pids it spawned and has not reaped, so asking both is safe.
  void Kill(pid_t pid) override {
    zygote_.Kill(pid);
    python_.Kill(pid);
  }
  void Stop(pid_t pid, std::chrono::milliseconds grace) override {
    zygote_.Stop(pid, grace);
    python_.Stop(pid, grace);
  }

 private:
  sandbox::Zygote& zygote_;
  sandbox::Zygote& python_;
  logs::LogService& logs_;
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

// The fetcher for --s3-endpoint, with credentials and region found the way AWS clients find
// them (the only place the server reads AWS_* variables and ~/.aws).
Result<std::shared_ptr<const artifacts::S3Fetcher>> MakeRemoteS3(const ServeOptions& opts,
                                                                 const Clock& clock) {
  auto endpoint = artifacts::ParseS3Endpoint(opts.s3_endpoint);
  if (!endpoint.ok()) return endpoint.status();
  const auth::EnvLookup env = auth::ProcessEnv();
  auto credential = auth::FindCredentials(env, opts.s3_profile);
  if (!credential.ok()) return InvalidArgument("--s3-endpoint: " + credential.status().message());
  if (!credential->has_value()) {
    return InvalidArgument(
        "--s3-endpoint needs AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
        "or put the profile " +
        (opts.s3_profile.empty() ? std::string("AWS_PROFILE (or [default])") : opts.s3_profile) +
        " in ~/.aws/credentials");
  }
  artifacts::S3FetcherOptions fetch;
  fetch.endpoint = *std::move(endpoint);
  fetch.credential = **std::move(credential);
  fetch.region = auth::FindRegion(env, opts.s3_profile);
  Logger("server")->info("s3:// URLs are fetched from {} (region {}, access key {} from {})",
                         fetch.endpoint.url, fetch.region, fetch.credential.access_key,
                         fetch.credential.profile);
  return std::shared_ptr<const artifacts::S3Fetcher>(
      std::make_shared<artifacts::S3Fetcher>(std::move(fetch), clock));
}

int Serve(const ServeOptions& opts) {
  auto log = Logger("server");
  std::string host;
  uint16_t port = 0;
  if (!SplitHostPort(opts.listen, host, port)) {
    log->error("--listen must be HOST:PORT, got \"{}\"", opts.listen);
    return 2;
  }
  if (opts.keep_alive_policy != "adaptive" && opts.keep_alive_policy != "fixed") {
    log->error("--keep-alive-policy must be \"adaptive\" or \"fixed\", got \"{}\"",
               opts.keep_alive_policy);
    return 2;
  }
  if (opts.metrics != "on" && opts.metrics != "off") {
    log->error("--metrics must be \"on\" or \"off\", got \"{}\"", opts.metrics);
    return 2;
  }
  if (opts.sklearn_templates != "on" && opts.sklearn_templates != "off") {
    log->error("--sklearn-templates must be \"on\" or \"off\", got \"{}\"", opts.sklearn_templates);
    return 2;
  }
  if (opts.sandbox != "on" && opts.sandbox != "unsafe-off") {
    log->error("--sandbox must be \"on\" or \"unsafe-off\", got \"{}\"", opts.sandbox);
    return 2;
  }
  // The zygotes fork first, while this process has a single thread. The scikit-learn zygote
  // imports its Python libraries (~0.5 s idle, seconds on a busy machine) in the background:
  // the server does not wait for it, a scikit-learn spawn does.
  sandbox::SandboxOptions sandbox_opts;
  sandbox_opts.enabled = g_sandboxed = opts.sandbox == "on";
  {
    // Workers must not see the data dir (other endpoints' models, the database, the key file):
    // it must exist before the zygote builds its mount template.
    std::error_code hide_ec;
    fs::path dir = fs::weakly_canonical(fs::absolute(opts.data_dir, hide_ec), hide_ec);
    fs::create_directories(dir, hide_ec);
    if (!hide_ec) sandbox_opts.hidden_paths = sandbox::DataDirToHide(dir);
  }
  sandbox::SandboxOptions python_opts = sandbox_opts;
  python_opts.preload = &worker::PreloadPython;
  const auto python_t0 = std::chrono::steady_clock::now();
  auto python_zygote = sandbox::Zygote::Begin(python_opts, &WorkerEntry);
  if (!python_zygote.ok()) {
    log->error("cannot start the scikit-learn zygote: {}", python_zygote.status().message());
    return 1;
  }
  sandbox_opts.prewarm = &worker::PrewarmWorker;
  auto zygote = sandbox::Zygote::Start(sandbox_opts, &WorkerEntry);
  if (!zygote.ok()) {
    log->error("cannot start workers: {}", zygote.status().message());
    return 1;
  }
  if (!sandbox_opts.enabled) {
    log->warn("--sandbox unsafe-off: workers run WITHOUT isolation (development only)");
  }
  log->info("sandbox ready: cgroups {}", (*zygote)->cgroup_mode());
  // Per-endpoint logs (a thread of its own, started after the zygotes have forked).
  SystemClock log_clock;
  logs::LogOptions log_opts;
  log_opts.root = fs::absolute(opts.data_dir) / "logs";
  log_opts.rotate_bytes = opts.log_rotate_mb << 20;
  log_opts.max_group_bytes = opts.log_max_mb << 20;
  log_opts.retention_days = opts.log_retention_days;
  logs::LogService logs(log_opts, log_clock);
  if (Status st = logs.Start(); !st.ok()) {
    log->error("cannot start the endpoint logs: {}", st.message());
    return 1;
  }
  ZygoteLauncher zygote_launcher(**zygote, **python_zygote, logs);
  sandbox::Zygote& zygote_ref = **zygote;
  sandbox::Zygote& python_ref = **python_zygote;
  TrackingLauncher launcher(zygote_launcher,
                            [&zygote_ref, &python_ref](const std::string& worker_id) {
                              int64_t bytes = zygote_ref.MemoryUsage(worker_id);
                              return bytes >= 0 ? bytes : python_ref.MemoryUsage(worker_id);
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
  control::DeployerOptions deployer_opts{data_dir / "s3", nullptr};
  if (!opts.s3_endpoint.empty()) {
    auto fetcher = MakeRemoteS3(opts, clock);
    if (!fetcher.ok()) {
      log->error("{}", fetcher.status().message());
      return 1;
    }
    deployer_opts.remote_s3 = *std::move(fetcher);
  }
  control::Deployer deployer(deployer_opts, cache, clock);
  asio::thread_pool deploy_pool(static_cast<size_t>(opts.deploy_threads));
  asio::thread_pool blocking_pool(static_cast<size_t>(opts.blocking_threads));
  PoolJobRunner jobs(deploy_pool);
  // One single-threaded io_context per I/O shard: a request never changes threads. Shard 0 also
  // runs the accept loop, signals, the fleet tick and background worker starts.
  std::vector<std::unique_ptr<asio::io_context>> shards;
  std::vector<asio::io_context*> shard_ptrs;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> shard_work;
  for (int64_t i = 0; i < opts.io_threads; ++i) {
    shards.push_back(std::make_unique<asio::io_context>(1));
    shard_ptrs.push_back(shards.back().get());
    shard_work.push_back(asio::make_work_guard(*shards.back()));
  }
  asio::io_context& io = *shards[0];
  fleet::Fleet fleet(io, blocking_pool, launcher, clock, opts.memory_budget_mb);
  control::ServingOptions serving_opts;
  serving_opts.keep_alive = std::chrono::seconds(opts.keep_alive);
  serving_opts.adaptive.bin = std::chrono::milliseconds(opts.keep_alive_bin_ms);
  serving_opts.adaptive.fallback_keep_alive = std::chrono::seconds(opts.keep_alive);
  // -1: --keep-alive (0 there means "at once", which AdaptiveParams spells as 1 µs: its 0 is
  // the histogram's range).
  serving_opts.adaptive.standard_keep_alive =
      opts.standard_keep_alive >= 0
          ? fleet::Micros(std::chrono::seconds(opts.standard_keep_alive))
          : std::max(fleet::Micros(1), fleet::Micros(std::chrono::seconds(opts.keep_alive)));
  if (opts.keep_alive_policy == "adaptive") {
    serving_opts.keep_alive_policy =
        std::make_shared<fleet::AdaptiveKeepAlive>(serving_opts.adaptive);
  }
  // A short test bin needs a finer upkeep tick to pre-warm on time.
  fleet.set_tick_interval(std::min<std::chrono::milliseconds>(
      std::chrono::seconds(1),
      std::chrono::milliseconds(std::max<int64_t>(10, opts.keep_alive_bin_ms / 10))));
  serving_opts.invocation_timeout = std::chrono::seconds(opts.invocation_timeout);
  serving_opts.startup_timeout = std::chrono::seconds(opts.startup_timeout);
  serving_opts.stop_grace = std::chrono::seconds(opts.stop_grace);
  serving_opts.sklearn_templates = opts.sklearn_templates == "on";
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
  metrics.set_gauge_source(MakeGaugeSource(fleet, serving));  // thaw/KeepAlive (issue 9)

  const bool metrics_on = opts.metrics == "on";
  if (metrics_on) {
    // Pre-warm starts count as ModelSetupTime, never as an invocation (issue 8).
    fleet.set_setup_sink([&metrics, &clock](const fleet::VariantSpec& spec, int64_t setup_us) {
      metrics::InvocationRecord r;
      r.endpoint = spec.endpoint;
      r.variant = spec.variant;
      r.time = clock.Now();
      r.setup_only = true;
      r.setup_us = setup_us;
      r.memory_mb = spec.memory_mb;
      metrics.Record(r);
    });
  }
  api::Api app(control, fleet, blocking_pool, metrics_on ? &metrics : nullptr);
  s3::ObjectStore s3_store(data_dir / "s3");
  if (Status st = s3_store.Init(); !st.ok()) {
    log->error("cannot prepare the S3 store: {}", st.ToString());
    return 1;
  }
  api::S3Api s3_api(s3_store, blocking_pool, control_opts.identity);
  app.SetS3(&s3_api);
  app.SetLogs(&logs, opts.log_retention_days);
  std::optional<api::AuthGate> gate;
  if (opts.auth == "sigv4") {
    auto keys = auth::LoadOrCreateCredentials(data_dir / "credentials");
    if (!keys.ok()) {
      log->error("cannot load the credentials: {}", keys.status().message());
      return 1;
    }
    if (keys->created) {
      // Once, on the first start: the key pair a client needs.
      std::cout << "thaw: created " << (data_dir / "credentials").string()
                << " with a new key pair; point AWS clients at thaw with:\n  export "
                   "AWS_ACCESS_KEY_ID="
                << keys->keys[0].access_key << " AWS_SECRET_ACCESS_KEY=" << keys->keys[0].secret_key
                << std::endl;
    }
    log->info("auth: SigV4 with {} key(s) from {}", keys->keys.size(),
              (data_dir / "credentials").string());
    std::optional<api::OpenEndpoints> open_endpoints = api::ParseOpenEndpoints(opts.open_endpoints);
    if (!open_endpoints) {
      log->error("--open-endpoints must be \"loopback\", \"any\" or \"none\", got \"{}\"",
                 opts.open_endpoints);
      return 1;
    }
    api::AuthGateOptions gate_options{std::move(keys->keys)};
    gate_options.open_endpoints = *open_endpoints;
    gate.emplace(std::move(gate_options), [] { return std::chrono::system_clock::now(); });
    app.SetAuthGate(&*gate);
  } else if (opts.auth == "none") {
    log->warn("--auth none: requests are NOT authenticated; anyone who reaches {} can use it",
              opts.listen);
  } else {
    log->error("--auth must be \"sigv4\" or \"none\", got \"{}\"", opts.auth);
    return 1;
  }
  fs::path console_dir = opts.console_dir;
  if (console_dir.empty())
    console_dir = fs::read_symlink("/proc/self/exe", ec).parent_path() / "console";
  std::optional<api::StaticFiles> console;
  if (opts.console_dir != "off") {
    console.emplace(console_dir);
    app.SetConsole(&*console);
    if (console->Available()) {
      log->info("console: /console/ on the API port (files in {})", console->root().string());
    } else {
      log->warn("console: no index.html in {}: /console/ answers 503 until it is built",
                console->root().string());
    }
  }
  api::HttpServerOptions http_opts;
  http_opts.host = host;
  http_opts.port = port;
  http_opts.body_limit = static_cast<uint64_t>(opts.max_request_bytes);
  http_opts.on_body_too_large = &api::BodyTooLarge;
  http_opts.max_connections = static_cast<size_t>(opts.max_connections);
  http_opts.max_connections_per_client = static_cast<size_t>(opts.max_connections_per_client);
  http_opts.header_count_limit = static_cast<uint32_t>(opts.max_header_count);
  http_opts.url_limit = static_cast<uint32_t>(opts.max_url_bytes);
  http_opts.header_timeout = std::chrono::milliseconds(opts.header_timeout_ms);
  http_opts.idle_timeout = std::chrono::milliseconds(opts.idle_timeout_ms);
  http_opts.body_sink_for = [&app](const auto& header) { return app.BodySinkFor(header); };
  api::HttpServer server(
      shard_ptrs, http_opts,
      [&app](api::Request& req, api::RequestContext& ctx) { return app.Handle(req, ctx); });
  if (Status st = server.Listen(); !st.ok()) {
    log->error("cannot listen on {}: {}", opts.listen, st.ToString());
    return 1;
  }
  if (Status st = control.Recover(); !st.ok()) {
    log->error("cannot recover endpoints: {}", st.ToString());
    return 1;
  }

  std::atomic<bool> stopping = false;
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& error, int signo) {
    if (error) return;
    log->info("signal {} received: draining", signo);
    stopping = true;
    (*python_zygote)->CancelStart();
    app.SetReady(false);
    server.Shutdown([&shards, &fleet] {
      fleet.Stop();
      for (auto& shard : shards) shard->stop();
    });
  });

  server.Start();
  fleet.Start();
  if (metrics_on) metrics.Start();
  app.SetReady(true);
  asio::post(blocking_pool, [&log, &python_zygote, &stopping, python_t0] {
    Status st = (*python_zygote)->WaitReady();
    if (stopping) return;  // a start-up cut short by shutdown is not a failure
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - python_t0)
                  .count();
    if (st.ok()) {
      log->info("scikit-learn runtime ready in {} ms", ms);
    } else {
      log->error("the scikit-learn runtime is unavailable: {}", st.message());
    }
  });
  log->info(
      "thaw listening on {}:{} data_dir={} region={} account={} io_threads={} "
      "memory_budget_mb={}",
      host, server.port(), data_dir.string(), opts.region, opts.account_id, opts.io_threads,
      opts.memory_budget_mb);
  if (!opts.port_file.empty()) {
    std::ofstream(opts.port_file) << server.port() << "\n";
  }

  std::vector<std::thread> threads;
  for (size_t i = 1; i < shards.size(); ++i) {
    threads.emplace_back([shard = shards[i].get()] { shard->run(); });
  }
  io.run();
  for (auto& t : threads) t.join();
  shard_work.clear();

  blocking_pool.join();
  deploy_pool.stop();  // queued jobs resume after restart (ControlPlane::Recover)
  deploy_pool.join();
  metrics.Stop();  // the last aggregates reach the database before it closes
  if (metrics.dropped_records() > 0) {
    log->warn("metrics: {} invocation records were dropped (buffer full)",
              metrics.dropped_records());
  }
  (*store)->Close();
  logs.Stop();  // what the workers wrote last reaches its files
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
  thaw::sim::SimulateCommand simulate(app);
  CLI11_PARSE(app, argc, argv);
  if (std::optional<int> code = client.RunParsed()) return *code;
  if (std::optional<int> code = simulate.RunParsed()) return *code;
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
