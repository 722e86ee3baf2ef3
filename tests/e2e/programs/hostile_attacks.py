"""Attacks a hostile model tries from inside its sandbox (issue 6), shared by the scikit-learn
inference.py and the custom container program `hostile` of test_hostile.py.

Run(request) takes {"attack": name, ...arguments} and returns {"attack", "denied", "detail"}:
`denied` is True when every attempt of the attack failed (the sandbox held), `detail` lists what
each attempt met, so a failing test says what leaked. Attacks that the sandbox stops by killing
the worker (memory, CPU) never return: their request fails with a ModelError instead."""

import ctypes
import errno
import os
import signal
import socket
import time

LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.syscall.restype = ctypes.c_long

# x86_64 system call numbers.
SYS = {"ptrace": 101, "keyctl": 250, "add_key": 248, "unshare": 272, "perf_event_open": 298,
       "bpf": 321, "userfaultfd": 323, "mount": 165, "setns": 308, "kexec_load": 246,
       "init_module": 175, "swapon": 167, "process_vm_readv": 310, "open_by_handle_at": 304,
       "clock_settime": 227, "settimeofday": 164, "reboot": 169, "pivot_root": 155,
       "open_tree": 428, "move_mount": 429}
CLONE_NEWUSER = 0x10000000
CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
PTRACE_ATTACH = 16
PTRACE_DETACH = 17


def _err(e):
    return f"{type(e).__name__}: {e}"


def _raw(name, *args):
    """A system call by number; returns 'ok' or the errno's name."""
    ctypes.set_errno(0)
    rc = LIBC.syscall(SYS[name], *[ctypes.c_long(a) for a in args])
    if rc < 0:
        return errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
    return "ok"


def _in_child(fn):
    """Runs fn() in a forked child (so a success cannot change this process) and returns what it
    reported: the child writes its answer to a pipe."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            out = fn()
        except BaseException as e:  # noqa: BLE001 - everything is an answer here
            out = _err(e)
        os.write(w, out.encode()[:4000])
        os._exit(0)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 4096)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode(errors="replace")


def read_paths(req):
    """Reads host paths the model must not see: another model's directory, thaw's data dir and
    its database, the credentials file. A directory that lists empty (a tmpfs covering it)
    counts as denied."""
    detail, leaked = {}, False
    for path in req["paths"]:
        try:
            if os.path.isdir(path):
                names = os.listdir(path)
                detail[path] = f"listed {names}"
                leaked |= bool(names)
            else:
                with open(path, "rb") as f:
                    data = f.read(64)
                detail[path] = f"read {len(data)} bytes"
                leaked = True
        except OSError as e:
            detail[path] = _err(e)
    return not leaked, detail


def connect(req):
    """TCP to thaw's own port on the host's loopback, to the host's other addresses, and out."""
    detail, leaked = {}, False
    for host, port in req["targets"]:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect((host, port))
            detail[f"{host}:{port}"] = "connected"
            leaked = True
        except OSError as e:
            detail[f"{host}:{port}"] = _err(e)
        finally:
            s.close()
    for family, kind, proto in ((socket.AF_PACKET, socket.SOCK_RAW, 0),
                                (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)):
        try:
            socket.socket(family, kind, proto).close()
            detail[f"raw {family}"] = "opened"
            leaked = True
        except OSError as e:
            detail[f"raw {family}"] = _err(e)
    return not leaked, detail


def write_model(req):
    """Writes into /opt/ml/model: a new file, an existing one, a rename, a chmod."""
    detail, leaked = {}, False
    names = os.listdir("/opt/ml/model")
    existing = os.path.join("/opt/ml/model", names[0]) if names else None
    attempts = {
        "create": lambda: open("/opt/ml/model/pwned", "wb").close(),
        "mkdir": lambda: os.mkdir("/opt/ml/model/pwned.d"),
    }
    if existing:
        attempts["append"] = lambda: open(existing, "ab").close()
        attempts["rename"] = lambda: os.rename(existing, existing + ".moved")
        attempts["chmod"] = lambda: os.chmod(existing, 0o777)
    for what, fn in attempts.items():
        try:
            fn()
            detail[what] = "succeeded"
            leaked = True
        except OSError as e:
            detail[what] = _err(e)
    return not leaked, detail


