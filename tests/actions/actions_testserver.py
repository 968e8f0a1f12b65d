"""A real HTTP server on 127.0.0.1 (random free port) whose reply per path is configured by the test and
which records every request it gets. Imported by the tests/actions test files."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import urlsplit

import pytest


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # accept the request and never answer (until the server stops)

    def encode(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if self.json is not None:
            headers.setdefault("Content-Type", "application/json")
            return json.dumps(self.json).encode(), headers
        return (self.body.encode() if isinstance(self.body, str) else self.body), headers


@dataclass
class Recorded:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


class TestServer:
    __test__ = False

    def __init__(self, ssl_context=None):
        self.routes: dict[str, list[Reply | Callable[[Recorded], Reply]]] = {}
        self.requests: list[Recorded] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                recorded = Recorded(self.command, parts.path, parts.query,
                                    {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
                server.requests.append(recorded)
                reply = server._next(parts.path, recorded)
                if reply.hang:
                    server.stopping.wait(10)
                    return
                body, headers = reply.encode()
                self.send_response(reply.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # e.g. a TLS handshake the client refused: the test asserts on the client side

        self.httpd = Server(("127.0.0.1", 0), Handler)
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def route(self, path: str, *replies: Reply | Callable[[Recorded], Reply]) -> "TestServer":
        """Replies are used in order; the last one repeats."""
        self.routes[path] = list(replies)
        return self

    def _next(self, path: str, recorded: Recorded) -> Reply:
        replies = self.routes.get(path)
        if not replies:
            return Reply(404, json={"error": "no route", "path": path})
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        return reply(recorded) if callable(reply) else reply

    def url(self, path: str = "", host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def calls(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    def stop(self):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = TestServer()
    yield srv
    srv.stop()


@pytest.fixture
def other_server():
    srv = TestServer()
    yield srv
    srv.stop()


class Sleeps(list):
    """An injectable `sleep` that records instead of sleeping."""

    def __call__(self, seconds: float):
        self.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


def self_signed(tmp_path, hostname: str) -> str:
    """A PEM file holding a fresh key and a self-signed certificate for `hostname` (SAN DNS entry only)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = tmp_path / f"{hostname}.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()) + cert.public_bytes(serialization.Encoding.PEM))
    return str(path)
