#include "sandbox/cgroups.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace thaw::sandbox::internal {
namespace {

namespace fs = std::filesystem;

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? s.npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

bool Contains(const std::vector<std::string_view>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t j = 1; j <= 3; ++j) {
        char c = s[i + j];
        if (c < '0' || c > '7') ok = false;
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

struct CgroupMount {
  std::string fstype;  // "cgroup" or "cgroup2"
  std::string root;    // the hierarchy path mounted there
  fs::path mount_point;
  std::vector<std::string> options;  // super options (v1: the controllers)
};

std::vector<CgroupMount> CgroupMounts(std::string_view mountinfo) {
  std::vector<CgroupMount> out;
  for (std::string_view line : Split(mountinfo, '\n')) {
    auto fields = Split(line, ' ');
    auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || dash == fields.end() || fields.end() - dash < 4) continue;
    std::string_view fstype = dash[1];
    if (fstype != "cgroup" && fstype != "cgroup2") continue;
    CgroupMount m;
    m.fstype = fstype;
    m.root = Unescape(fields[3]);
    m.mount_point = Unescape(fields[4]);
    for (auto opt : Split(dash[3], ',')) m.options.emplace_back(opt);
    out.push_back(std::move(m));
  }
  return out;
}

// The directory of `cgroup_path` (as in /proc/self/cgroup) under mount `m`, or "" when the mount
// does not show it (a bind of some other subtree).
fs::path OwnDir(const CgroupMount& m, std::string_view cgroup_path) {
  std::string_view root = m.root;
  if (root != "/") {
    if (cgroup_path.substr(0, root.size()) != root) return {};
    cgroup_path.remove_prefix(root.size());
    if (!cgroup_path.empty() && cgroup_path[0] != '/') return {};
  }
  while (!cgroup_path.empty() && cgroup_path[0] == '/') cgroup_path.remove_prefix(1);
  fs::path dir = m.mount_point;
  if (!cgroup_path.empty()) dir /= std::string(cgroup_path);
  return dir;
}

std::string ErrnoText(int err) { return std::strerror(err); }

bool WriteFile(const fs::path& path, std::string_view value, int* err) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = errno;
    return false;
  }
  int e = WriteFd(fd, value);
  close(fd);
  *err = e;
  return e == 0;
}

bool ProcessGone(std::string_view digits) {
  int pid = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
  if (ec != std::errc() || p != digits.data() + digits.size() || pid <= 0) return false;
  return kill(pid, 0) != 0 && errno == ESRCH;
}

// Removes empty thaw-<pid> (and thaw-server-<pid>) directories left by a zygote that died
// without cleaning up. rmdir refuses populated cgroups, so a live worker is never touched.
void SweepStale(const fs::path& own) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(own, ec)) {
    std::string name = entry.path().filename();
    std::string_view digits;
    if (name.rfind("thaw-server-", 0) == 0) {
      digits = std::string_view(name).substr(12);
    } else if (name.rfind("thaw-", 0) == 0) {
      digits = std::string_view(name).substr(5);
    } else {
      continue;
    }
    if (!ProcessGone(digits)) continue;
    std::error_code ec2;
    for (const auto& child : fs::directory_iterator(entry.path(), ec2)) {
      if (child.is_directory(ec2)) rmdir(child.path().c_str());
    }
    rmdir(entry.path().c_str());
  }
}

}  // namespace

const char* CgroupModeName(CgroupMode mode) {
  switch (mode) {
    case CgroupMode::kV1:
      return "v1";
    case CgroupMode::kV2:
      return "v2";
    case CgroupMode::kNone:
      break;
  }
  return "none";
}

