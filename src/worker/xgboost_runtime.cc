#include "worker/xgboost_runtime.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/logging.h"
#include "worker/content_types.h"
#include "worker/python_compat.h"

namespace thaw::worker {
namespace {

// Flask's default mimetype for the container's plain-text answers.
constexpr std::string_view kHtml = "text/html; charset=utf-8";

// What Flask sends when the view raises (here: an Accept the encoders do not know).
constexpr std::string_view kInternalServerErrorPage =
    "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
    "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable "
    "to complete your request. Either the server is overloaded or there is an error in the "
    "application.</p>\n";

HttpResponse Text(unsigned status, std::string body) {
  return {status, std::string(kHtml), std::move(body)};
}

// str(XGBoostError): libxgboost's last error without the native stack trace (which would only
// leak addresses of this process).
std::string LastXgbError() {
  std::string msg = XGBGetLastError();
  if (auto cut = msg.find("\nStack trace:"); cut != std::string::npos) msg.resize(cut);
  return msg;
}

// Flask's Response(mimetype=…) adds a charset to textual types.
std::string ResponseContentType(const std::string& mimetype) {
  static constexpr std::string_view kCharsetTypes[] = {
      "application/ecmascript", "application/javascript", "application/sql",
      "application/xml",        "application/xml-dtd",    "application/xml-external-parsed-entity"};
  bool charset = mimetype.rfind("text/", 0) == 0 ||
                 (mimetype.size() >= 4 && mimetype.compare(mimetype.size() - 4, 4, "+xml") == 0) ||
                 std::find(std::begin(kCharsetTypes), std::end(kCharsetTypes), mimetype) !=
                     std::end(kCharsetTypes);
  return charset ? mimetype + "; charset=utf-8" : mimetype;
}

// A pickle of protocol 2 or later starts with PROTO (0x80) and the protocol number.
bool LooksPickled(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[2] = {0, 0};
  in.read(head, 2);
  return in.gcount() == 2 && static_cast<unsigned char>(head[0]) == 0x80 && head[1] >= 2 &&
         head[1] <= 5;
}

// config[k1][k2]… as a string, or nullopt.
std::optional<std::string> ConfigString(const nlohmann::json& config,
                                        std::initializer_list<const char*> keys) {
  const nlohmann::json* node = &config;
  for (const char* key : keys) {
    if (!node->is_object()) return std::nullopt;
    auto it = node->find(key);
    if (it == node->end()) return std::nullopt;
    node = &*it;
  }
  if (!node->is_string()) return std::nullopt;
  return node->get<std::string>();
}

// A model file mapped read-only (MAP_POPULATE: the pages are in the page cache after the
// deploy's extraction, so mapping them is cheap); empty when it cannot be mapped.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ,
                     MAP_PRIVATE | MAP_POPULATE, fd, 0);
      if (p != MAP_FAILED) {
        data_ = p;
        size_ = static_cast<size_t>(st.st_size);
      }
    }
    close(fd);
  }
  ~MappedFile() {
    if (data_) munmap(data_, size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

bool LoadBoosterFromBytes(BoosterHandle handle, std::string_view bytes,
                          std::optional<LegacyBinaryHeader>* header) {
  if (XGBoosterLoadModelFromBuffer(handle, bytes.data(), bytes.size()) != 0) return false;
  *header = ReadLegacyBinaryHeader(bytes);
  return true;
}

// Loads `path` into `handle`; on success `*header` is the legacy binary header when the file has
// one. For a name without a dot, XGBoosterLoadModel reads the file through
// Learner::LoadModel(dmlc::Stream*) in 4 KB read() calls (96 for a 392 KB model, ~1,270 for
// 5 MB); XGBoosterLoadModelFromBuffer runs the same function over one mapping. A name with an
// extension keeps the path call, which dispatches on ".json"/".ubj", and so does any file the
// buffer call refuses, so that the error text is the path call's.
bool LoadBooster(BoosterHandle handle, const std::string& path,
                 std::optional<LegacyBinaryHeader>* header) {
  const std::string name = std::filesystem::path(path).filename().string();
  if (name.find('.') == std::string::npos) {
    MappedFile file(path);
    const std::string_view bytes = file.bytes();
    if (!bytes.empty() && LoadBoosterFromBytes(handle, bytes, header)) return true;
  }
  if (XGBoosterLoadModel(handle, path.c_str()) != 0) return false;
  MappedFile file(path);
  *header = ReadLegacyBinaryHeader(file.bytes());
  return true;
}

// The first kModelPrefixBytes of a file (fewer when it is shorter; empty when unreadable).
std::string FilePrefix(const std::string& path) {
  std::string out(kModelPrefixBytes, '\0');
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? 0 : pread(fd, out.data(), out.size(), 0);
  if (fd >= 0) close(fd);
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

struct DMatrix {
  DMatrixHandle handle = nullptr;
  ~DMatrix() {
    if (handle) XGDMatrixFree(handle);
  }
};

}  // namespace

struct XgboostRuntime::Model {
  BoosterHandle handle = nullptr;
  std::string objective;
  bst_ulong num_feature = 0;
  std::string booster;         // "gbtree", "dart", "gblinear"
  int64_t iteration_end = 0;   // from best_ntree_limit; 0 means every tree
  std::string predict_config;  // the JSON Booster.predict passes to XGBoosterPredictFromDMatrix
  std::string inplace_config;  // the same for XGBoosterPredictFromDense
  ~Model() {
    if (handle) XGBoosterFree(handle);
  }
};

XgboostRuntime::XgboostRuntime(XgboostOptions options) : options_(std::move(options)) {
  Load();
  // In-place prediction needs every model to be a tree booster of one width. A proxy DMatrix
  // made once keeps libxgboost from building a Context per call, whose constructor re-reads the
  // cgroup CPU quota files (TOOLCHAIN-NOTES trap 5): one-row predictions take half the time.
  bool inplace = options_.inplace_predict && !models_.empty();
  for (const auto& model : models_) {
    inplace = inplace && model->booster == "gbtree" &&
              model->num_feature == models_[0]->num_feature && model->num_feature > 0;
  }
  if (inplace && XGProxyDMatrixCreate(&proxy_) != 0) proxy_ = nullptr;
}

XgboostRuntime::~XgboostRuntime() {
  if (proxy_) XGDMatrixFree(proxy_);
}

void XgboostRuntime::Load() {
  if (options_.selectable_output) {
    load_status_ = FailedPrecondition(
        "SAGEMAKER_INFERENCE_OUTPUT (selectable inference output) is not supported by thaw");
    return;
  }
  // os.listdir order, regular files only (os.path.isfile follows symlinks), no dot files.
  std::vector<std::string> paths;
  if (!options_.model_bytes.empty()) {
    paths.push_back("<memory>");
  } else {
    DIR* dir = opendir(options_.model_dir.c_str());
    if (dir == nullptr) {
      int err = errno;
      load_status_ = FailedPrecondition("[Errno " + std::to_string(err) + "] " +
                                        std::strerror(err) + ": " + PyRepr(options_.model_dir));
      return;
    }
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      std::string path = (std::filesystem::path(options_.model_dir) / entry->d_name).string();
      struct stat st;
      if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) paths.push_back(std::move(path));
    }
    closedir(dir);
  }
  if (!options_.ensemble && paths.size() > 1) paths.resize(1);

  for (const std::string& path : paths) {
    auto model = std::make_unique<Model>();
    std::string error;
    std::optional<LegacyBinaryHeader> header;
    const std::string_view bytes = options_.model_bytes;
    if (bytes.empty() && !LooksLikeXgboostModel(FilePrefix(path))) {
      error = LooksPickled(path) ? "Pickle load error=pickled models are not supported by thaw; "
                                   "save with Booster.save_model"
                                 : "XGB load model error=" + PyRepr(path) +
                                       " is not an XGBoost model: neither JSON, UBJSON nor the "
                                       "binary format of Booster.save_model";
    } else if (XGBoosterCreate(nullptr, 0, &model->handle) != 0 ||
               !(bytes.empty() ? LoadBooster(model->handle, path, &header)
                               : LoadBoosterFromBytes(model->handle, bytes, &header))) {
      error = LooksPickled(path) ? "Pickle load error=pickled models are not supported by thaw; "
                                   "save with Booster.save_model"
                                 : "XGB load model error=" + LastXgbError();
    } else if (XGBoosterSetParam(model->handle, "nthread", "1") != 0 ||
               XGBoosterGetNumFeature(model->handle, &model->num_feature) != 0) {
      error = "XGB load model error=" + LastXgbError();
    }
    int64_t iteration_end = 0;
    if (error.empty()) {
      // The booster's JSON config costs ~0.25 ms of a cold start (XGBoosterSaveJsonConfig, then
      // parsing it); the legacy binary format names the objective and the booster in its header,
      // so the config is read only for JSON/UBJ models or to resolve best_ntree_limit.
      nlohmann::json config;
      bool have_config = false;
      auto config_string = [&](std::initializer_list<const char*> keys) {
        if (!have_config) {
          have_config = true;
          bst_ulong len = 0;
          const char* text = nullptr;
          if (XGBoosterSaveJsonConfig(model->handle, &len, &text) == 0) {
            config = nlohmann::json::parse(text, text + len, nullptr, /*allow_exceptions=*/false);
          }
        }
        return ConfigString(config, keys);
      };
      if (header) {
        model->objective = header->objective;
        model->booster = header->booster;
      } else {
        model->objective = config_string({"learner", "objective", "name"}).value_or("");
        model->booster = config_string({"learner", "gradient_booster", "name"}).value_or("gbtree");
      }
      // Booster.load_model reads best_ntree_limit, and the container predicts with
      // ntree_limit=best_ntree_limit: iteration_end = limit // num_parallel_tree.
      const char* attr = nullptr;
      int found = 0;
      if (XGBoosterGetAttr(model->handle, "best_ntree_limit", &attr, &found) == 0 && found) {
        PyIntResult limit = PyInt(attr);
        if (limit.error) {
          error = "XGB load model error=invalid literal for int() with base 10: " + PyRepr(attr);
        } else if (limit.value != 0) {
          const std::string booster =
              config_string({"learner", "gradient_booster", "name"}).value_or("gbtree");
          std::optional<std::string> trees;
          if (booster == "dart") {
            trees = config_string({"learner", "gradient_booster", "gbtree", "gbtree_model_param",
                                   "num_parallel_tree"});
          } else if (booster == "gbtree") {
            trees = config_string(
                {"learner", "gradient_booster", "gbtree_model_param", "num_parallel_tree"});
          }
          const int64_t parallel = std::max<int64_t>(trees ? PyInt(*trees).value : 0, 1);
          // Python's floor division.
          iteration_end = limit.value / parallel - ((limit.value % parallel) < 0 ? 1 : 0);
        }
      }
    }
    if (!error.empty()) {
      load_status_ = FailedPrecondition("Model " + path + " cannot be loaded:\n" + error);
      models_.clear();
      Logger("worker")->warn("{}", load_status_.message());
      return;
    }
    model->iteration_end = iteration_end;
    model->predict_config =
        R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": )" +
        std::to_string(iteration_end) + R"(, "strict_shape": false})";
    model->inplace_config = model->predict_config;
    model->inplace_config.insert(model->inplace_config.size() - 1,
                                 R"(, "missing": NaN, "cache_id": 0)");  // trap 4
    models_.push_back(std::move(model));
  }
  vote_ = models_.size() > 1 &&
          (models_[0]->objective == "binary:hinge" || models_[0]->objective == "multi:softmax");
}

