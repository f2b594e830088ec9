"""A fake OpenAI-compatible chat server over real HTTP, for tests of the `openai` backend: it
replays scripted replies to ``POST …/chat/completions``, as server-sent events (then closes the
connection) when the request asks to stream, else as one JSON completion on a connection kept
open for the client's pool, and records every request it was sent. ``delays``: seconds each
request waits before its reply (a streamed one after its first piece), as a slow model would.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that drops its kept-alive connection is no error of the server's


class FakeOpenAI:
    def __init__(self, replies: list[str], delays: list[float] | None = None):
        self.replies = list(replies)
        self.delays = list(delays or [])
        self.requests: list[dict] = []  # {"path", "stream", "messages"} per request, in order
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), self._handler())

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}/v1"

    def __enter__(self) -> "FakeOpenAI":
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _reply(self, path: str, body: dict) -> tuple[str, float]:
        with self._lock:
            self.requests.append({"path": path, "stream": bool(body.get("stream")),
                                  "messages": body.get("messages", [])})
            return (self.replies.pop(0) if self.replies else "", self.delays.pop(0) if self.delays else 0.0)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, b'{"error": {"message": "not found"}}', "application/json")
                text, delay = fake._reply(self.path, body)
                head = {"id": "chatcmpl-fake", "created": 0, "model": body.get("model", "fake")}
                if not body.get("stream"):
                    time.sleep(delay)
                    done = {**head, "object": "chat.completion", "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
                    return self._send(200, json.dumps(done).encode(), "application/json")
                pieces = [text[i:i + 7] for i in range(0, len(text), 7)]
                chunks = [{"delta": {"role": "assistant", "content": p}, "finish_reason": None} for p in pieces]
                chunks.append({"delta": {}, "finish_reason": "stop"})
                # A stream ends with its connection; a completion's stays open for the client's pool.
                self.close_connection = True
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for i, c in enumerate(chunks):
                    event = {**head, "object": "chat.completion.chunk", "choices": [{"index": 0, **c}]}
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                    if i == 0:
                        time.sleep(delay)
                self.wfile.write(b"data: [DONE]\n\n")

            def _send(self, code: int, data: bytes, ctype: str):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