CgroupLayout ParseCgroupLayout(
    std::string_view mountinfo, std::string_view self_cgroup,
    const std::function<std::string(const std::filesystem::path&)>& read_file) {
  std::string v2_path;
  std::vector<std::pair<std::vector<std::string_view>, std::string_view>> v1_paths;
  for (std::string_view line : Split(self_cgroup, '\n')) {
    size_t a = line.find(':');
    size_t b = a == line.npos ? line.npos : line.find(':', a + 1);
    if (b == line.npos) continue;
    std::string_view controllers = line.substr(a + 1, b - a - 1);
    std::string_view path = line.substr(b + 1);
    if (line.substr(0, a) == "0" && controllers.empty()) {
      v2_path = path;
    } else {
      v1_paths.emplace_back(Split(controllers, ','), path);
    }
  }
  auto mounts = CgroupMounts(mountinfo);
  CgroupLayout layout;

  for (const auto& m : mounts) {
    if (m.fstype != "cgroup2" || v2_path.empty()) continue;
    fs::path own = OwnDir(m, v2_path);
    if (own.empty()) continue;
    const std::string controllers = read_file(own / "cgroup.controllers");
    auto available = Split(controllers, ' ');
    for (auto& c : available) {
      while (!c.empty() && (c.back() == '\n' || c.back() == ' ')) c.remove_suffix(1);
    }
    if (!Contains(available, "memory")) continue;
    layout.mode = CgroupMode::kV2;
    layout.memory = layout.cpu = layout.pids = own;
    if (!Contains(available, "cpu")) layout.cpu.clear();
    if (!Contains(available, "pids")) layout.pids.clear();
    return layout;
  }

  auto find_v1 = [&](std::string_view controller) -> fs::path {
    for (const auto& m : mounts) {
      if (m.fstype != "cgroup") continue;
      if (std::find(m.options.begin(), m.options.end(), controller) == m.options.end()) continue;
      for (const auto& [controllers, path] : v1_paths) {
        if (!Contains(controllers, controller)) continue;
        fs::path own = OwnDir(m, path);
        return own.empty() ? m.mount_point : own;  // not visible: fall back to the root
      }
      return m.mount_point;
    }
    return {};
  };
  layout.memory = find_v1("memory");
  if (!layout.memory.empty()) {
    layout.mode = CgroupMode::kV1;
    layout.cpu = find_v1("cpu");
    layout.pids = find_v1("pids");
    return layout;
  }
  layout.why_none = mounts.empty()
                        ? "no cgroup filesystem is mounted"
                        : "no cgroup hierarchy offers the memory controller (v1: no memory "
                          "hierarchy; v2: memory missing from cgroup.controllers)";
  return layout;
}

CgroupLayout DetectCgroupLayout() {
  std::string mountinfo, self_cgroup;
  CgroupLayout none;
  if (!ReadSmallFile("/proc/self/mountinfo", &mountinfo) ||
      !ReadSmallFile("/proc/self/cgroup", &self_cgroup)) {
    none.why_none = "cannot read /proc/self/mountinfo or /proc/self/cgroup";
    return none;
  }
  return ParseCgroupLayout(mountinfo, self_cgroup, [](const fs::path& p) {
    std::string s;
    ReadSmallFile(p, &s);
    return s;
  });
}

CpuQuota CpuQuotaFor(int64_t memory_mb, int64_t node_millicpus) {
  int64_t millicpus = std::max<int64_t>(memory_mb, 0) * 1000 / kMbPerVcpu;
  millicpus = std::max(millicpus, kMinWorkerMilliCpus);
  millicpus = std::min(millicpus, std::max<int64_t>(node_millicpus, 10));  // ≥ 1 ms per period
  return {millicpus * kCpuPeriodUs / 1000, kCpuPeriodUs};
}

int64_t MilliCpusFrom(int64_t affinity_cpus,
                      const std::vector<std::pair<int64_t, int64_t>>& quotas) {
  int64_t millicpus = std::max<int64_t>(affinity_cpus, 1) * 1000;
  for (auto [quota, period] : quotas) {
    if (quota > 0 && period > 0) millicpus = std::min(millicpus, quota * 1000 / period);
  }
  return millicpus;
}

int64_t NodeMilliCpus(const CgroupLayout& layout) {
  cpu_set_t set;
  int64_t cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
  if (cpus <= 0) cpus = std::max<long>(sysconf(_SC_NPROCESSORS_ONLN), 1);
  std::vector<std::pair<int64_t, int64_t>> quotas;
  auto number = [](std::string_view text) {
    int64_t n = -1;
    std::from_chars(text.data(), text.data() + text.size(), n);
    return n;
  };
  // Walk up from thaw's own cpu cgroup while the directory still has the controller's files.
  for (fs::path dir = layout.cpu; !dir.empty() && dir != dir.root_path(); dir = dir.parent_path()) {
    std::string text, period;
    if (layout.mode == CgroupMode::kV2) {
      if (!ReadSmallFile(dir / "cpu.max", &text)) break;
      size_t space = text.find(' ');
      if (space == text.npos) continue;
      quotas.emplace_back(text.rfind("max", 0) == 0 ? -1 : number(text),
                          number(std::string_view(text).substr(space + 1)));
    } else {
      if (!ReadSmallFile(dir / "cpu.cfs_quota_us", &text) ||
          !ReadSmallFile(dir / "cpu.cfs_period_us", &period)) {
        break;
      }
      quotas.emplace_back(number(text), number(period));
    }
  }
  return MilliCpusFrom(cpus, quotas);
}