Status XgboostRuntime::Predict(void* dmatrix, size_t rows) {
  std::vector<float> votes;  // vote_ only: every member's predictions, member-major
  for (size_t m = 0; m < models_.size(); ++m) {
    const Model& model = *models_[m];
    Predictions& out = m == 0 ? predictions_ : member_;
    const float* result = nullptr;
    if (dmatrix == nullptr) {
      const bst_ulong* shape = nullptr;
      bst_ulong dims = 0;
      if (XGBoosterPredictFromDense(model.handle, dense_interface_, model.inplace_config.c_str(),
                                    proxy_, &shape, &dims, &result) != 0) {
        return InvalidArgument(LastXgbError());
      }
      if (dims != 1 && dims != 2) return InvalidArgument("unexpected prediction shape");
      out.rows = shape[0];
      out.width = dims == 2 ? shape[1] : 1;
      out.two_d = dims == 2;
    } else if (model.iteration_end == 0) {
      // The old entry point runs the same Learner::Predict as Booster.predict without parsing a
      // JSON config per call (~5 us less per one-row call). numpy's shape follows from the flat
      // length as in XGBoost's CalcPredictShape(strict_shape=false): (rows,) or (rows, len/rows).
      bst_ulong len = 0;
      if (XGBoosterPredict(model.handle, dmatrix, /*option_mask=*/0, /*ntree_limit=*/0,
                           /*training=*/0, &len, &result) != 0) {
        return InvalidArgument(LastXgbError());
      }
      if (rows == 0 || len % rows != 0) return InvalidArgument("unexpected prediction shape");
      out.rows = rows;
      out.width = len / rows;
      out.two_d = out.width != 1;
    } else {
      const bst_ulong* shape = nullptr;
      bst_ulong dims = 0;
      if (XGBoosterPredictFromDMatrix(model.handle, dmatrix, model.predict_config.c_str(), &shape,
                                      &dims, &result) != 0) {
        return InvalidArgument(LastXgbError());
      }
      if (dims != 1 && dims != 2) return InvalidArgument("unexpected prediction shape");
      out.rows = shape[0];
      out.width = dims == 2 ? shape[1] : 1;
      out.two_d = dims == 2;
    }
    out.values.assign(result, result + out.rows * out.width);
    if (m > 0) {
      if (out.rows != predictions_.rows || out.width != predictions_.width ||
          out.two_d != predictions_.two_d) {
        return InvalidArgument("operands could not be broadcast together");
      }
      if (vote_) {
        votes.insert(votes.end(), out.values.begin(), out.values.end());
      } else {
        // np.mean(ensemble, axis=0) on float32: members summed in order, in float32.
        for (size_t i = 0; i < out.values.size(); ++i) predictions_.values[i] += out.values[i];
      }
    } else if (vote_) {
      votes = out.values;
    }
  }
  const size_t n = models_.size();
  if (n > 1 && !vote_) {
    const float count = static_cast<float>(n);
    for (float& v : predictions_.values) v /= count;
  } else if (vote_) {
    // scipy.stats.mode across members: the most frequent value, the smallest one on a tie.
    const size_t size = predictions_.values.size();
    std::vector<float> column(n);
    for (size_t i = 0; i < size; ++i) {
      for (size_t m = 0; m < n; ++m) column[m] = votes[m * size + i];
      // NaN sorts last (a plain < is not a strict weak order with NaN).
      std::sort(column.begin(), column.end(),
                [](float a, float b) { return std::isnan(b) ? !std::isnan(a) : a < b; });
      float best = column[0];
      size_t best_count = 0;
      for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n &&
               (column[b] == column[a] || (std::isnan(column[b]) && std::isnan(column[a])))) {
          ++b;
        }
        if (b - a > best_count) {
          best = column[a];
          best_count = b - a;
        }
        a = b;
      }
      predictions_.values[i] = best;
    }
  }
  return Status::Ok();
}

