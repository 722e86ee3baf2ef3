#include "metrics/sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace thaw::metrics {
namespace {

// The exact value at the rank the sketch answers for (lower rank q·(n-1)).
double Exact(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(std::floor(q * static_cast<double>(values.size() - 1)))];
}

void ExpectWithinOnePercent(const std::vector<double>& values, const LogSketch& sketch,
                            const char* what) {
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    double exact = Exact(values, q);
    double got = *sketch.Quantile(q);
    EXPECT_LE(std::fabs(got - exact), 0.01 * exact) << what << " q=" << q << " exact=" << exact;
    // The design target is α = 0.5 %; the 1 % above is the budget.
    EXPECT_LE(std::fabs(got - exact), LogSketch::kRelativeAccuracy * exact * 1.0001)
        << what << " q=" << q;
  }
}

struct Distribution {
  const char* name;
  std::function<double(std::mt19937_64&)> draw;
};

TEST(LogSketch, QuantilesWithinOnePercentOnSeveralDistributions) {
  std::vector<Distribution> dists = {
      {"uniform 100us..10s",
       [](std::mt19937_64& g) { return std::uniform_real_distribution<>(100, 1e7)(g); }},
      {"exponential mean 2ms",
       [](std::mt19937_64& g) { return 1 + std::exponential_distribution<>(1.0 / 2000)(g); }},
      {"lognormal (latency-like)",
       [](std::mt19937_64& g) { return std::lognormal_distribution<>(7, 1.2)(g); }},
      {"pareto heavy tail",
       [](std::mt19937_64& g) {
         return 500 / std::pow(std::uniform_real_distribution<>(1e-9, 1)(g), 1 / 1.5);
       }},
      {"bimodal warm/cold",
       [](std::mt19937_64& g) {
         return std::bernoulli_distribution(0.05)(g) ? std::normal_distribution<>(450000, 40000)(g)
                                                     : std::normal_distribution<>(900, 80)(g);
       }},
      {"integers 1..20",
       [](std::mt19937_64& g) { return double(std::uniform_int_distribution<>(1, 20)(g)); }},
  };
  for (const auto& d : dists) {
    std::mt19937_64 gen(42);
    std::vector<double> values;
    LogSketch sketch;
    for (int i = 0; i < 30000; ++i) {
      double v = std::max(1.0, d.draw(gen));
      values.push_back(v);
      sketch.Add(v);
    }
    ExpectWithinOnePercent(values, sketch, d.name);
    EXPECT_EQ(sketch.count(), values.size());
    EXPECT_EQ(sketch.min(), *std::min_element(values.begin(), values.end()));
    EXPECT_EQ(sketch.max(), *std::max_element(values.begin(), values.end()));
  }
}

TEST(LogSketch, MergedSketchesAnswerLikeOneOverAllTheData) {
  std::mt19937_64 gen(7);
  std::lognormal_distribution<> dist(8, 1.5);
  std::vector<double> all;
  LogSketch merged, whole;
  for (int minute = 0; minute < 60; ++minute) {
    LogSketch part;
    for (int i = 0; i < 500; ++i) {
      double v = dist(gen);
      all.push_back(v);
      part.Add(v);
      whole.Add(v);
    }
    merged.Merge(part);
  }
  EXPECT_EQ(merged, whole);
  ExpectWithinOnePercent(all, merged, "merged");
}

TEST(LogSketch, SerializesExactly) {
  LogSketch s;
  for (double v : {0.0, 0.25, 1.0, 3.5, 1e6, 42.0, 42.0}) s.Add(v);
  std::string bytes;
  s.AppendTo(bytes);
  std::string_view in = bytes;
  LogSketch back;
  ASSERT_TRUE(back.ReadFrom(in));
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(back, s);
}

TEST(LogSketch, RejectsTruncatedOrInconsistentBytes) {
  LogSketch s;
  s.Add(10);
  s.Add(1000);
  std::string bytes;
  s.AppendTo(bytes);
  for (size_t n = 1; n < bytes.size(); ++n) {
    std::string_view in(bytes.data(), n);
    LogSketch back;
    EXPECT_FALSE(back.ReadFrom(in)) << n;
  }
}

TEST(LogSketch, ZeroesAndEmpty) {
  LogSketch s;
  EXPECT_FALSE(s.Quantile(0.5).has_value());
  s.Add(0, 10);
  s.Add(5);
  EXPECT_EQ(*s.Quantile(0.5), 0);
  EXPECT_EQ(*s.Quantile(1), 5);
  EXPECT_EQ(s.count(), 11u);
}

}  // namespace
}  // namespace thaw::metrics