def fork_bomb(req):
    """Forks until refused (at most req['max'] children), then cleans up. Denied when the pids
    limit refused a fork before the maximum. With req['spawn'] the children are posix_spawn'ed
    `sleep`s instead (vfork-like: a fork of a large process is slow under the debug build's
    sanitizers, which would turn the attack into a timeout)."""
    children, refused = [], None
    for _ in range(req.get("max", 1000)):
        try:
            if req.get("spawn"):
                pid = os.posix_spawn("/bin/sleep", ["sleep", "600"], {})
            else:
                pid = os.fork()
        except OSError as e:
            refused = _err(e)
            break
        if pid == 0:
            signal.pause()
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    for pid in children:
        os.waitpid(pid, 0)
    return refused is not None, {"forked": len(children), "refused": refused}


def allocate(req):
    """Allocates and touches req['mb'] MiB: past the memory limit the worker is killed."""
    block = bytearray(req["mb"] << 20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    return False, {"allocated_mb": len(block) >> 20}


def spin(req):
    """Spins the CPU forever: the invocation timeout ends it."""
    while True:
        pass


def fill_tmp(req):
    """Writes /tmp full. Denied when the write stops at the tmpfs cap (ENOSPC) before
    req['mb'] MiB."""
    chunk = b"\xab" * (1 << 20)
    written, why = 0, None
    path = "/tmp/fill"
    try:
        with open(path, "wb") as f:
            while written < req["mb"]:
                f.write(chunk)
                f.flush()
                written += 1
    except OSError as e:
        why = _err(e)
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
    return why is not None and "No space" in why, {"written_mb": written, "stopped": why}


def ptrace(req):
    """Attaches to the process that runs the model's server (thaw's init for a custom program,
    the worker itself for a handler) from a child, and to thaw on the host. Also reads another
    process' memory with process_vm_readv."""
    # This process, from a child of it (same uid: allowed unless something forbids it), and the
    # process that started it (thaw's init for a custom program; none for a handler, pid 1).
    init = os.getppid()
    targets = [os.getpid()] + ([init] if init > 0 else [])
    detail = {"attach thaw": _raw("ptrace", PTRACE_ATTACH, req["thaw_pid"], 0, 0)}
    for pid in targets:

        def attach(pid=pid):
            rc = _raw("ptrace", PTRACE_ATTACH, pid, 0, 0)
            if rc == "ok":
                _raw("ptrace", PTRACE_DETACH, pid, 0, 0)
            return rc

        buf = ctypes.create_string_buffer(8)
        local = (ctypes.c_void_p * 2)(ctypes.addressof(buf), 8)
        remote = (ctypes.c_void_p * 2)(ctypes.addressof(buf), 8)
        def poke(pid=pid):
            with open(f"/proc/{pid}/mem", "r+b"):
                return "opened"

        detail[f"attach {pid}"] = _in_child(attach)
        if pid == init:  # its own memory is the model's to write; thaw's init's is not
            detail[f"/proc/{pid}/mem"] = _in_child(poke)
        detail[f"process_vm_readv {pid}"] = _in_child(
            lambda pid=pid: _raw("process_vm_readv", pid, ctypes.addressof(local), 1,
                                 ctypes.addressof(remote), 1, 0))
    return all(v not in ("ok", "opened") for v in detail.values()), detail


def signal_others(req):
    """Signals thaw and every pid it was told about (bystander workers, the host's init)."""
    detail = {}
    for pid in req["pids"]:
        try:
            os.kill(pid, signal.SIGKILL if req.get("kill") else 0)
            detail[str(pid)] = "signalled"
        except OSError as e:
            detail[str(pid)] = _err(e)
    return all(v != "signalled" for v in detail.values()), detail


def proc_escape(req):
    """Through /proc: thaw's pid, the root of pid 1, kernel knobs, kernel memory."""
    detail, leaked = {}, False
    visible = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    detail["thaw visible"] = req["thaw_pid"] in visible and os.path.exists(
        f"/proc/{req['thaw_pid']}/environ")
    leaked |= detail["thaw visible"]
    for path in req.get("paths", []):
        via = "/proc/1/root" + path
        try:
            with open(via, "rb") as f:
                f.read(16)
            detail[via] = "read"
            leaked = True
        except OSError as e:
            detail[via] = _err(e)
    for path, data in (("/proc/sys/kernel/core_pattern", b"|/tmp/x"),
                       ("/proc/sysrq-trigger", b"h"), ("/proc/sys/vm/drop_caches", b"1")):
        try:
            with open(path, "wb") as f:
                f.write(data)
            detail[path] = "written"
            leaked = True
        except OSError as e:
            detail[path] = _err(e)
    for path in ("/proc/kcore", "/proc/kallsyms"):
        try:
            with open(path, "rb") as f:
                head = f.read(64)
            # Unprivileged readers of kallsyms see zero addresses: nothing to learn.
            if path.endswith("kallsyms") and head.startswith(b"0000000000000000"):
                detail[path] = "zeroed addresses"
                continue
            detail[path] = f"read {len(head)} bytes"
            leaked = True
        except OSError as e:
            detail[path] = _err(e)
    return not leaked, detail


def syscalls(req):
    """System calls a model never needs. Each must fail; the ones that change this process run in
    a child."""
    detail = {
        "unshare user+mount": _in_child(lambda: _raw("unshare", CLONE_NEWUSER | CLONE_NEWNS)),
        "unshare net": _in_child(lambda: _raw("unshare", CLONE_NEWNET)),
        "keyctl": _raw("keyctl", 0, -3, 0, 0),  # KEYCTL_GET_KEYRING_ID of the session keyring
        "add_key": _raw("add_key", ctypes.addressof(ctypes.create_string_buffer(b"user")),
                        ctypes.addressof(ctypes.create_string_buffer(b"k")), 0, 0, -3),
        "bpf": _raw("bpf", 0, 0, 0),
        "userfaultfd": _raw("userfaultfd", 1),  # UFFD_USER_MODE_ONLY
        "mount": _raw("mount", 0, 0, 0, 0, 0),
        # Into its own mount namespace: a valid fd, so only a missing capability refuses it.
        "setns": _in_child(lambda: _raw("setns", os.open("/proc/self/ns/mnt", os.O_RDONLY), 0)),
        "open_tree clone": _raw("open_tree", -100, ctypes.addressof(
            ctypes.create_string_buffer(b"/")), 1),  # AT_FDCWD, "/", OPEN_TREE_CLONE
        "kexec_load": _raw("kexec_load", 0, 0, 0, 0),
        "init_module": _raw("init_module", 0, 0, 0),
        "swapon": _raw("swapon", 0, 0),
        "open_by_handle_at": _raw("open_by_handle_at", -100, 0, 0),
        "settimeofday": _raw("settimeofday", 0, 0),
        "reboot": _raw("reboot", 0, 0, 0, 0),
        "pivot_root": _raw("pivot_root", 0, 0),
    }
    # perf_event_open on this process's own software clock: allowed to users by default.
    attr = (ctypes.c_uint8 * 128)()
    ctypes.c_uint32.from_buffer(attr, 0).value = 1  # PERF_TYPE_SOFTWARE
    ctypes.c_uint32.from_buffer(attr, 4).value = 128  # size
    ctypes.c_uint64.from_buffer(attr, 40).value = 1 << 5 | 1 << 6  # exclude_kernel, exclude_hv
    rc = _raw("perf_event_open", ctypes.addressof(attr), 0, -1, -1, 0)
    detail["perf_event_open"] = rc
    # Every one of them must be refused with EPERM: another errno means the kernel looked at the
    # arguments, so the call itself was allowed.
    return all(v == "EPERM" for v in detail.values()), detail


ATTACKS = {f.__name__: f for f in (read_paths, connect, write_model, fork_bomb, allocate, spin,
                                   fill_tmp, ptrace, signal_others, proc_escape, syscalls)}


def run(request):
    start = time.monotonic()
    denied, detail = ATTACKS[request["attack"]](request)
    return {"attack": request["attack"], "denied": denied, "detail": detail,
            "uid": os.getuid(), "seconds": round(time.monotonic() - start, 3)}
