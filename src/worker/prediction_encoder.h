#pragma once
// Response bodies of the XGBoost 1.7-1 container for its predictions (preds.tolist()):
//  - text/csv: sagemaker-containers' array_to_csv (np.savetxt with "%s"): one line per record,
//    '\n'-terminated; a record with several values (multi:softprob) is comma-separated.
//  - application/json: serve_utils.encode_predictions_as_json, i.e. json.dumps of
//    {"predictions": [{"score": p}, …]}, p a list for several values per record.
//  - application/jsonlines: one json.dumps({"score": p}) per line.
//  - SAGEMAKER_BATCH: "\n".join(map(str, preds.tolist())) + "\n" (a list prints as "[a, b]").
// Every number is Python's repr of the float32 value widened to a double.

#include <cstddef>
#include <string>
#include <vector>

namespace thaw::worker {

// The prediction array: `rows` records of `width` values each, row-major. `two_d` tells whether
// numpy's array is 2-D (a list per record) or 1-D (a number per record).
struct Predictions {
  size_t rows = 0;
  size_t width = 1;
  bool two_d = false;
  std::vector<float> values;
};

void EncodeCsv(const Predictions& p, std::string* out);
void EncodeJson(const Predictions& p, std::string* out);
void EncodeJsonLines(const Predictions& p, std::string* out);
void EncodeBatch(const Predictions& p, std::string* out);

}  // namespace thaw::worker