void CgroupSlot::CloseFds() {
  for (int& fd : procs_fds) close(fd);
  procs_fds.clear();
  for (int* fd : {&memory_fd, &swap_fd, &cpu_fd, &cpu_quota_fd}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

std::string JoinCgroup(const CgroupSlot& slot, pid_t pid) {
  const std::string text = std::to_string(pid);  // 0: the calling process
  for (int fd : slot.procs_fds) {
    if (int err = WriteFd(fd, text)) {
      return "cgroup " + slot.name + ": join (write cgroup.procs): " + ErrnoText(err);
    }
  }
  return {};
}

std::string ApplyLimits(const CgroupSlot& slot, CgroupMode mode, int64_t memory_mb) {
  const bool v1 = mode == CgroupMode::kV1;
  std::string bytes = std::to_string(memory_mb * 1024 * 1024);
  int64_t weight = v1 ? std::clamp<int64_t>(memory_mb, 2, 262144)
                      : std::clamp<int64_t>(memory_mb * 100 / 1024, 1, 10000);
  std::string weight_text = std::to_string(weight);
  const CpuQuota cpu = CpuQuotaFor(memory_mb, slot.node_millicpus);
  std::string quota_text = std::to_string(cpu.quota_us);
  if (!v1) quota_text += " " + std::to_string(cpu.period_us);
  struct Step {
    int fd;
    std::string_view value;
    const char* what;
  };
  // v1 needs memory.limit_in_bytes <= memory.memsw.limit_in_bytes at every step: memory first.
  const Step steps[] = {
      {slot.memory_fd, bytes, v1 ? "memory.limit_in_bytes" : "memory.max"},
      {slot.swap_fd, v1 ? std::string_view(bytes) : "0",
       v1 ? "memory.memsw.limit_in_bytes" : "memory.swap.max"},
      {slot.cpu_fd, weight_text, v1 ? "cpu.shares" : "cpu.weight"},
      {slot.cpu_quota_fd, quota_text, v1 ? "cpu.cfs_quota_us" : "cpu.max"},
  };
  for (const Step& s : steps) {
    if (s.fd < 0) continue;
    if (int err = WriteFd(s.fd, s.value)) {
      return std::string("cgroup ") + slot.name + ": write " + s.what + ": " + ErrnoText(err);
    }
  }
  return {};
}

const char* Cgroups::usage_file() const {
  return layout_.mode == CgroupMode::kV2 ? "memory.current" : "memory.usage_in_bytes";
}

Result<Cgroups> Cgroups::Create(const CgroupLayout& layout, pid_t zygote_pid, int64_t pids_limit) {
  Cgroups cg;
  cg.layout_ = layout;
  cg.pids_limit_ = pids_limit;
  cg.node_millicpus_ = NodeMilliCpus(layout);
  if (layout.mode == CgroupMode::kNone) {
    return FailedPrecondition("no usable cgroup hierarchy: " + layout.why_none);
  }
  const std::string name = "thaw-" + std::to_string(zygote_pid);
  int err = 0;
  if (layout.mode == CgroupMode::kV2) {
    // No internal processes: controllers can be enabled below our cgroup only while it holds
    // no process, so move the server and the zygote into a leaf first if the kernel says so.
    const fs::path& own = layout.memory;
    SweepStale(own);
    const fs::path subtree = own / "cgroup.subtree_control";
    if (!WriteFile(subtree, "+memory", &err) && err == EBUSY) {
      fs::path leaf = own / ("thaw-server-" + std::to_string(getppid()));
      if (mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) {
        return FailedPrecondition("cgroup v2: cannot create " + leaf.native() + ": " +
                                  ErrnoText(errno));
      }
      WriteFile(leaf / "cgroup.procs", std::to_string(getppid()), &err);
      WriteFile(leaf / "cgroup.procs", std::to_string(getpid()), &err);
      WriteFile(subtree, "+memory", &err);
    }
    if (err != 0) {
      return FailedPrecondition("cgroup v2: cannot enable the memory controller in " +
                                subtree.native() + ": " + ErrnoText(err) +
                                " (run thaw in a cgroup of its own, e.g. a systemd service "
                                "with Delegate=yes)");
    }
    if (!layout.cpu.empty()) WriteFile(subtree, "+cpu", &err);
    if (!layout.pids.empty()) WriteFile(subtree, "+pids", &err);
    fs::path parent = own / name;
    if (mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
      return FailedPrecondition("cannot create cgroup " + parent.native() + ": " +
                                ErrnoText(errno));
    }
    cg.parents_.push_back(parent);
    if (!WriteFile(parent / "cgroup.subtree_control", "+memory", &err)) {
      cg.RemoveParents();
      return FailedPrecondition("cgroup v2: cannot enable the memory controller in " +
                                parent.native() + ": " + ErrnoText(err));
    }
    if (!layout.cpu.empty() && !WriteFile(parent / "cgroup.subtree_control", "+cpu", &err)) {
      cg.layout_.cpu.clear();
    }
    if (!layout.pids.empty() && !WriteFile(parent / "cgroup.subtree_control", "+pids", &err)) {
      cg.layout_.pids.clear();
    }
    return cg;
  }
  for (const fs::path* own : {&layout.memory, &layout.cpu, &layout.pids}) {
    if (own->empty()) {
      cg.parents_.emplace_back();  // keeps the memory/cpu/pids positions
      continue;
    }
    SweepStale(*own);
    fs::path parent = *own / name;
    if (mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
      int e = errno;
      cg.RemoveParents();
      return FailedPrecondition("cannot create cgroup " + parent.native() + ": " + ErrnoText(e));
    }
    cg.parents_.push_back(parent);
  }
  return cg;
}

Result<CgroupSlot> Cgroups::NewSlot() {
  CgroupSlot slot;
  slot.name = "w" + std::to_string(next_slot_++);
  const bool v1 = layout_.mode == CgroupMode::kV1;
  std::vector<fs::path> made;
  auto fail = [&](const std::string& what, int err) -> Status {
    slot.CloseFds();
    for (const auto& d : made) rmdir(d.c_str());
    return Internal("cgroup " + slot.name + ": " + what + ": " + ErrnoText(err));
  };
  auto open_w = [](const fs::path& p) { return open(p.c_str(), O_WRONLY | O_CLOEXEC); };
  for (size_t i = 0; i < parents_.size(); ++i) {
    if (parents_[i].empty()) continue;
    fs::path dir = parents_[i] / slot.name;
    if (mkdir(dir.c_str(), 0755) != 0) return fail("mkdir " + dir.native(), errno);
    made.push_back(dir);
    int procs = open_w(dir / "cgroup.procs");
    if (procs < 0) return fail("open cgroup.procs", errno);
    slot.procs_fds.push_back(procs);
    const bool memory = !v1 || i == 0, cpu = !v1 || i == 1, pids = !v1 || i == 2;
    int err = 0;
    if (memory) {
      slot.memory_fd = open_w(dir / (v1 ? "memory.limit_in_bytes" : "memory.max"));
      if (slot.memory_fd < 0) return fail("open the memory limit", errno);
      slot.swap_fd = open_w(dir / (v1 ? "memory.memsw.limit_in_bytes" : "memory.swap.max"));
      // Absent without swap accounting; the memory limit alone is then the bound.
      if (!v1) WriteFile(dir / "memory.oom.group", "1", &err);
    }
    if (cpu && !layout_.cpu.empty()) {
      slot.cpu_fd = open_w(dir / (v1 ? "cpu.shares" : "cpu.weight"));
      if (slot.cpu_fd < 0) return fail("open the cpu weight", errno);
      slot.cpu_quota_fd = open_w(dir / (v1 ? "cpu.cfs_quota_us" : "cpu.max"));
      if (slot.cpu_quota_fd < 0) return fail("open the cpu quota", errno);
      slot.node_millicpus = node_millicpus_;
    }
    if (pids && !layout_.pids.empty() &&
        !WriteFile(dir / "pids.max", std::to_string(pids_limit_), &err)) {
      return fail("write pids.max", err);
    }
  }
  return slot;
}

bool Cgroups::RemoveSlot(const std::string& name) {
  bool all = true;
  for (const auto& parent : parents_) {
    if (parent.empty()) continue;
    fs::path dir = parent / name;
    if (rmdir(dir.c_str()) != 0 && errno != ENOENT) all = false;
  }
  return all;
}

bool Cgroups::OomKilled(const std::string& name) const {
  if (parents_.empty()) return false;
  const bool v1 = layout_.mode == CgroupMode::kV1;
  std::string text;
  if (!ReadSmallFile(parents_[0] / name / (v1 ? "memory.oom_control" : "memory.events"), &text)) {
    return false;
  }
  size_t at = text.find("oom_kill ");
  return at != text.npos && text.compare(at + 9, 1, "0") != 0;
}

bool Cgroups::RemoveParents() {
  bool all = true;
  for (const auto& parent : parents_) {
    if (!parent.empty() && rmdir(parent.c_str()) != 0 && errno != ENOENT) all = false;
  }
  return all;
}

int WriteFd(int fd, std::string_view value) {
  while (true) {
    ssize_t n = write(fd, value.data(), value.size());
    if (n == static_cast<ssize_t>(value.size())) return 0;
    if (n < 0 && errno == EINTR) continue;
    return n < 0 ? errno : EIO;
  }
}

bool ReadSmallFile(const std::filesystem::path& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buf[4096];
  while (true) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      close(fd);
      return n == 0;
    }
    out->append(buf, static_cast<size_t>(n));
    if (out->size() > (4u << 20)) {  // /proc/self/mountinfo may be long, never this long
      close(fd);
      return false;
    }
  }
}

}  // namespace thaw::sandbox::internal
