#include "sim/plot.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>

namespace thaw::sim {
namespace {

constexpr int kW = 720, kH = 480;
constexpr int kLeft = 80, kRight = 30, kTop = 40, kBottom = 60;

// The plot's frame: x is logarithmic (idle GB-hours span orders of magnitude), y linear in %.
struct Frame {
  double x0, x1, y1;  // log10 range of x; top of y (a rate, 0..1)
  explicit Frame(const std::vector<PlotPoint>& pts) {
    double lo = 1e300, hi = 0, top = 0;
    for (const auto& p : pts) {
      lo = std::min(lo, std::max(p.x, 1e-6));
      hi = std::max(hi, std::max(p.x, 1e-6));
      top = std::max(top, p.y);
    }
    if (pts.empty()) lo = hi = 1;
    x0 = std::floor(std::log10(lo));
    x1 = std::ceil(std::log10(hi));
    if (x1 <= x0) x1 = x0 + 1;
    y1 = std::min(1.0, std::ceil(top * 10 + 1e-9) / 10);
    if (y1 <= 0) y1 = 0.1;
  }
  double Px(double x) const {
    double f = (std::log10(std::max(x, 1e-6)) - x0) / (x1 - x0);
    return kLeft + f * (kW - kLeft - kRight);
  }
  double Py(double y) const { return kH - kBottom - y / y1 * (kH - kTop - kBottom); }
};

std::string Escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else
      o += c;
  }
  return o;
}

// --- PNG raster ---

struct Raster {
  std::vector<uint8_t> px = std::vector<uint8_t>(size_t{kW} * kH * 3, 255);
  void Set(int x, int y, std::array<uint8_t, 3> c) {
    if (x < 0 || y < 0 || x >= kW || y >= kH) return;
    std::copy(c.begin(), c.end(), px.begin() + (size_t(y) * kW + size_t(x)) * 3);
  }
  void Line(double xa, double ya, double xb, double yb, std::array<uint8_t, 3> c, int w = 1) {
    int steps = static_cast<int>(std::max(std::abs(xb - xa), std::abs(yb - ya))) + 1;
    for (int i = 0; i <= steps; ++i) {
      double t = static_cast<double>(i) / steps;
      int x = static_cast<int>(std::lround(xa + (xb - xa) * t));
      int y = static_cast<int>(std::lround(ya + (yb - ya) * t));
      for (int dx = -(w / 2); dx <= w / 2; ++dx) {
        for (int dy = -(w / 2); dy <= w / 2; ++dy) Set(x + dx, y + dy, c);
      }
    }
  }
  void Disc(double cx, double cy, int r, std::array<uint8_t, 3> c) {
    for (int dy = -r; dy <= r; ++dy) {
      for (int dx = -r; dx <= r; ++dx) {
        if (dx * dx + dy * dy <= r * r)
          Set(static_cast<int>(cx) + dx, static_cast<int>(cy) + dy, c);
      }
    }
  }
  // Digits, capitals and a little punctuation in a 3×5 font (one octal digit per row, top row
  // first), scaled ×2; lower case is drawn as capitals.
  static uint16_t Glyph(char ch) {
    static const std::array<uint16_t, 10> kDigits = {075557, 022222, 071747, 071717, 055711,
                                                     074717, 074757, 071111, 075757, 075717};
    static const std::array<uint16_t, 26> kLetters = {
        025755, 065656, 034443, 065556, 074647, 074644, 034553, 055755, 072227,
        011152, 055655, 044447, 057755, 065555, 025552, 065644, 025573, 065655,
        034216, 072222, 055557, 055552, 055775, 055255, 055222, 071247};
    if (ch >= '0' && ch <= '9') return kDigits[static_cast<size_t>(ch - '0')];
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
    if (ch >= 'A' && ch <= 'Z') return kLetters[static_cast<size_t>(ch - 'A')];
    switch (ch) {
      case '.':
        return 000002;
      case '%':
        return 051245;
      case '-':
        return 000700;
      case '(':
        return 012221;
      case ')':
        return 042224;
      default:
        return 0;
    }
  }
  void Text(int x, int y, const std::string& s, std::array<uint8_t, 3> color = {0, 0, 0}) {
    for (char ch : s) {
      uint16_t g = Glyph(ch);
      for (int row = 0; row < 5; ++row) {
        for (int col = 0; col < 3; ++col) {
          if (g >> ((4 - row) * 3 + (2 - col)) & 1) {
            for (int k = 0; k < 4; ++k) Set(x + col * 2 + k % 2, y + row * 2 + k / 2, color);
          }
        }
      }
      x += 8;
    }
  }
};

