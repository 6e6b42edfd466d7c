"""deploy/nginx.conf: valid for nginx, and in front of an app a crowd opening one public page makes one request to it.

Needs nginx (Debian: `apt-get install nginx-light`); skipped where it is not installed (CI does not install it)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def local_config(tmp: Path, listen: int, upstream: int) -> Path:
    """The repository's file with only the addresses and paths of this machine changed."""
    text = CONFIG.read_text()
    for old, new in (
        ("/var/cache/nginx/contest", str(tmp / "cache")),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};"),
        ("listen 80;", f"listen 127.0.0.1:{listen};"),
        (
            "http {",
            f"http {{\n    access_log {tmp}/access.log;\n    client_body_temp_path {tmp}/body;\n"
            f"    proxy_temp_path {tmp}/proxy;\n    fastcgi_temp_path {tmp}/fcgi;\n    uwsgi_temp_path {tmp}/uwsgi;\n"
            f"    scgi_temp_path {tmp}/scgi;",
        ),
    ):
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp / "nginx.conf"
    path.write_text(text)
    return path


def nginx(config: Path, tmp: Path, *args: str, foreground: bool = False) -> list[str]:
    main = f"pid {tmp}/nginx.pid; error_log {tmp}/error.log;" + (" daemon off;" if foreground else "")
    if os.geteuid() == 0:  # its workers would run as nobody, who cannot write the test's private folder
        main += " user root;"
    return [str(NGINX), "-c", str(config), "-p", str(tmp), "-g", main, *args]


def test_the_nginx_config_is_valid(tmp_path) -> None:
    config = local_config(tmp_path, free_port(), free_port())
    checked = subprocess.run(nginx(config, tmp_path, "-t"), capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


class App(BaseHTTPRequestHandler):
    """An app as nginx sees it: /shared is public for a second, /personal is not."""

    hits: Counter[str] = Counter()

    def do_GET(self) -> None:  # noqa: N802
        App.hits[self.path] += 1
        time.sleep(0.2)  # a rendering takes a while: the crowd arrives during it
        body = b"page " + self.path.encode()
        self.send_response(200)
        if self.path == "/shared":
            self.send_header("Cache-Control", "public, max-age=1")
            self.send_header("ETag", '"1"')
            self.send_header("Vary", "Accept-Encoding, Cookie")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_crowd_on_a_public_page_makes_one_request_to_the_app_and_staff_bypass_it(tmp_path) -> None:
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), App)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    listen = free_port()
    config = local_config(tmp_path, listen, upstream.server_address[1])
    proc = subprocess.Popen(nginx(config, tmp_path, foreground=True))
    try:
        base = f"http://127.0.0.1:{listen}"
        for _ in range(100):
            try:
                httpx.get(f"{base}/personal", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        App.hits.clear()
        with ThreadPoolExecutor(50) as pool:
            answers = list(pool.map(lambda _: httpx.get(f"{base}/shared", cookies={"session": "someone"}), range(50)))
        assert {a.status_code for a in answers} == {200} and App.hits["/shared"] == 1
        httpx.get(f"{base}/personal")
        httpx.get(f"{base}/personal")
        assert App.hits["/personal"] == 2  # not public: never cached
        httpx.get(f"{base}/shared", cookies={"staff_session": "x"})
        assert App.hits["/shared"] == 2  # signed-in staff go to the app
    finally:
        proc.terminate()
        proc.wait(10)
        upstream.shutdown()
