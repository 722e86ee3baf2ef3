// raw_predict: what one XGBoost C API prediction costs in-process, nothing else.
//
//   raw_predict MODEL_FILE CSV_FILE [--method inplace|dmatrix] [--calls N] [--warmup N]
//               [--seconds S]
//
// Loads the booster (nthread=1), parses CSV_FILE once, then times N predict calls one by one
// with clock_gettime(CLOCK_MONOTONIC) — fewer if S seconds run out first (at least 200; the
// warm-up gets a fifth of that budget) — and prints one JSON object:
//   {"rows": R, "method": "...", "calls": N, "p50_us": ..., "p99_us": ..., "mean_us": ...,
//    "min_us": ..., "load_us": ..., "first_predict_us": ...}
// load_us is XGBoosterCreate + XGBoosterLoadModel in this fresh process, first_predict_us the
// first call: what a worker that loads its model on a cold start pays at least.
// Run it with OMP_NUM_THREADS=1 (libgomp reads it when loaded).

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "xgb_floor.h"

namespace {

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string ReadFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("cannot read ") + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double Percentile(const std::vector<int64_t>& sorted, double q) {
  size_t i = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return static_cast<double>(sorted[std::min(i, sorted.size() - 1)]) / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: %s MODEL_FILE CSV_FILE [--method inplace|dmatrix] [--calls N] "
                 "[--warmup N]\n",
                 argv[0]);
    return 2;
  }
  try {
    std::string method_name = "inplace";
    long calls = 20000, warmup = 2000;
    double seconds = 1e9;
    for (int i = 3; i + 1 < argc; i += 2) {
      if (!std::strcmp(argv[i], "--method"))
        method_name = argv[i + 1];
      else if (!std::strcmp(argv[i], "--calls"))
        calls = std::atol(argv[i + 1]);
      else if (!std::strcmp(argv[i], "--warmup"))
        warmup = std::atol(argv[i + 1]);
      else if (!std::strcmp(argv[i], "--seconds"))
        seconds = std::atof(argv[i + 1]);
      else
        throw std::runtime_error(std::string("unknown option ") + argv[i]);
    }
    if (calls < 1) throw std::runtime_error("--calls must be positive");
    const floorbench::Method method = floorbench::ParseMethod(method_name);
    floorbench::PinOpenMp();
    floorbench::Matrix m;
    if (!floorbench::ParseCsv(ReadFile(argv[2]), &m)) throw std::runtime_error("bad CSV");
    const int64_t load_start = NowNs();
    floorbench::Predictor predictor(argv[1]);
    const int64_t load_ns = NowNs() - load_start;
    const int64_t first_start = NowNs();
    predictor.Predict(m, method);
    const int64_t first_ns = NowNs() - first_start;

    const int64_t budget_ns = static_cast<int64_t>(seconds * 1e9);
    volatile float sink = 0;
    for (int64_t i = 0, start = NowNs(); i < warmup && NowNs() - start < budget_ns / 5; ++i) {
      sink = sink + predictor.Predict(m, method)[0];
    }
    std::vector<int64_t> ns;
    ns.reserve(static_cast<size_t>(calls));
    for (int64_t start = NowNs(); static_cast<long>(ns.size()) < calls;) {
      int64_t t0 = NowNs();
      sink = sink + predictor.Predict(m, method)[0];
      int64_t t1 = NowNs();
      ns.push_back(t1 - t0);
      if (ns.size() >= 200 && t1 - start > budget_ns) break;
    }
    calls = static_cast<long>(ns.size());
    std::vector<int64_t> sorted = ns;
    std::sort(sorted.begin(), sorted.end());
    double mean = std::accumulate(ns.begin(), ns.end(), 0.0) / static_cast<double>(ns.size());
    std::printf(
        "{\"rows\": %zu, \"method\": \"%s\", \"calls\": %ld, \"p50_us\": %.2f, \"p99_us\": %.2f, "
        "\"mean_us\": %.2f, \"min_us\": %.2f, \"load_us\": %.1f, \"first_predict_us\": %.1f}\n",
        m.rows, method_name.c_str(), calls, Percentile(sorted, 0.50), Percentile(sorted, 0.99),
        mean / 1000.0, Percentile(sorted, 0.0), static_cast<double>(load_ns) / 1000.0,
        static_cast<double>(first_ns) / 1000.0);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "raw_predict: %s\n", e.what());
    return 1;
  }
}
