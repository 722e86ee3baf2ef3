#pragma once
// A custom container: any program that serves the SageMaker container contract (GET /ping,
// POST /invocations on 127.0.0.1:SAGEMAKER_BIND_TO_PORT), run the way SageMaker runs an image —
// `program serve`, the model at /opt/ml/model, the model's Environment.
//
// The worker process is the container's init: pid 1 of the sandbox's PID namespace. It starts the
// program, reaps every process that ends up reparented to it, forwards SIGTERM/SIGINT/SIGHUP, waits
// until the program answers /ping, and then bridges the thaw server's socket to the program's
// port, one HTTP/1.1 exchange at a time (the server sends one request per worker at a time). It
// exits when the program does (the server sees EOF and replaces the worker) and, when the server
// closes its socket (retirement), stops the program with SIGTERM and waits for it: the platform
// SIGKILLs the init (and so the whole sandbox) after the server's --stop-grace (the zygote keeps
// that deadline, fleet/stop_policy.h), so the grace has one owner.

#include <chrono>
#include <string>
#include <vector>

namespace thaw::worker {

// WorkerSpec::runtime of a custom container: this prefix, then the program's path.
inline constexpr char kCustomRuntimePrefix[] = "custom:";

struct ContainerOptions {
  std::string program;  // absolute path of the executable, as the worker sees it
  std::vector<std::pair<std::string, std::string>> env;  // the model's Environment
  // The port the program must listen on: 8080 in a sandbox (each worker has its own network
  // namespace); 0 = pick a free loopback port (unsandboxed development mode, where workers share
  // the host's network).
  int port = 8080;
  std::chrono::milliseconds ping_timeout{2000};  // per readiness ping (§4.1)
  std::chrono::milliseconds startup_timeout{180000};
};

// The ports a container may use besides its serving port (SAGEMAKER_SAFE_PORT_RANGE).
inline constexpr char kSafePortRange[] = "20000-20999";

// The program's environment: `base` ("NAME=value" entries: the worker's own), then the model's
// Environment `env` in order, then SAGEMAKER_BIND_TO_PORT and SAGEMAKER_SAFE_PORT_RANGE as the
// platform sets them; a later definition replaces an earlier one. Pure; exposed for tests.
std::vector<std::string> ContainerEnvironment(
    const std::vector<std::string>& base,
    const std::vector<std::pair<std::string, std::string>>& env, int port);

// Runs the container and bridges `fd` (the server's connection) to it. Returns the exit status.
int RunCustomContainer(int fd, const ContainerOptions& options);

}  // namespace thaw::worker
