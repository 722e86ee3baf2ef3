#pragma once
// Python's float formatting, for byte-identical response bodies. The container writes
// predictions with str()/repr() of the float32 prediction widened to a double (numpy's tolist()),
// and json.dumps writes the same digits. Python prints the shortest round-trip digits, in
// exponent form when the decimal exponent is < -4 or >= 16 ("1e-05", "1.5e+16"), and integral
// values with ".0" ("2.0"). See TOOLCHAIN-NOTES trap 8.

#include <string>

namespace thaw::worker {

// Appends repr(v): "0.43861907720565796", "1e-05", "-0.0", "nan", "inf", "-inf".
void AppendPyFloat(double v, std::string* out);

// Appends json.dumps(v): as AppendPyFloat, but "NaN", "Infinity", "-Infinity".
void AppendJsonFloat(double v, std::string* out);

}  // namespace thaw::worker
