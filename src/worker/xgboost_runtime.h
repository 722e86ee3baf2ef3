#pragma once
// The SageMaker XGBoost 1.7-1 container in algorithm mode (no SAGEMAKER_PROGRAM), on libxgboost's
// C API. Loading follows serve_utils.get_loaded_booster: every regular, non-dot file at the top of
// the model directory is a model (binary, JSON or UBJ); several make an ensemble whose
// predictions are averaged (a majority vote for binary:hinge and multi:softmax). An invocation
// answers exactly what serve.invocations answers, in the same order of checks:
//   empty body → 204; Content-Type / decoding → 415; model not loaded → 500; feature count and
//   prediction → 400; Accept → 406; then the encoded predictions (200).
// thaw cannot read pickled boosters (the container tries pickle.load first); such a file is a
// load error that says so. The feature-count check the container applies to pickled models is
// applied to every model, using the booster's num_feature.
//
// Speed: CSV goes through in-place prediction (XGBoosterPredictFromDense) on a proxy DMatrix made
// once, which avoids libxgboost's per-DMatrix cgroup probing (TOOLCHAIN-NOTES trap 5) and halves
// one-row latency; it gives the same predictions as the container's DMatrix path (a row with one
// column fewer is NaN-padded, infinities still take the DMatrix path to get its 415). libsvm,
// non-gbtree models and ensembles of mixed widths use a DMatrix per call.
//
// Not thread-safe: one invocation at a time (the worker is single-threaded). Buffers are reused
// across invocations.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "worker/csv_libsvm.h"
#include "worker/http_loop.h"
#include "worker/prediction_encoder.h"

namespace thaw::worker {

struct XgboostOptions {
  std::string model_dir = "/opt/ml/model";
  bool ensemble = true;                     // SAGEMAKER_INFERENCE_ENSEMBLE != "false"
  std::string default_accept = "text/csv";  // SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT
  bool batch = false;                       // SAGEMAKER_BATCH set: newline-joined str() output
  bool selectable_output = false;           // SAGEMAKER_INFERENCE_OUTPUT set (not supported)
  bool inplace_predict = true;  // false: always build a DMatrix (tests compare both paths)
  // When set, the one model, in the legacy binary format, instead of model_dir's files (the
  // worker's pre-warm: the bytes must outlive the runtime).
  std::string_view model_bytes;
};

class XgboostRuntime {
 public:
  // Loads the models now; a failure is kept (see load_status) rather than returned, because the
  // worker must still answer /ping with it.
  explicit XgboostRuntime(XgboostOptions options);
  ~XgboostRuntime();
  XgboostRuntime(const XgboostRuntime&) = delete;
  XgboostRuntime& operator=(const XgboostRuntime&) = delete;

  // OK when every model loaded; otherwise the message is the container's load error text.
  const Status& load_status() const { return load_status_; }

  // POST /invocations. `content_type` and `accept` are the raw headers (nullopt when absent).
  HttpResponse Invoke(std::optional<std::string_view> content_type,
                      std::optional<std::string_view> accept, std::string_view body);

 private:
  struct Model;

  void Load();
  // Points dense_interface_ at dense_ (NaN-padded to `width` columns when it has one fewer).
  void PrepareInplace(size_t width);
  // Runs every model into predictions_: on `dmatrix` (`rows` rows), or in place on
  // dense_interface_ when `dmatrix` is null. The Status message is the 400 text.
  Status Predict(void* dmatrix, size_t rows);

  XgboostOptions options_;
  Status load_status_;
  std::vector<std::unique_ptr<Model>> models_;
  bool vote_ = false;      // ensemble of binary:hinge / multi:softmax models
  void* proxy_ = nullptr;  // XGBoost proxy DMatrix for in-place CSV prediction, or null
  // Reused per invocation.
  DenseMatrix dense_;
  std::vector<float> padded_;
  char dense_interface_[160] = {};  // __array_interface__ JSON of the in-place input
  CsrMatrix csr_;
  Predictions predictions_;
  Predictions member_;
};

// What the legacy binary model format (Booster.save_model to a name without .json/.ubj, the
// built-in algorithm's `xgboost-model`) says about a model before its trees: the objective and
// the gradient booster, as libxgboost reads them. nullopt for any other format, or bytes that do
// not look like one. Exposed for tests.
struct LegacyBinaryHeader {
  std::string objective;  // e.g. "binary:logistic"
  std::string booster;    // "gbtree", "dart" or "gblinear"
};
std::optional<LegacyBinaryHeader> ReadLegacyBinaryHeader(std::string_view bytes);

// Whether a file that starts with `prefix` (its first kModelPrefixBytes, or all of it) can be a
// model libxgboost loads: JSON or UBJSON ('{'), the base64-wrapped binary format ("bs64"), or
// the legacy binary format with or without its "binf" magic, whose objective and booster names
// must parse. Anything else (a README, a CSV, a big data file beside the model) is refused before
// libxgboost reads it: its legacy reader takes a string length from any 8 bytes and allocates
// it, so a large unrelated file made it ask for gigabytes. The refusal keeps the container's
// message ("Model … cannot be loaded: … XGB load model error=…"): the container, which loads
// every top-level file (sagemaker-api.md §4.2), fails on such a file too.
inline constexpr size_t kModelPrefixBytes = 4096;
bool LooksLikeXgboostModel(std::string_view prefix);

// Makes libgomp use one thread in this process from now on (OMP_NUM_THREADS is read only at
// library load, so setting the variable later is not enough). A no-op if libgomp is absent.
void PinOpenMpToOneThread();

}  // namespace thaw::worker
