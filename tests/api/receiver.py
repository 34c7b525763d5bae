"""A webhook receiver on loopback for tests: records every request and answers with the
status codes it is told to, in order (then 200)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, codes=(), delay: float = 0.0, redirect_to: str = ""):
        self.codes = list(codes)
        self.delay = delay
        self.redirect_to = redirect_to
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append({
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body, "path": self.path, "at": time.time()})
                    code = receiver.codes.pop(0) if receiver.codes else 200
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(code)
                if receiver.redirect_to:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def payloads(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]
