// Request decoding and header parsing against CPython's answers (expected values were produced
// with /usr/bin/python3 3.11, numpy 1.24, scipy 1.10 running the container's code).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "worker/content_types.h"
#include "worker/csv_libsvm.h"
#include "worker/python_compat.h"

namespace thaw::worker {
namespace {

const std::string kCsvPrefix =
    "Loading csv data failed with Exception, please ensure data is in csv format:\n ";
const std::string kLibsvmPrefix =
    "Loading libsvm data failed with Exception, please ensure data is in libsvm format:\n ";

TEST(ParseHeaderTest, LikeCgiParseHeader) {
  ParsedHeader h = ParseHeader("text/csv; label_size = 1; charset=\"utf-8\"");
  EXPECT_EQ(h.key, "text/csv");
  EXPECT_EQ(h.Param("label_size"), "1");
  EXPECT_EQ(h.Param("charset"), "utf-8");

  h = ParseHeader("text/csv;a=\"x;y\";b=\\\"q");
  EXPECT_EQ(h.Param("a"), "x;y");
  EXPECT_EQ(h.Param("b"), "\\\"q");

  h = ParseHeader(" Text/CSV ; Foo=Bar; noeq ; x=");
  EXPECT_EQ(h.key, "Text/CSV");
  EXPECT_EQ(h.Param("foo"), "Bar");
  EXPECT_EQ(h.Param("x"), "");
  EXPECT_FALSE(h.Param("noeq"));

  EXPECT_EQ(ParseHeader("").key, "");
  EXPECT_EQ(ParseHeader("text/csv; label_size=1; label_size=2").Param("label_size"), "2");
}

TEST(PyFloatTest, AcceptsWhatPythonAccepts) {
  EXPECT_EQ(PyFloat("1.5"), 1.5);
  EXPECT_EQ(PyFloat(" 1.5\r"), 1.5);
  EXPECT_EQ(PyFloat("+3"), 3.0);
  EXPECT_EQ(PyFloat("1_0"), 10.0);
  EXPECT_EQ(PyFloat(".5"), 0.5);
  EXPECT_EQ(PyFloat("5."), 5.0);
  EXPECT_EQ(PyFloat("1e5"), 1e5);
  EXPECT_EQ(PyFloat("-Infinity"), -INFINITY);
  EXPECT_EQ(PyFloat("iNf"), INFINITY);
  EXPECT_TRUE(std::isnan(*PyFloat("nAn")));
  EXPECT_TRUE(std::isnan(*PyFloat("-nan")));
  EXPECT_EQ(PyFloat("1e400"), INFINITY);
  EXPECT_EQ(PyFloat("-1e-400"), 0.0);
  EXPECT_TRUE(std::signbit(*PyFloat("-1e-400")));
  EXPECT_EQ(PyFloat("4.9e-324"), 4.9e-324);
  for (const char* bad : {"", " ", "0x10", "1d5", "0b1", "1__0", "_1", "1_", "1e", "1e+", ".",
                          "--1", "+-1", "1.5.5", "inf1", "nan(1)", "\"1\"", "1,5"}) {
    EXPECT_FALSE(PyFloat(bad)) << bad;
  }
}

TEST(PyIntTest, LikePythonIntThenCLong) {
  EXPECT_EQ(PyInt(" 3").value, 3);
  EXPECT_EQ(PyInt("+3").value, 3);
  EXPECT_EQ(PyInt("-3").value, -3);
  EXPECT_EQ(PyInt("1_0").value, 10);
  EXPECT_EQ(PyInt("9223372036854775807").value, INT64_MAX);
  EXPECT_EQ(PyInt("-9223372036854775808").value, INT64_MIN);
  EXPECT_EQ(PyInt("9223372036854775808").error, PyIntError::kOverflow);
  EXPECT_EQ(PyInt("99999999999999999999").error, PyIntError::kOverflow);
  for (const char* bad : {"3.0", "", "0x1", "1\t2", "a"}) {
    EXPECT_EQ(PyInt(bad).error, PyIntError::kInvalid) << bad;
  }
}

TEST(PyReprTest, QuotesAndEscapes) {
  EXPECT_EQ(PyRepr("it's"), "\"it's\"");
  EXPECT_EQ(PyRepr("a\"b"), "'a\"b'");
  EXPECT_EQ(PyRepr("a'b\"c"), "'a\\'b\"c'");
  EXPECT_EQ(PyRepr("\x01\t"), "'\\x01\\t'");
  EXPECT_EQ(PyRepr("\xc3\xa9"), "'\xc3\xa9'");
  EXPECT_EQ(PyRepr("\xc2\xa0"), "'\\xa0'");
  EXPECT_EQ(PyRepr("\\"), "'\\\\'");
}

TEST(Utf8Test, PythonDecodeErrors) {
  EXPECT_FALSE(Utf8DecodeError("plain \xc3\xa9 \xf0\x9f\x98\x80"));
  const std::pair<std::string, std::string> cases[] = {
      {"\xff", "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"},
      {"\xe4\xb8x", "'utf-8' codec can't decode bytes in position 0-1: invalid continuation byte"},
      {"\xe4x", "'utf-8' codec can't decode byte 0xe4 in position 0: invalid continuation byte"},
      {"\xe4\xb8", "'utf-8' codec can't decode bytes in position 0-1: unexpected end of data"},
      {"a\xed\xa0\x80",
       "'utf-8' codec can't decode byte 0xed in position 1: invalid continuation byte"},
      {"\xf0\x80\x80\x80",
       "'utf-8' codec can't decode byte 0xf0 in position 0: invalid continuation byte"},
      {"\xc0\xaf", "'utf-8' codec can't decode byte 0xc0 in position 0: invalid start byte"},
      {"ok\xc3", "'utf-8' codec can't decode byte 0xc3 in position 2: unexpected end of data"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(Utf8DecodeError(in), want);
}

TEST(SniffTest, LikeCsvSniffer) {
  // csv.Sniffer().sniff(line).delimiter, then the container's alnum → ',' rule.
  const std::pair<const char*, char> cases[] = {
      {"1,2,3", ','},   {"1 2 3", ' '},   {"1;2", ';'},       {"0.5", ','},   {"\"1\",\"2\"", ','},
      {"1\"2\"3", '"'}, {"'a';'b'", ';'}, {"1|2|3", '|'},     {"a b,c", ','}, {"1:2:3", ':'},
      {"1\t2 3", '\t'}, {"\"a\"", '"'},   {"1.5,\"x\"", ','}, {"12.5", ','},  {"1,2;3;4", ','},
  };
  for (const auto& [line, want] : cases) EXPECT_EQ(SniffCsvDelimiter(line), want) << line;
  EXPECT_FALSE(SniffCsvDelimiter(""));
  EXPECT_FALSE(SniffCsvDelimiter("\xc3\xa9"));  // no ASCII character to choose
}

TEST(DecodeCsvTest, Shapes) {
  DenseMatrix m;
  ASSERT_TRUE(DecodeCsv("1;2;3\n4;5;6", &m).ok());
  EXPECT_EQ(m.rows, 2u);
  EXPECT_EQ(m.cols, 3u);
  EXPECT_EQ(m.values, (std::vector<float>{1, 2, 3, 4, 5, 6}));

  ASSERT_TRUE(DecodeCsv("\n\n1,2\r\n3,4\r\n\n", &m).ok());
  EXPECT_EQ(m.values, (std::vector<float>{1, 2, 3, 4}));

  ASSERT_TRUE(DecodeCsv("  7.5  ", &m).ok());
  EXPECT_EQ(m.rows * m.cols, 1u);
  EXPECT_EQ(m.values[0], 7.5f);

  ASSERT_TRUE(DecodeCsv("1,,3", &m).ok());
  EXPECT_TRUE(std::isnan(m.values[1]));

  ASSERT_TRUE(DecodeCsv("1\t2\t3", &m).ok());
  EXPECT_EQ(m.cols, 3u);

  ASSERT_TRUE(DecodeCsv("nan,inf,1e400,-1e-400,1_0", &m).ok());
  EXPECT_TRUE(std::isnan(m.values[0]));
  EXPECT_EQ(m.values[1], INFINITY);
  EXPECT_EQ(m.values[2], INFINITY);
  EXPECT_EQ(m.values[3], 0.0f);
  EXPECT_EQ(m.values[4], 10.0f);

  // Parsed as a double, then rounded to float32 (numpy's float64 → float32), not parsed as float.
  ASSERT_TRUE(DecodeCsv("0.1,3.40282356779733e38,3.4028235677973366e38", &m).ok());
  EXPECT_EQ(m.values[0], static_cast<float>(0.1));
  EXPECT_EQ(m.values[1], FLT_MAX);
  EXPECT_EQ(m.values[2], INFINITY);
}

TEST(DecodeCsvTest, ContainerErrors) {
  DenseMatrix m;
  const std::pair<const char*, std::string> cases[] = {
      {"a,b,c\n1,2,3", "<class 'ValueError'>\n could not convert string to float: 'a'"},
      {"1,2\n3",
       "<class 'ValueError'>\n setting an array element with a sequence. The requested array has "
       "an inhomogeneous shape after 1 dimensions. The detected shape was (2,) + inhomogeneous "
       "part."},
      {"1,2\n\n3,4",
       "<class 'ValueError'>\n setting an array element with a sequence. The requested array has "
       "an inhomogeneous shape after 1 dimensions. The detected shape was (3,) + inhomogeneous "
       "part."},
      // numpy builds the array before converting: a ragged payload reports the shape, not 'x'.
      {"1,2,3\n4,5,x\n6,7",
       "<class 'ValueError'>\n setting an array element with a sequence. The requested array has "
       "an inhomogeneous shape after 1 dimensions. The detected shape was (3,) + inhomogeneous "
       "part."},
      {"\xff,1",
       "<class 'UnicodeDecodeError'>\n 'utf-8' codec can't decode byte 0xff in position 0: "
       "invalid start byte"},
      {"\n \n", "<class '_csv.Error'>\n Could not determine delimiter"},
      {"\"1\",\"2\"", "<class 'ValueError'>\n could not convert string to float: '\"1\"'"},
      {"0x1,2", "<class 'ValueError'>\n could not convert string to float: '0x1'"},
      {"1, ,3", "<class 'ValueError'>\n could not convert string to float: ' '"},
  };
  for (const auto& [body, want] : cases) {
    Status s = DecodeCsv(body, &m);
    EXPECT_EQ(s.message(), kCsvPrefix + want) << body;
    EXPECT_TRUE(m.values.empty());
  }
}

TEST(DecodeLibsvmTest, SparseRows) {
  CsrMatrix m;
  // Labels (no ':') are skipped, indices are columns as given, empty leading rows count.
  ASSERT_TRUE(DecodeLibsvm("1\n0 3:2.5 0:1 3:0.5\n1 1:0 2:nan\n\n", &m).ok());
  EXPECT_EQ(m.rows, 3u);
  EXPECT_EQ(m.cols, 4u);
  EXPECT_EQ(m.indptr, (std::vector<size_t>{0, 0, 2, 4}));
  EXPECT_EQ(m.indices, (std::vector<unsigned>{0, 3, 1, 2}));
  EXPECT_EQ(m.values[0], 1.0f);
  EXPECT_EQ(m.values[1], 3.0f);  // duplicates add up
  EXPECT_EQ(m.values[2], 0.0f);  // an explicit zero is a value
  EXPECT_TRUE(std::isnan(m.values[3]));

  // Trailing rows without items do not count; "1:0.5" in label position is a feature; extra
  // ':' parts are ignored; tabs do not separate items.
  ASSERT_TRUE(DecodeLibsvm("1:0.5 2:1:9\n0\n1", &m).ok());
  EXPECT_EQ(m.rows, 1u);
  EXPECT_EQ(m.cols, 3u);
  EXPECT_EQ(m.values, (std::vector<float>{0.5f, 1.0f}));
}

TEST(DecodeLibsvmTest, ContainerErrors) {
  CsrMatrix m;
  const std::pair<const char*, std::string> cases[] = {
      {"1 a:1", "<class 'ValueError'>\n invalid literal for int() with base 10: 'a'"},
      {"1 1:x", "<class 'ValueError'>\n could not convert string to float: 'x'"},
      // Every index is converted before any value.
      {"1 1:x 2:y\n0 z:1", "<class 'ValueError'>\n invalid literal for int() with base 10: 'z'"},
      {"1 0\t1:2", "<class 'ValueError'>\n invalid literal for int() with base 10: '0\\t1'"},
      {"1 2 3", "<class 'ValueError'>\n cannot infer dimensions from zero sized index arrays"},
      {"1 -1:2", "<class 'ValueError'>\n negative column index found"},
      {"1 -5:2", "<class 'ValueError'>\n 'shape' elements cannot be negative"},
      {"1 99999999999999999999:1",
       "<class 'OverflowError'>\n Python int too large to convert to C long"},
  };
  for (const auto& [body, want] : cases) {
    EXPECT_EQ(DecodeLibsvm(body, &m).message(), kLibsvmPrefix + want) << body;
  }
}

TEST(ContentTypeTest, ContainerRules) {
  EXPECT_EQ(*ClassifyContentType(std::nullopt), InputFormat::kLibsvm);
  for (const char* csv :
       {"csv", "text/csv", "TEXT/CSV", "text/csv; label_size=1", "text/csv;label_size = 1",
        "text/csv; charset=utf-8", "text/csv; label_size=1; charset=utf-8"}) {
    EXPECT_EQ(*ClassifyContentType(csv), InputFormat::kCsv) << csv;
  }
  for (const char* libsvm : {"libsvm", "text/libsvm", "text/x-libsvm", "Text/LibSVM"}) {
    EXPECT_EQ(*ClassifyContentType(libsvm), InputFormat::kLibsvm) << libsvm;
  }
  const std::string valid =
      " is not an accepted ContentType: csv, libsvm, parquet, recordio-protobuf, text/csv, "
      "text/libsvm, text/x-libsvm, application/x-parquet, application/x-recordio-protobuf.";
  EXPECT_EQ(ClassifyContentType("application/json").status().message(), "application/json" + valid);
  EXPECT_EQ(ClassifyContentType("Application/Octet-Stream").status().message(),
            "Application/Octet-Stream" + valid);
  EXPECT_EQ(ClassifyContentType("").status().message(), valid);
  // The libsvm names match exactly; a parameter makes them unknown.
  EXPECT_EQ(ClassifyContentType("text/libsvm; charset=utf-8").status().message(),
            "text/libsvm; charset=utf-8" + valid);
  // Containing "csv" sends the value (lower-cased) through the csv checks.
  EXPECT_EQ(ClassifyContentType("label_size=1; Text/CSV").status().message(),
            "label_size=1; text/csv" + valid);
  EXPECT_EQ(ClassifyContentType("text/csv; label_size=5").status().message(),
            "text/csv; label_size=5 is not an accepted csv ContentType. Optional parameter "
            "label_size must be equal to 1");
  EXPECT_FALSE(ClassifyContentType("text/csv; label_size=1=1").ok());
  EXPECT_FALSE(ClassifyContentType("text/csv; label_size=1; label_size=2").ok());
  EXPECT_EQ(ClassifyContentType("application/x-parquet").status().message(),
            "Content-type application/x-parquet is not supported.");
}

TEST(AcceptTest, ContainerRules) {
  EXPECT_EQ(ResolveAccept(std::nullopt, "text/csv")->format, OutputFormat::kCsv);
  EXPECT_EQ(ResolveAccept("", "application/json")->format, OutputFormat::kJson);
  EXPECT_EQ(ResolveAccept("*/*", "application/jsonlines")->format, OutputFormat::kJsonLines);
  EXPECT_EQ(ResolveAccept("*/*", "text/plain")->format, OutputFormat::kOther);
  EXPECT_EQ(ResolveAccept("Application/JSON; q=0.9", "text/csv")->media_type, "application/json");
  EXPECT_EQ(ResolveAccept("application/x-recordio-protobuf", "text/csv")->format,
            OutputFormat::kRecordIo);
  const std::string supported =
      " is not supported. Please use supported accept types: ['application/json', "
      "'application/jsonlines', 'application/x-recordio-protobuf', 'text/csv'].";
  EXPECT_EQ(ResolveAccept("text/plain", "text/csv").status().message(),
            "Accept type text/plain" + supported);
  // A list is not understood: cgi.parse_header keeps it whole.
  EXPECT_EQ(ResolveAccept("text/csv, application/json", "text/csv").status().message(),
            "Accept type text/csv, application/json" + supported);
}

// Untrusted bodies: random mixes of the characters the parsers care about never crash (ASan and
// UBSan watch) and always leave a consistent matrix.
TEST(DecodeFuzzTest, RandomBodies) {
  std::mt19937 rng(42);
  const std::string alphabet = "0123456789.,;:| \t\n\r-+eE_\"'nafiNAFI\xc3\xa9\xff\x80";
  DenseMatrix dense;
  CsrMatrix csr;
  for (int i = 0; i < 3000; ++i) {
    std::string body(rng() % 64, ' ');
    for (char& c : body) c = alphabet[rng() % alphabet.size()];
    if (DecodeCsv(body, &dense).ok()) {
      EXPECT_EQ(dense.values.size(), dense.rows * dense.cols);
      EXPECT_GT(dense.rows * dense.cols, 0u);
    }
    if (DecodeLibsvm(body, &csr).ok()) {
      ASSERT_EQ(csr.indptr.size(), csr.rows + 1);
      EXPECT_EQ(csr.indptr.back(), csr.values.size());
      for (unsigned col : csr.indices) EXPECT_LT(col, csr.cols);
    }
    (void)ClassifyContentType(body);
    (void)ResolveAccept(body, "text/csv");
    (void)PyRepr(body);
  }
}

}  // namespace
}  // namespace thaw::worker
