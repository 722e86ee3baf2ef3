// floor_server: the machine's limit for "HTTP in, XGBoost CSV prediction out".
//
//   floor_server --port-file FILE --model MODEL_FILE [--threads 2] [--method inplace|dmatrix]
//
// A minimal Boost.Beast HTTP/1.1 keep-alive server on 127.0.0.1 (an ephemeral port, written to
// FILE): N threads run one io_context, each connection is a coroutine, and each thread predicts
// in-process with its own booster (nthread=1). POST (any path) with a CSV body answers the
// predictions, one per line, as text/csv; GET /ping answers 200. No routing, no sandbox, no
// second process: whatever thaw spends beyond this is its overhead.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "xgb_floor.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

struct Config {
  std::string model;
  std::string port_file;
  int threads = 2;
  floorbench::Method method = floorbench::Method::kInplace;
};

Config g_config;

// One booster per thread: XGBoost's predict buffers live in the booster. Never freed: at thread
// exit libxgboost's own thread-local state may already be gone, and XGBoosterFree then crashes.
floorbench::Predictor& ThreadPredictor() {
  thread_local floorbench::Predictor* predictor = new floorbench::Predictor(g_config.model);
  return *predictor;
}

http::response<http::string_body> Handle(const http::request<http::string_body>& req) {
  http::response<http::string_body> res{http::status::ok, req.version()};
  res.keep_alive(req.keep_alive());
  if (req.method() == http::verb::post) {
    thread_local floorbench::Matrix m;
    if (!floorbench::ParseCsv(req.body(), &m)) {
      res.result(http::status::unsupported_media_type);
      res.body() = "bad csv\n";
    } else {
      const float* preds = ThreadPredictor().Predict(m, g_config.method);
      res.set(http::field::content_type, "text/csv");
      res.body().reserve(m.rows * 22);
      floorbench::AppendPredictions(preds, m.rows, &res.body());
    }
  }
  res.prepare_payload();
  return res;
}

asio::awaitable<void> Session(tcp::socket socket) {
  socket.set_option(tcp::no_delay(true));
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    boost::system::error_code ec;
    co_await http::async_read(socket, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    auto res = Handle(req);
    co_await http::async_write(socket, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !res.keep_alive()) co_return;
  }
}

asio::awaitable<void> Listen(tcp::acceptor& acceptor) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    auto ex = socket.get_executor();
    asio::co_spawn(ex, Session(std::move(socket)), asio::detached);
  }
}

Config ParseArgs(int argc, char** argv) {
  Config c;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--model"))
      c.model = argv[i + 1];
    else if (!std::strcmp(argv[i], "--port-file"))
      c.port_file = argv[i + 1];
    else if (!std::strcmp(argv[i], "--threads"))
      c.threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--method"))
      c.method = floorbench::ParseMethod(argv[i + 1]);
    else
      throw std::runtime_error(std::string("unknown option ") + argv[i]);
  }
  if (c.model.empty() || c.port_file.empty() || c.threads < 1) {
    throw std::runtime_error(
        "usage: floor_server --port-file FILE --model MODEL_FILE [--threads N] "
        "[--method inplace|dmatrix]");
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    g_config = ParseArgs(argc, argv);
    floorbench::PinOpenMp();
    floorbench::Predictor probe(g_config.model);  // fail fast on a bad model
    asio::io_context io(g_config.threads);
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](auto, auto) { io.stop(); });
    asio::co_spawn(io, Listen(acceptor), asio::detached);
    {
      std::ofstream out(g_config.port_file + ".tmp");
      out << acceptor.local_endpoint().port() << "\n";
    }
    std::rename((g_config.port_file + ".tmp").c_str(), g_config.port_file.c_str());
    std::vector<std::thread> threads;
    for (int i = 1; i < g_config.threads; ++i) threads.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& t : threads) t.join();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "floor_server: %s\n", e.what());
    return 1;
  }
}
