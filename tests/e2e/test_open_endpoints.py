"""--open-endpoints (issue 6 §1): GET /ping and GET /metrics answer unsigned requests only from the
clients the option opens them to (default: loopback, 127.0.0.0/8 and ::1); any other client signs
them with SigV4 like every API call, and is refused with 403 MissingAuthenticationTokenException
otherwise. The non-loopback cases connect from a local non-loopback address of this host (eth0's);
they skip when there is none (the peer decision itself is unit-tested: auth_gate_test)."""

import http.client
import json
import socket

import pytest

from thaw_asserts import sigv4_headers
from thaw_harness import ThawServer

PATHS = ("/ping", "/metrics")


def non_loopback_address():
    """A local IPv4 address of this host that is not loopback, or None."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # UDP: picks the source address, sends nothing
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def get(address, port, path, sign=False):
    """GET `path` from a socket bound to `address` (so the server sees that peer), to the
    server's port on the same address. Signed requests name Host 127.0.0.1:<port>, as signed."""
    headers = {"Host": f"127.0.0.1:{port}"}
    if sign:
        headers = sigv4_headers(port, "GET", path, b"", headers)
    conn = http.client.HTTPConnection(address, port, timeout=10, source_address=(address, 0))
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class SignedPingServer(ThawServer):
    """A server whose readiness probe signs its GET /ping (for --open-endpoints none)."""

    def ping(self):
        try:
            return get("127.0.0.1", self.port, "/ping", sign=True)[0]
        except OSError:
            return None


@pytest.fixture
def serve(tmp_path):
    servers = []

    def _serve(mode, cls=ThawServer):
        srv = cls(tmp_path / f"s{len(servers)}", ["--open-endpoints", mode])
        srv.listen = "0.0.0.0:0"  # reachable from this host's other addresses too
        servers.append(srv)
        return srv.start()

    yield _serve
    for srv in servers:
        srv.stop_and_check()


def assert_refused(status, body):
    assert status == 403, body
    assert json.loads(body)["__type"] == "MissingAuthenticationTokenException", body


def test_loopback_default_opens_to_loopback_only(serve):
    address = non_loopback_address()
    srv = serve("loopback")
    for path in PATHS:
        assert get("127.0.0.1", srv.port, path)[0] == 200
    if address is None:
        pytest.skip("this host has no non-loopback address to connect from")
    for path in PATHS:
        assert_refused(*get(address, srv.port, path))
        status, body = get(address, srv.port, path, sign=True)
        assert status == 200, body
    # Only the open paths are concerned: an unsigned API call is refused from anywhere.
    status, _ = get("127.0.0.1", srv.port, "/endpoints/x/invocations")
    assert status in (403, 404)


def test_none_requires_a_signature_even_on_loopback(serve):
    srv = serve("none", SignedPingServer)
    for path in PATHS:
        assert_refused(*get("127.0.0.1", srv.port, path))
        status, body = get("127.0.0.1", srv.port, path, sign=True)
        assert status == 200, body
        assert get("127.0.0.1", srv.port, path, sign=True)[0] == 200


def test_any_opens_to_every_client(serve):
    address = non_loopback_address()
    if address is None:
        pytest.skip("this host has no non-loopback address to connect from")
    srv = serve("any")
    for path in PATHS:
        assert get(address, srv.port, path)[0] == 200
