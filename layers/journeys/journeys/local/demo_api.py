"""A small local API for trying the integration examples (`journeys demo-api`).

The shared actions.yaml points its Actions at http://127.0.0.1:8765: this server answers there
like a company-enrichment API, a CRM and a webhook receiver would, so `enrichment` and
`sales-handoff` run end to end on a laptop. It is a demo peer, not used by the tests (they start
their own servers with behaviour per test).
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_PORT = 8765


# The shared contacts' companies, with sizes matching their profiles (ada: company_size 120, bob: 3), so
# the enrichment example takes the branch a reader expects: Ada's company is big, Bob's is small.
KNOWN_COMPANIES = {
    "analytical.example": {"name": "Analytical Engines", "employees": 250},
    "tiny.example": {"name": "Tiny", "employees": 3},
}


def company(domain: str) -> dict:
    """Made-up company facts for a domain: the known ones above, else stable ones from a hash of the domain."""
    domain = domain.lower()
    if domain in KNOWN_COMPANIES:
        return {"domain": domain, **KNOWN_COMPANIES[domain]}
    name = domain.split(".")[0].replace("-", " ").title()
    employees = int(hashlib.sha256(domain.encode()).hexdigest()[:4], 16) % 500 + 1
    return {"domain": domain, "name": name, "employees": employees}


class _Handler(BaseHTTPRequestHandler):
    server_version = "journeys-demo-api"
    tasks: list[dict] = []

    def log_message(self, fmt, *args):  # quiet: the journey trace is the output that matters
        pass

    def _reply(self, status: int, body: dict) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return {}

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.path.startswith("/companies/"):
            return self._reply(200, company(self.path.removeprefix("/companies/").split("?")[0]))
        if self.path in ("/", "/crm", "/crm/"):
            return self._reply(200, {"ok": True})
        return self._reply(404, {"error": f"no route {self.path}"})

    def do_POST(self):  # noqa: N802
        body = self._body()
        if self.path.startswith("/crm/tasks"):
            task = {"id": f"task-{len(self.tasks) + 1}", **body}
            self.tasks.append(task)
            return self._reply(201, task)
        if self.path.startswith("/crm/deals"):
            return self._reply(201, {"id": "deal-1", **body})
        if self.path.startswith("/hooks/"):
            return self._reply(200, {"received": True})
        return self._reply(404, {"error": f"no route {self.path}"})

    def do_PUT(self):  # noqa: N802
        if self.path.startswith("/crm/contacts/"):
            return self._reply(200, {"email": self.path.rsplit("/", 1)[-1], **self._body()})
        return self._reply(404, {"error": f"no route {self.path}"})


def serve(port: int = DEFAULT_PORT, background: bool = False) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    if background:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
