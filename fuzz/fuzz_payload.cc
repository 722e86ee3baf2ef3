// The XGBoost container's payload decoders (text/csv with a sniffed delimiter, text/libsvm).
#include <string_view>

#include "worker/csv_libsvm.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)thaw::worker::SniffCsvDelimiter(in);
  thaw::worker::DenseMatrix dense;
  if (thaw::worker::DecodeCsv(in, &dense).ok() && dense.values.size() != dense.rows * dense.cols) {
    __builtin_trap();  // a decoded matrix must be consistent
  }
  thaw::worker::CsrMatrix csr;
  if (thaw::worker::DecodeLibsvm(in, &csr).ok() &&
      (csr.indptr.size() != csr.rows + 1 || csr.indices.size() != csr.values.size())) {
    __builtin_trap();
  }
  return 0;
}
