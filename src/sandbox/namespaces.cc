#include "sandbox/namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string_view>

#include "sandbox/cgroups.h"
#include "sandbox/zygote.h"

namespace thaw::sandbox::internal {
namespace {

namespace fs = std::filesystem;

constexpr char kHostname[] = "thaw-worker";
const char* const kBuiltinHidden[] = {"/sys/fs/cgroup", "/root", "/home"};

std::string Err(std::string_view what) { return std::string(what) + ": " + std::strerror(errno); }

int OpenNs(const char* name) {
  return open((std::string("/proc/self/ns/") + name).c_str(), O_RDONLY | O_CLOEXEC);
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// Mount points from /proc/self/mountinfo (unescaped), in order.
std::vector<std::string> MountPoints() {
  std::string text;
  std::vector<std::string> out;
  if (!ReadSmallFile("/proc/self/mountinfo", &text)) return out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == text.npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    size_t f = 0;
    for (int i = 0; i < 4 && f != line.npos; ++i) f = line.find(' ', f + 1);
    if (f == line.npos) continue;
    size_t g = line.find(' ', f + 1);
    std::string_view raw = line.substr(f + 1, g == line.npos ? line.npos : g - f - 1);
    std::string mp;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\' && i + 3 < raw.size()) {
        mp.push_back(static_cast<char>((raw[i + 1] - '0') * 64 + (raw[i + 2] - '0') * 8 +
                                       (raw[i + 3] - '0')));
        i += 3;
      } else {
        mp.push_back(raw[i]);
      }
    }
    out.push_back(std::move(mp));
  }
  return out;
}

// Keeps the per-mount flags a bind remount would otherwise reset.
unsigned long PreservedFlags(const std::string& mount_point) {
  struct statvfs st;
  if (statvfs(mount_point.c_str(), &st) != 0) return 0;
  unsigned long flags = 0;
  if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

bool Overlaps(const fs::path& hidden, const fs::path& needed) {
  auto [a, b] = std::mismatch(hidden.begin(), hidden.end(), needed.begin(), needed.end());
  return a == hidden.end() || b == needed.end();  // one is a prefix of the other
}

}  // namespace

void NsSlot::Close() {
  for (int* fd : {&net, &ipc, &uts, &mnt}) CloseFd(fd);
}

Result<std::unique_ptr<Namespaces>> Namespaces::Create(const MountPlan& plan) {
  std::unique_ptr<Namespaces> ns(new Namespaces());
  ns->tmp_size_mb_ = plan.tmp_size_mb;
  ns->self_net_ = OpenNs("net");
  ns->self_ipc_ = OpenNs("ipc");
  ns->self_uts_ = OpenNs("uts");
  ns->self_mnt_ = OpenNs("mnt");
  ns->self_pid_ = OpenNs("pid");
  for (int fd : {ns->self_net_, ns->self_ipc_, ns->self_uts_, ns->self_mnt_, ns->self_pid_}) {
    if (fd < 0) return FailedPrecondition(Err("cannot open /proc/self/ns"));
  }
  THAW_RETURN_IF_ERROR(ns->BuildTemplate(plan));
  return ns;
}

Namespaces::~Namespaces() {
  for (int* fd : {&self_net_, &self_ipc_, &self_uts_, &self_mnt_, &self_pid_, &template_mnt_}) {
    CloseFd(fd);
  }
}

namespace {

// In a throw-away child that has unshared its mount namespace: turns that namespace into the
// template. Returns "" or what failed.
std::string TemplateSteps(const MountPlan& plan, bool host_mount_point) {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return Err("cannot make mounts private (mount MS_REC|MS_PRIVATE /)");
  }
  if (!host_mount_point) {
    // Read-only host root without /opt/ml/model: a tmpfs over /opt/ml gives the mount point.
    if (mount("tmpfs", "/opt/ml", "tmpfs", MS_NOSUID | MS_NODEV, "size=16k,mode=755") != 0 ||
        mkdir(kModelMountPoint, 0755) != 0 || mkdir(kProgramMountPoint, 0755) != 0) {
      return Err(std::string("cannot create the mount point ") + kModelMountPoint +
                 " (the host root is read-only and a tmpfs over /opt/ml failed)");
    }
  }
  std::vector<fs::path> hidden(std::begin(kBuiltinHidden), std::end(kBuiltinHidden));
  hidden.insert(hidden.end(), plan.hidden_paths.begin(), plan.hidden_paths.end());
  for (const fs::path& h : hidden) {
    struct stat st;
    if (stat(h.c_str(), &st) != 0) continue;  // nothing to hide
    if (!S_ISDIR(st.st_mode)) return "hidden path " + h.native() + " is not a directory";
    // Detach what is mounted there (the cgroup hierarchies under /sys/fs/cgroup), so the mount
    // tree each worker copies stays small, then cover the directory itself.
    while (umount2(h.c_str(), MNT_DETACH) == 0) {
    }
    if (mount("tmpfs", h.c_str(), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "size=4k,mode=755") != 0) {
      return Err("cannot hide " + h.native() + " (mount tmpfs)");
    }
  }
  for (const std::string& mp : MountPoints()) {
    if (mount(nullptr, mp.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | PreservedFlags(mp),
              nullptr) == 0) {
      continue;
    }
    if (mp == "/") return Err("cannot make the root read-only (bind remount /)");
    // A mount covered by another one cannot be reached by path, by workers either.
  }
  return {};
}

}  // namespace

