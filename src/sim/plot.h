#pragma once
// The Pareto plot of `thaw simulate --sweep`: p75 per-app cold-start rate against idle GB-hours,
// one point per policy; the fixed keep-alives joined by a line, the adaptive policy marked
// apart, with axis titles and a legend. Written by hand as SVG (text, for docs/) and PNG
// (zlib-deflated RGB; text in a built-in 3×5 font).

#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"

namespace thaw::sim {

struct PlotPoint {
  std::string label;
  double x = 0;            // idle GB-hours
  double y = 0;            // p75 per-app cold-start rate, 0..1
  bool highlight = false;  // the adaptive policy
};

std::string ParetoSvg(const std::vector<PlotPoint>& points, const std::string& title);
// PNG bytes of the same plot.
std::string ParetoPng(const std::vector<PlotPoint>& points);
Status WriteFile(const std::filesystem::path& path, const std::string& bytes);

}  // namespace thaw::sim
