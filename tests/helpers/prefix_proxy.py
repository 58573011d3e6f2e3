"""A tiny reverse proxy on 127.0.0.1 that does what docs/nginx-newsletter.conf tells nginx to
do: the static site from a folder at `/`, and `newsletter serve` at `/newsletter/` (the prefix
stripped, X-Forwarded-For appended to, -Proto/-Host set), on one origin."""

from __future__ import annotations

import functools
import http.client
import http.server
import threading
from pathlib import Path

from helpers.smtp_server import free_port

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
}


class _Handler(http.server.SimpleHTTPRequestHandler):
    upstream_port = 0
    prefix = "/newsletter/"

    def log_message(self, *args) -> None:
        pass

    def _proxy(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {
            k: v
            for k, v in self.headers.items()
            if k.lower() not in HOP_BY_HOP and not k.lower().startswith("x-forwarded-")
        }
        prior = self.headers.get("X-Forwarded-For")  # appended to, as nginx's $proxy_add_x_forwarded_for does
        headers["X-Forwarded-For"] = f"{prior}, {self.client_address[0]}" if prior else self.client_address[0]
        headers["X-Forwarded-Proto"] = "http"
        headers["X-Forwarded-Host"] = self.headers.get("Host", "")
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        try:
            upstream.request(self.command, "/" + self.path[len(self.prefix) :], body=body, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            self.send_response(answer.status, answer.reason)
            for key, value in answer.getheaders():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        finally:
            upstream.close()

    def do_GET(self) -> None:
        if self.path.startswith(self.prefix):
            return self._proxy()
        return super().do_GET()

    def do_HEAD(self) -> None:
        if self.path.startswith(self.prefix):
            return self._proxy()
        return super().do_HEAD()

    def do_POST(self) -> None:
        if self.path.startswith(self.prefix):
            return self._proxy()
        self.send_error(405)


class PrefixProxy:
    """`with PrefixProxy(site_folder, serve_port) as proxy:` → http://127.0.0.1:{proxy.port}/"""

    def __init__(self, site: Path, upstream_port: int, port: int | None = None) -> None:
        self.port = port or free_port()
        handler = type("Handler", (_Handler,), {"upstream_port": upstream_port})
        self.server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", self.port), functools.partial(handler, directory=str(site))
        )

    def __enter__(self) -> PrefixProxy:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