void XgboostRuntime::PrepareInplace(size_t width) {
  const float* data = dense_.values.data();
  if (dense_.cols < width) {
    // n-1 columns: a DMatrix narrower than the model leaves the last feature missing; in-place
    // prediction wants the full width, so the column is added as NaN (the same prediction).
    padded_.assign(dense_.rows * width, std::numeric_limits<float>::quiet_NaN());
    for (size_t r = 0; r < dense_.rows; ++r) {
      std::copy_n(dense_.values.data() + r * dense_.cols, dense_.cols, padded_.data() + r * width);
    }
    data = padded_.data();
  }
  std::snprintf(dense_interface_, sizeof(dense_interface_),
                R"({"data": [%ju, true], "shape": [%zu, %zu], "typestr": "<f4", "version": 3})",
                static_cast<uintmax_t>(reinterpret_cast<uintptr_t>(data)), dense_.rows, width);
}

HttpResponse XgboostRuntime::Invoke(std::optional<std::string_view> content_type,
                                    std::optional<std::string_view> accept, std::string_view body) {
  if (body.empty()) return Text(204, "");

  auto format = ClassifyContentType(content_type);
  if (!format.ok()) return Text(415, format.status().message());
  DMatrix dmatrix;
  bool inplace = false;
  constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();
  if (*format == InputFormat::kCsv) {
    if (Status s = DecodeCsv(body, &dense_); !s.ok()) return Text(415, s.message());
    // DMatrix refuses infinities (the container's 415); in-place prediction would not, so only
    // finite data may skip the DMatrix.
    inplace = proxy_ != nullptr && std::none_of(dense_.values.begin(), dense_.values.end(),
                                                [](float v) { return std::isinf(v); });
    if (!inplace && XGDMatrixCreateFromMat(dense_.values.data(), dense_.rows, dense_.cols, kMissing,
                                           &dmatrix.handle) != 0) {
      return Text(415,
                  "Loading csv data failed with Exception, please ensure data is in csv format:\n"
                  " <class 'xgboost.core.XGBoostError'>\n " +
                      LastXgbError());
    }
  } else {
    if (Status s = DecodeLibsvm(body, &csr_); !s.ok()) return Text(415, s.message());
    if (XGDMatrixCreateFromCSREx(csr_.indptr.data(), csr_.indices.data(), csr_.values.data(),
                                 csr_.indptr.size(), csr_.values.size(), csr_.cols,
                                 &dmatrix.handle) != 0) {
      return Text(
          415,
          "Loading libsvm data failed with Exception, please ensure data is in libsvm format:\n"
          " <class 'xgboost.core.XGBoostError'>\n " +
              LastXgbError());
    }
  }

  if (!load_status_.ok()) return Text(500, "Unable to load model: " + load_status_.message());
  constexpr std::string_view kEvalError = "Unable to evaluate payload provided: ";
  if (models_.empty()) return Text(400, std::string(kEvalError) + "list index out of range");
  // serve_utils.predict's feature-size check (x: the model, y: the data).
  const uint64_t x = models_[0]->num_feature;
  if (*format == InputFormat::kCsv) {
    const uint64_t y = dense_.cols;
    if (x != y && x != y + 1) {
      return Text(400, std::string(kEvalError) + "Feature size of csv inference data " +
                           std::to_string(y) + " is not consistent with feature size of trained " +
                           "model " + std::to_string(x) + ".");
    }
  } else if (const uint64_t y = csr_.cols; y > x + 1) {
    return Text(400, std::string(kEvalError) + "Feature size of libsvm inference data " +
                         std::to_string(y) + " is larger than feature size of trained model " +
                         std::to_string(x) + ".");
  }
  if (inplace) PrepareInplace(static_cast<size_t>(x));
  const size_t rows = *format == InputFormat::kCsv ? dense_.rows : csr_.rows;
  if (Status s = Predict(inplace ? nullptr : dmatrix.handle, rows); !s.ok()) {
    return Text(400, std::string(kEvalError) + s.message());
  }

  auto resolved = ResolveAccept(accept, options_.default_accept);
  if (!resolved.ok()) return Text(406, resolved.status().message());
  HttpResponse res{200, ResponseContentType(resolved->media_type), {}};
  if (options_.batch) {
    EncodeBatch(predictions_, &res.body);
    return res;
  }
  switch (resolved->format) {
    case OutputFormat::kCsv:
      EncodeCsv(predictions_, &res.body);
      return res;
    case OutputFormat::kJson:
      EncodeJson(predictions_, &res.body);
      return res;
    case OutputFormat::kJsonLines:
      EncodeJsonLines(predictions_, &res.body);
      return res;
    case OutputFormat::kRecordIo:
    case OutputFormat::kOther:
      break;
  }
  // sagemaker-containers' encoders know csv, json and npy only; the view raises.
  Logger("worker")->warn("no encoder for accept type {}", resolved->media_type);
  return Text(500, std::string(kInternalServerErrorPage));
}

