"""Fixtures for the thaw end-to-end suite (real clients against the real binary).

The binary is $THAW_BIN, else <repo>/build/debug/thaw. Each test module gets its own server
(module scope) unless it needs fresh processes (`launch`). Teardown always stops the server with
SIGTERM, expects exit code 0 and scans its stderr for sanitizer reports.
"""

import pytest

from thaw_asserts import Resources
from thaw_harness import ModelStore, ThawServer, find_non_system


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = ThawServer(tmp_path_factory.mktemp("thaw"))
    srv.start()
    yield srv
    srv.stop_and_check()


@pytest.fixture(scope="module")
def sm(server):
    return server.client()


@pytest.fixture(scope="module")
def store(server):
    return ModelStore(server.data_dir)


@pytest.fixture(scope="module")
def res(sm, store):
    return Resources(sm, store)


@pytest.fixture
def launch(tmp_path):
    """launch(*extra_args) starts a fresh server with its own data dir (restart it in place with
    ThawServer.restart_after_crash / start)."""
    servers = []

    def _launch(*extra_args):
        srv = ThawServer(tmp_path / f"server{len(servers)}", extra_args)
        servers.append(srv)
        return srv.start()

    yield _launch
    for srv in servers:
        srv.stop_and_check()


@pytest.fixture(scope="session")
def modern_python():
    python = find_non_system("python3")
    if python is None:
        pytest.skip("no non-Debian python3 on PATH (expected pyenv's 3.11 with boto3 1.43)")
    return python
