#pragma once
// The client side of the `thaw` binary: `thaw deploy`, `thaw invoke`, `thaw endpoints`. They talk
// HTTP to a thaw server (or anything speaking the SageMaker APIs) and never link control/.
//
//   thaw::cli::ClientCommands client(app);  // before app.parse
//   CLI11_PARSE(app, argc, argv);
//   if (std::optional<int> code = client.RunParsed()) return *code;

#include <chrono>
#include <optional>

#include "cli/options.h"

namespace CLI {
class App;
}

namespace thaw::cli {

// Adds the client subcommands (deploy, invoke, endpoints) to `app`. After app.parse, RunParsed
// returns the exit code of the command that was parsed, or std::nullopt when none of them was.
// The subcommands write into this object, so it must outlive the parse (hence not movable).
class ClientCommands {
 public:
  explicit ClientCommands(CLI::App& app);
  ClientCommands(const ClientCommands&) = delete;
  ClientCommands& operator=(const ClientCommands&) = delete;

  // Runs the parsed command with std::cin/std::cout/std::cerr. Exit codes: 0 success, 1 the
  // command failed (server error, Failed endpoint, …), 2 a bad --endpoint-url.
  std::optional<int> RunParsed();

  // Tests make deploy's DescribeEndpoint polling fast with this.
  void set_poll_interval(std::chrono::milliseconds interval) { poll_interval_ = interval; }
  const ClientOptions& options() const { return options_; }

 private:
  ClientOptions options_;
  CLI::App* deploy_ = nullptr;
  CLI::App* invoke_ = nullptr;
  CLI::App* endpoints_ = nullptr;
  CLI::App* cost_ = nullptr;
  CLI::App* logs_ = nullptr;
  std::chrono::milliseconds poll_interval_{200};
};

}  // namespace thaw::cli