namespace {

// LearnerModelParamLegacy (136 bytes: base_score, num_feature, num_class, contain_extra_attrs,
// contain_eval_metrics, major/minor version, num_target, 26 reserved ints) from `start`, then
// the objective and the booster name as dmlc strings: a little-endian uint64 length and the
// bytes.
std::optional<LegacyBinaryHeader> ReadLegacyHeaderAt(std::string_view bytes, size_t start) {
  constexpr size_t kParamBytes = 136;
  constexpr uint64_t kMaxName = 256;
  size_t at = start + kParamBytes;
  auto read_string = [&](std::string* out) {
    uint64_t len = 0;
    if (bytes.size() < at + sizeof len) return false;
    std::memcpy(&len, bytes.data() + at, sizeof len);
    at += sizeof len;
    if (len > kMaxName || bytes.size() - at < len) return false;
    out->assign(bytes.data() + at, static_cast<size_t>(len));
    at += static_cast<size_t>(len);
    return true;
  };
  LegacyBinaryHeader header;
  if (!read_string(&header.objective) || !read_string(&header.booster)) return std::nullopt;
  if (header.booster != "gbtree" && header.booster != "dart" && header.booster != "gblinear") {
    return std::nullopt;
  }
  return header;
}

}  // namespace

std::optional<LegacyBinaryHeader> ReadLegacyBinaryHeader(std::string_view bytes) {
  // "binf" and the header. (A file without the magic, or base64-wrapped, is left to the config.)
  if (bytes.substr(0, 4) != "binf") return std::nullopt;
  return ReadLegacyHeaderAt(bytes, 4);
}

bool LooksLikeXgboostModel(std::string_view prefix) {
  if (prefix.substr(0, 1) == "{" || prefix.substr(0, 4) == "bs64") return true;
  if (prefix.substr(0, 4) == "binf") return ReadLegacyHeaderAt(prefix, 4).has_value();
  return ReadLegacyHeaderAt(prefix, 0).has_value();  // the format before the magic
}

void PinOpenMpToOneThread() {
  using SetNumThreads = void (*)(int);
  if (void* fn = dlsym(RTLD_DEFAULT, "omp_set_num_threads")) {
    reinterpret_cast<SetNumThreads>(fn)(1);
  }
}

}  // namespace thaw::worker
