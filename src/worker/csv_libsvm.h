#pragma once
// Request decoders of the XGBoost 1.7-1 container, reproduced from its Python:
//  - CSV (encoder.csv_to_dmatrix): the payload is strip()ped and decoded as UTF-8, the delimiter
//    is sniffed by csv.Sniffer from the first 512 characters of the first line (an alphanumeric
//    result means ','), lines are split on '\n' and fields on the delimiter, an empty field is
//    NaN, every other field goes through float(). No header, no label column. Rows of different
//    lengths fail (numpy cannot build the array).
//  - libsvm (serve_utils._get_sparse_matrix_from_libsvm): lines split on '\n', items on ' ';
//    every item holding ':' is "index:value" (the label, having no ':', is skipped; extra ':'
//    parts are ignored), indices are used as given (0-based columns), duplicates add up, the
//    matrix has max(row with an item)+1 rows and max(index)+1 columns.
// Failures carry the container's complete 415 text ("Loading csv data failed with Exception,
// please ensure data is in csv format:\n <class '…'>\n …").
//
// The output matrices are reused across requests by the caller: Decode* clears and refills
// them, so a warm worker does not allocate per row.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace thaw::worker {

// Row-major dense float32 values; NaN marks a missing value.
struct DenseMatrix {
  size_t rows = 0;
  size_t cols = 0;
  std::vector<float> values;
};

// Compressed sparse rows with sorted, unique column indices per row.
struct CsrMatrix {
  size_t rows = 0;
  size_t cols = 0;
  std::vector<size_t> indptr;  // rows + 1 entries
  std::vector<unsigned> indices;
  std::vector<float> values;
};

// The delimiter csv.Sniffer().sniff(sample).delimiter finds, with the container's fallback to
// ',' for an alphanumeric one; nullopt when Python raises "Could not determine delimiter".
// `sample` is the text the container sniffs (already cut to 512 characters).
std::optional<char> SniffCsvDelimiter(std::string_view sample);

// Decodes a request body (not empty) as the container's CSV reader does.
Status DecodeCsv(std::string_view body, DenseMatrix* out);

// Decodes a request body (not empty) as the container's libsvm reader does.
Status DecodeLibsvm(std::string_view body, CsrMatrix* out);

}  // namespace thaw::worker
