#include "worker/prediction_encoder.h"

#include "worker/float_format.h"

namespace thaw::worker {
namespace {

// One record as Python prints it: a number, or "[a, b, c]" for a 2-D array's row.
void AppendRecord(const Predictions& p, size_t row, bool json, std::string* out) {
  const float* v = p.values.data() + row * p.width;
  auto append = json ? AppendJsonFloat : AppendPyFloat;
  if (!p.two_d) {
    append(v[0], out);
    return;
  }
  out->push_back('[');
  for (size_t i = 0; i < p.width; ++i) {
    if (i) out->append(", ");
    append(v[i], out);
  }
  out->push_back(']');
}

}  // namespace

void EncodeCsv(const Predictions& p, std::string* out) {
  out->reserve(out->size() + p.values.size() * 21);
  for (size_t r = 0; r < p.rows; ++r) {
    const float* v = p.values.data() + r * p.width;
    for (size_t i = 0; i < p.width; ++i) {
      if (i) out->push_back(',');
      AppendPyFloat(v[i], out);
    }
    out->push_back('\n');
  }
}

void EncodeJson(const Predictions& p, std::string* out) {
  out->reserve(out->size() + 20 + p.values.size() * 24);
  out->append("{\"predictions\": [");
  for (size_t r = 0; r < p.rows; ++r) {
    if (r) out->append(", ");
    out->append("{\"score\": ");
    AppendRecord(p, r, /*json=*/true, out);
    out->push_back('}');
  }
  out->append("]}");
}

void EncodeJsonLines(const Predictions& p, std::string* out) {
  out->reserve(out->size() + p.values.size() * 24);
  for (size_t r = 0; r < p.rows; ++r) {
    out->append("{\"score\": ");
    AppendRecord(p, r, /*json=*/true, out);
    out->append("}\n");
  }
}

void EncodeBatch(const Predictions& p, std::string* out) {
  for (size_t r = 0; r < p.rows; ++r) {
    AppendRecord(p, r, /*json=*/false, out);
    out->push_back('\n');
  }
}

}  // namespace thaw::worker
