"""An S3-compatible server on 127.0.0.1 for the object-storage tests: moto's server from
PyPI (``moto_server``), the one CI starts (``LANHAI_TEST_S3_ENDPOINT``) or one started here,
and a proxy in front of it that can refuse writes, as a storage out of quota or a revoked
credential does."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

#: moto's S3 server command of this environment (``pip install 'moto[server]'``)
MOTO = Path(sys.executable).with_name("moto_server")
#: the credentials the tests give the storage's client (moto accepts any)
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "lanhai-test", "AWS_SECRET_ACCESS_KEY": "lanhai-test",
               "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto S3 server on a free port of 127.0.0.1; its endpoint URL."""
    port = free_port()
    process = subprocess.Popen([str(MOTO), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "moto_server did not start"
                time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=30)


def new_bucket(endpoint: str) -> str:
    """A fresh bucket on the server at ``endpoint``; its name."""
    import boto3

    name = f"lanhai-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="lanhai-test",
                 aws_secret_access_key="lanhai-test",
                 region_name="us-east-1").create_bucket(Bucket=name)
    return name


DENIED = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
          b"<Message>Access Denied</Message></Error>")


class RefusingProxy:
    """An HTTP proxy to an S3 endpoint that answers writes (PUT, POST, DELETE) whose path
    ``refuse`` accepts with 403 Access Denied, and forwards everything else."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.refuse: Callable[[str, str], bool] = lambda method, path: False
        self.refused: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.command != "GET" and self.command != "HEAD" and proxy.refuse(
                        self.command, self.path):
                    proxy.refused.append(f"{self.command} {self.path}")
                    self.send_response(403)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(DENIED)))
                    self.end_headers()
                    self.wfile.write(DENIED)
                    return
                upstream = http.client.HTTPConnection(proxy.upstream.hostname or "127.0.0.1",
                                                      proxy.upstream.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = proxy.upstream.netloc
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection",
                                           "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RefusingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