void Chunk(std::string& out, const char* type, const std::string& data) {
  auto be32 = [&out](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out += static_cast<char>((v >> s) & 0xff);
  };
  be32(static_cast<uint32_t>(data.size()));
  std::string body = std::string(type, 4) + data;
  out += body;
  be32(static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}

std::string Tick(double v) {
  if (v >= 1) return fmt::format("{:.0f}", v);
  return fmt::format("{:g}", v);
}

}  // namespace

std::string ParetoSvg(const std::vector<PlotPoint>& points, const std::string& title) {
  Frame f(points);
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
      "fill=\"white\"/>\n<text x=\"{}\" y=\"22\" font-size=\"15\">{}</text>\n",
      kW, kH, kLeft, Escape(title));
  // Axes and grid.
  for (double e = f.x0; e <= f.x1 + 1e-9; e += 1) {
    double x = f.Px(std::pow(10, e));
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#ddd\"/>"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
        x, kTop, kH - kBottom, kH - kBottom + 16, Tick(std::pow(10, e)));
  }
  for (int i = 0; i <= 10; ++i) {
    double v = f.y1 * i / 10;
    double y = f.Py(v);
    s += fmt::format(
        "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5:.0f}%</text>\n",
        kLeft, y, kW - kRight, kLeft - 6, y + 4, v * 100);
  }
  s += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>\n",
      kLeft, kTop, kW - kLeft - kRight, kH - kTop - kBottom);
  s += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">idle worker memory (GB-hours, log "
      "scale)</text>\n<text transform=\"translate(18,{}) rotate(-90)\" "
      "text-anchor=\"middle\">p75 of per-app cold-start rate</text>\n",
      (kLeft + kW - kRight) / 2, kH - 18, (kTop + kH - kBottom) / 2);
  std::string path;
  for (const auto& p : points) {
    if (p.highlight) continue;
    path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "M" : " L", f.Px(p.x), f.Py(p.y));
  }
  if (!path.empty()) {
    s +=
        fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"2\"/>\n", path);
  }
  for (const auto& p : points) {
    s += fmt::format(
        "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\"/><text x=\"{:.1f}\" "
        "y=\"{:.1f}\" fill=\"{}\">{}</text>\n",
        f.Px(p.x), f.Py(p.y), p.highlight ? 6 : 4, p.highlight ? "#d62728" : "#1f5fbf",
        f.Px(p.x) + 7, f.Py(p.y) - 6, p.highlight ? "#d62728" : "#333", Escape(p.label));
  }
  // Legend, top right inside the frame.
  const int lx = kW - kRight - 238, ly = kTop + 10;
  s += fmt::format(
      "<rect x=\"{0}\" y=\"{1}\" width=\"230\" height=\"44\" fill=\"white\" "
      "stroke=\"#999\"/>\n<line x1=\"{2}\" y1=\"{3}\" x2=\"{4}\" y2=\"{3}\" stroke=\"#1f5fbf\" "
      "stroke-width=\"2\"/><circle cx=\"{5}\" cy=\"{3}\" r=\"4\" fill=\"#1f5fbf\"/>"
      "<text x=\"{6}\" y=\"{7}\">fixed keep-alive (1-120 min)</text>\n"
      "<circle cx=\"{5}\" cy=\"{8}\" r=\"6\" fill=\"#d62728\"/><text x=\"{6}\" y=\"{9}\" "
      "fill=\"#d62728\">adaptive</text>\n",
      lx, ly, lx + 8, ly + 14, lx + 32, lx + 20, lx + 40, ly + 18, ly + 31, ly + 35);
  s += "</svg>\n";
  return s;
}

