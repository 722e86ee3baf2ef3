"""Door limits through the real binary with raw sockets (issue 6 §3): the server options reach
the HTTP server, and each refusal is an AWS-shaped error or a closed connection. The limits
themselves are unit-tested in tests/unit/api/http_server_test.cc; tiny configured values here keep
every wait short."""

import json
import socket

import pytest


def connect(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return s


def read_all(s):
    """Everything until the server closes (a refusal always closes)."""
    chunks = []
    while True:
        try:
            b = s.recv(65536)
        except ConnectionResetError:
            break
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks)


def status_and_body(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.fixture
def door(launch):
    return launch("--max-connections-per-client", "2", "--max-url-bytes", "100",
                  "--max-header-count", "10", "--header-timeout-ms", "300",
                  "--idle-timeout-ms", "300")


def test_long_url_is_414(door):
    s = connect(door)
    s.sendall(b"GET /" + b"a" * 200 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    status, body = status_and_body(read_all(s))
    assert status == 414
    assert json.loads(body)["__type"] == "ValidationException"


def test_too_many_header_fields_is_431(door):
    s = connect(door)
    s.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n" +
              b"".join(b"X-%d: v\r\n" % i for i in range(20)) + b"\r\n")
    status, body = status_and_body(read_all(s))
    assert status == 431
    assert json.loads(body) == {"__type": "ValidationException",
                                "message": "Request has more than 10 header fields."}


def test_connections_over_the_per_client_limit_are_503(door):
    held = [connect(door), connect(door)]
    for s in held:  # both registered: each answered
        s.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
    status, body = status_and_body(read_all(connect(door)))
    assert status == 503
    assert json.loads(body)["__type"] == "ServiceUnavailable"


def test_slowloris_and_idle_connections_are_closed(door):
    slow = connect(door)
    slow.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and never the rest
    idle = connect(door)  # never sends anything
    assert read_all(slow) == b""
    assert read_all(idle) == b""