Status CheckInitialUserNamespace() {
  std::string map;
  if (!ReadSmallFile("/proc/self/uid_map", &map)) {
    return FailedPrecondition(Err("cannot read /proc/self/uid_map"));
  }
  std::string compact;
  for (char c : map) {
    if (c == ' ' || c == '\n') {
      if (!compact.empty() && compact.back() != ' ') compact.push_back(' ');
    } else {
      compact.push_back(c);
    }
  }
  while (!compact.empty() && compact.back() == ' ') compact.pop_back();
  if (compact != "0 0 4294967295") {
    return FailedPrecondition("running inside a user namespace (uid_map \"" + compact +
                              "\"): the sandbox needs real root in the initial user namespace");
  }
  return Status::Ok();
}

Status ValidateHiddenPaths(const std::vector<std::filesystem::path>& paths) {
  for (const fs::path& h : paths) {
    for (const char* needed : {kModelMountPoint, kProgramMountPoint, "/tmp", "/proc", "/dev"}) {
      if (!h.is_absolute() || Overlaps(h.lexically_normal(), needed)) {
        return InvalidArgument("hidden path " + h.native() +
                               " must be absolute and must not contain or be inside " + needed);
      }
    }
  }
  return Status::Ok();
}

Status Namespaces::BuildTemplate(const MountPlan& plan) {
  THAW_RETURN_IF_ERROR(ValidateHiddenPaths(plan.hidden_paths));
  std::error_code ec;
  const bool host_mount_point = (fs::create_directories(kModelMountPoint, ec) || !ec) &&
                                (fs::create_directories(kProgramMountPoint, ec) || !ec);
  // The template is built by a child, so the zygote never leaves its own mount namespace (and
  // a failure cannot strand it in a half-built one). The child stays until we hold an fd to
  // its namespace: it waits for EOF on `hold`.
  int result[2], hold[2];
  if (pipe2(result, O_CLOEXEC) != 0) return Internal(Err("pipe2"));
  if (pipe2(hold, O_CLOEXEC) != 0) {
    close(result[0]);
    close(result[1]);
    return Internal(Err("pipe2"));
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(result[0]);
    close(hold[1]);
    std::string err = unshare(CLONE_NEWNS) != 0
                          ? Err("cannot create a mount namespace (unshare CLONE_NEWNS)")
                          : TemplateSteps(plan, host_mount_point);
    if (!err.empty() && write(result[1], err.data(), err.size()) < 0) _exit(1);
    close(result[1]);
    char c;
    while (read(hold[0], &c, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  close(result[1]);
  close(hold[0]);
  std::string err;
  if (pid < 0) {
    err = Err("fork");
  } else {
    char buf[512];
    ssize_t n;
    while ((n = read(result[0], buf, sizeof buf)) != 0) {
      if (n > 0) err.append(buf, static_cast<size_t>(n));
      if (n < 0 && errno != EINTR) break;
    }
    if (err.empty()) {
      template_mnt_ =
          open(("/proc/" + std::to_string(pid) + "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC);
      if (template_mnt_ < 0) err = Err("cannot open the template mount namespace");
    }
  }
  close(result[0]);
  close(hold[1]);
  if (pid > 0) {
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  if (!err.empty()) return FailedPrecondition(err);
  return Status::Ok();
}

namespace {

// A new network namespace has only a loopback interface, down. Up, it lets a custom container
// serve on 127.0.0.1:8080 inside its sandbox; it still reaches nothing outside it.
std::string BringUpLoopback() {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Err("socket (loopback)");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  std::string why;
  if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
    why = Err("SIOCGIFFLAGS lo");
  } else {
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) why = Err("bring up lo (SIOCSIFFLAGS)");
  }
  close(s);
  return why;
}

}  // namespace

Status Namespaces::BuildSlotStep(NsSlot* slot, int step) {
  // unshare, optionally work inside, keep an fd, go back. A failure to go back leaves the
  // zygote in a worker's namespace, which it must not survive.
  auto make = [&](int type, const char* name, int self, const char* what, int* out,
                  const auto& inside) -> Status {
    if (type == CLONE_NEWNS && setns(template_mnt_, CLONE_NEWNS) != 0) {
      std::string why = Err("cannot enter the template mount namespace");
      // setns into a mount namespace refuses a process whose threads share its fs_struct.
      if (errno == EINVAL) why += " (the zygote must be single-threaded; a sanitizer thread?)";
      return FailedPrecondition(why);
    }
    if (unshare(type) != 0) {
      std::string why = Err(std::string("cannot create a ") + what + " (unshare)");
      if (setns(self, type) != 0) return Internal("fatal: " + Err("setns back"));
      return FailedPrecondition(why);
    }
    std::string why = inside();
    int fd = why.empty() ? OpenNs(name) : -1;
    if (why.empty() && fd < 0) why = Err(std::string("open /proc/self/ns/") + name);
    if (setns(self, type) != 0) {
      if (fd >= 0) close(fd);
      return Internal("fatal: " + Err(std::string("cannot return to the zygote's ") + what));
    }
    if (!why.empty()) return FailedPrecondition(why);
    *out = fd;
    return Status::Ok();
  };
  auto nothing = [] { return std::string(); };
  switch (step) {
    case 0:
      return make(CLONE_NEWNET, "net", self_net_, "network namespace", &slot->net, BringUpLoopback);
    case 1:
      return make(CLONE_NEWIPC, "ipc", self_ipc_, "IPC namespace", &slot->ipc, nothing);
    case 2:
      return make(CLONE_NEWUTS, "uts", self_uts_, "UTS namespace", &slot->uts, [] {
        return sethostname(kHostname, sizeof kHostname - 1) == 0 ? std::string()
                                                                 : Err("sethostname");
      });
    case 3: {
      const std::string options = "size=" + std::to_string(tmp_size_mb_) + "m,mode=1777";
      return make(CLONE_NEWNS, "mnt", self_mnt_, "mount namespace", &slot->mnt, [&] {
        if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
          return Err("mount tmpfs /tmp");
        }
        struct stat st;
        if (stat("/dev/shm", &st) == 0 &&
            mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  options.c_str()) != 0) {
          return Err("mount tmpfs /dev/shm");
        }
        return std::string();
      });
    }
  }
  return Internal("no such slot step");
}

Result<NsSlot> Namespaces::NewSlot() {
  NsSlot slot;
  for (int step = 0; step < kSlotSteps; ++step) {
    if (Status s = BuildSlotStep(&slot, step); !s.ok()) {
      slot.Close();
      return s;
    }
  }
  return slot;
}

Status Namespaces::BeginPidNamespace() {
  if (unshare(CLONE_NEWPID) != 0) {
    return FailedPrecondition(Err("cannot create a PID namespace (unshare CLONE_NEWPID)"));
  }
  return Status::Ok();
}

Status Namespaces::EndPidNamespace() {
  if (setns(self_pid_, CLONE_NEWPID) != 0) return Internal("fatal: " + Err("setns pid back"));
  return Status::Ok();
}

std::string EnterSlotNamespaces(const NsSlot& slot) {
  if (setns(slot.net, CLONE_NEWNET) != 0) return Err("enter the network namespace");
  if (setns(slot.ipc, CLONE_NEWIPC) != 0) return Err("enter the IPC namespace");
  if (setns(slot.uts, CLONE_NEWUTS) != 0) return Err("enter the UTS namespace");
  return {};
}

std::string CloneTree(const std::filesystem::path& dir, const char* mount_point, int* tree_fd) {
  *tree_fd = open_tree(AT_FDCWD, dir.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (*tree_fd < 0) return Err(std::string("mount ") + mount_point + ": " + dir.native());
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (mount_setattr(*tree_fd, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) {
    return Err(std::string("mount ") + mount_point + " read-only (mount_setattr)");
  }
  return {};
}

std::string MountProc(const NsSlot& slot, int host_mnt_fd) {
  if (setns(slot.mnt, CLONE_NEWNS) != 0) return Err("enter the mount namespace");
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    return Err("mount /proc");
  }
  if (setns(host_mnt_fd, CLONE_NEWNS) != 0) return Err("return to the host mount namespace");
  return {};
}

std::string EnterSlotMountNamespace(const NsSlot& slot) {
  if (setns(slot.mnt, CLONE_NEWNS) != 0) return Err("enter the mount namespace");
  return {};
}

std::string MountTree(int tree_fd, const char* mount_point) {
  if (move_mount(tree_fd, "", AT_FDCWD, mount_point, MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    return Err(std::string("mount ") + mount_point + " (move_mount)");
  }
  return {};
}

}  // namespace thaw::sandbox::internal