std::string ParetoPng(const std::vector<PlotPoint>& points) {
  Frame f(points);
  Raster r;
  const std::array<uint8_t, 3> grid{221, 221, 221}, black{0, 0, 0}, blue{31, 95, 191},
      red{214, 39, 40};
  for (double e = f.x0; e <= f.x1 + 1e-9; e += 1) {
    double x = f.Px(std::pow(10, e));
    r.Line(x, kTop, x, kH - kBottom, grid);
    std::string label = Tick(std::pow(10, e));
    r.Text(static_cast<int>(x) - static_cast<int>(label.size()) * 4, kH - kBottom + 8, label);
  }
  for (int i = 0; i <= 10; ++i) {
    double v = f.y1 * i / 10;
    double y = f.Py(v);
    r.Line(kLeft, y, kW - kRight, y, grid);
    std::string label = fmt::format("{:.0f}%", v * 100);
    r.Text(kLeft - 8 - static_cast<int>(label.size()) * 8, static_cast<int>(y) - 5, label);
  }
  r.Line(kLeft, kTop, kW - kRight, kTop, black);
  r.Line(kLeft, kH - kBottom, kW - kRight, kH - kBottom, black);
  r.Line(kLeft, kTop, kLeft, kH - kBottom, black);
  r.Line(kW - kRight, kTop, kW - kRight, kH - kBottom, black);
  const PlotPoint* prev = nullptr;
  for (const auto& p : points) {
    if (p.highlight) continue;
    if (prev) r.Line(f.Px(prev->x), f.Py(prev->y), f.Px(p.x), f.Py(p.y), blue, 2);
    prev = &p;
  }
  for (const auto& p : points)
    r.Disc(f.Px(p.x), f.Py(p.y), p.highlight ? 6 : 4, p.highlight ? red : blue);
  // Axis titles (the y one above its axis: the font does not rotate) and the legend.
  const std::string x_title = "idle worker memory GB-hours (log scale)";
  r.Text((kLeft + kW - kRight) / 2 - static_cast<int>(x_title.size()) * 4, kH - kBottom + 30,
         x_title);
  r.Text(kLeft - 40, kTop - 26, "p75 of per-app cold-start rate");
  const int lx = kW - kRight - 266, ly = kTop + 10;
  for (int x = lx; x <= lx + 256; ++x) {
    r.Set(x, ly, black);
    r.Set(x, ly + 40, black);
  }
  for (int y = ly; y <= ly + 40; ++y) {
    r.Set(lx, y, black);
    r.Set(lx + 256, y, black);
  }
  r.Line(lx + 8, ly + 12, lx + 32, ly + 12, blue, 2);
  r.Disc(lx + 20, ly + 12, 4, blue);
  r.Text(lx + 40, ly + 7, "fixed keep-alive 1-120 min");
  r.Disc(lx + 20, ly + 29, 6, red);
  r.Text(lx + 40, ly + 24, "adaptive", red);

  std::string raw;
  raw.reserve(size_t{kH} * (kW * 3 + 1));
  for (int y = 0; y < kH; ++y) {
    raw += '\0';  // filter: none
    raw.append(reinterpret_cast<const char*>(r.px.data()) + size_t(y) * kW * 3, size_t{kW} * 3);
  }
  uLongf len = compressBound(static_cast<uLong>(raw.size()));
  std::string z(len, '\0');
  compress2(reinterpret_cast<Bytef*>(z.data()), &len, reinterpret_cast<const Bytef*>(raw.data()),
            static_cast<uLong>(raw.size()), 9);
  z.resize(len);

  std::string out("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  for (uint32_t v : {static_cast<uint32_t>(kW), static_cast<uint32_t>(kH)}) {
    for (int s = 24; s >= 0; s -= 8) ihdr += static_cast<char>((v >> s) & 0xff);
  }
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, deflate, no filter, no interlace
  Chunk(out, "IHDR", ihdr);
  Chunk(out, "IDAT", z);
  Chunk(out, "IEND", "");
  return out;
}

Status WriteFile(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) return Internal(fmt::format("cannot write {}", path.string()));
  return Status::Ok();
}

}  // namespace thaw::sim
