"""The load generator of the serving benchmark: real wrk against a small local server."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tools.wrk import parse, run_wrk

pytestmark = pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (tools/system-deps.sh installs it)"
)


class Answer(BaseHTTPRequestHandler):
    """200 to POST /ok when the body arrived whole, 404 to anything else."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the services answer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status = 200 if self.path == "/ok" and body == b'{"x": 1}' else 404
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_wrk_posts_the_body_and_reports_rate_and_latency(base_url: str) -> None:
    result = run_wrk(f"{base_url}/ok", b'{"x": 1}', connections=2, seconds=1)

    assert result.requests > 10 and result.errors == 0
    assert result.rate > 0 and 0 < result.p50 <= result.p99 < 1


def test_answers_other_than_2xx_count_as_errors(base_url: str) -> None:
    result = run_wrk(f"{base_url}/missing", b'{"x": 1}', connections=2, seconds=1)

    assert result.requests > 0 and result.errors == result.requests


def test_units_of_wrk_are_read_as_seconds() -> None:
    output = """Running 6s test @ http://127.0.0.1:1/
  Latency Distribution
     50%  850.00us
     75%    1.20ms
     90%    2.00ms
     99%    1.50s
  12000 requests in 6.00s, 1.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
Requests/sec:   2000.00
"""
    result = parse(output)

    assert (result.requests, result.seconds, result.rate) == (12000, 6.0, 2000.0)
    assert result.p50 == pytest.approx(850e-6)
    assert (result.p99, result.errors) == (1.5, 5)
