#pragma once
// The least a server must do per XGBoost CSV invocation, shared by floor_server and raw_predict:
// parse CSV rows into a dense float matrix, predict through the C API (nthread=1), and format
// one prediction per line, newline-terminated, with the shortest round-trip digits (as Python's
// str(float) prints them, give or take the choice between fixed and exponent notation).

#include <dlfcn.h>
#include <xgboost/c_api.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace floorbench {

inline void Check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string(what) + ": " + XGBGetLastError());
}

// libgomp read OMP_NUM_THREADS when it was loaded; pin it again for good measure.
inline void PinOpenMp() {
  using SetNumThreads = void (*)(int);
  if (void* fn = dlsym(RTLD_DEFAULT, "omp_set_num_threads")) {
    reinterpret_cast<SetNumThreads>(fn)(1);
  }
}

struct Matrix {
  std::vector<float> values;
  size_t rows = 0;
  size_t cols = 0;
};

// Container semantics for well-formed input: strip, split on '\n' and ',', empty field = NaN.
inline bool ParseCsv(std::string_view body, Matrix* m) {
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!body.empty() && is_space(body.front())) body.remove_prefix(1);
  while (!body.empty() && is_space(body.back())) body.remove_suffix(1);
  m->values.clear();
  m->rows = 0;
  m->cols = 0;
  if (body.empty()) return false;
  size_t row_start = 0;
  const char* p = body.data();
  const char* end = p + body.size();
  while (p <= end) {
    const char* field_end = p;
    while (field_end < end && *field_end != ',' && *field_end != '\n') ++field_end;
    float v = std::numeric_limits<float>::quiet_NaN();
    if (field_end != p) {
      auto [ptr, ec] = std::from_chars(p, field_end, v);
      if (ec != std::errc() || ptr != field_end) return false;
    }
    m->values.push_back(v);
    if (field_end == end || *field_end == '\n') {
      size_t n = m->values.size() - row_start;
      if (m->rows == 0) m->cols = n;
      if (n != m->cols) return false;
      ++m->rows;
      row_start = m->values.size();
    }
    p = field_end + 1;
  }
  return true;
}

inline void AppendPredictions(const float* preds, size_t n, std::string* out) {
  char buf[32];
  for (size_t i = 0; i < n; ++i) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<double>(preds[i]));
    out->append(buf, end);
    out->push_back('\n');
  }
}

enum class Method { kInplace, kDMatrix };

inline Method ParseMethod(std::string_view s) {
  if (s == "inplace") return Method::kInplace;
  if (s == "dmatrix") return Method::kDMatrix;
  throw std::runtime_error("method must be inplace or dmatrix");
}

// One booster (not shared between threads) plus what each call reuses.
class Predictor {
 public:
  explicit Predictor(const std::string& model_path) {
    Check(XGBoosterCreate(nullptr, 0, &booster_), "XGBoosterCreate");
    Check(XGBoosterLoadModel(booster_, model_path.c_str()), "XGBoosterLoadModel");
    Check(XGBoosterSetParam(booster_, "nthread", "1"), "XGBoosterSetParam");
    Check(XGProxyDMatrixCreate(&proxy_), "XGProxyDMatrixCreate");
  }
  ~Predictor() {
    if (dmatrix_) XGDMatrixFree(dmatrix_);
    XGDMatrixFree(proxy_);
    XGBoosterFree(booster_);
  }
  Predictor(const Predictor&) = delete;
  Predictor& operator=(const Predictor&) = delete;

  // Returns a pointer to rows predictions, valid until the next call.
  const float* Predict(const Matrix& m, Method method) {
    return method == Method::kInplace ? PredictInplace(m) : PredictDMatrix(m);
  }

 private:
  // XGBoosterPredictFromDense with a proxy DMatrix made once (what thaw's worker does).
  const float* PredictInplace(const Matrix& m) {
    static constexpr char kConfig[] =
        R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, )"
        R"("strict_shape": false, "missing": NaN, "cache_id": 0})";
    char iface[160];
    std::snprintf(iface, sizeof iface,
                  R"({"data": [%zu, true], "shape": [%zu, %zu], "typestr": "<f4", "version": 3})",
                  reinterpret_cast<size_t>(m.values.data()), m.rows, m.cols);
    const bst_ulong* shape = nullptr;
    bst_ulong dims = 0;
    const float* out = nullptr;
    Check(XGBoosterPredictFromDense(booster_, iface, kConfig, proxy_, &shape, &dims, &out),
          "XGBoosterPredictFromDense");
    return out;
  }

  // XGDMatrixCreateFromMat + XGBoosterPredict + XGDMatrixFree (what Booster.predict does). The
  // previous call's DMatrix is freed here, so its result stays valid until this call.
  const float* PredictDMatrix(const Matrix& m) {
    if (dmatrix_) XGDMatrixFree(dmatrix_);
    dmatrix_ = nullptr;
    Check(XGDMatrixCreateFromMat(m.values.data(), m.rows, m.cols,
                                 std::numeric_limits<float>::quiet_NaN(), &dmatrix_),
          "XGDMatrixCreateFromMat");
    bst_ulong len = 0;
    const float* out = nullptr;
    Check(XGBoosterPredict(booster_, dmatrix_, 0, 0, 0, &len, &out), "XGBoosterPredict");
    return out;
  }

  BoosterHandle booster_ = nullptr;
  DMatrixHandle proxy_ = nullptr;
  DMatrixHandle dmatrix_ = nullptr;
};

}  // namespace floorbench
