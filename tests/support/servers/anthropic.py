"""A scripted Anthropic Messages API server on 127.0.0.1, for driving the real `claude` offline.

    with ScriptedAnthropic([
        lambda req: [text("Writing."), tool_use("Write", {"file_path": f"{req.cwd}/a.txt", ...})],
        [text("Done.")],
    ]) as server:
        env = {"ANTHROPIC_BASE_URL": server.base_url, "ANTHROPIC_API_KEY": "test-key", ...}
        ...
        assert len(server.turn_requests) == 2 and not server.problems

Behaviour choices:
- The script is a list of turns. A turn is a list of content blocks (`text`, `thinking`,
  `tool_use`), an `ApiError` (HTTP status + Anthropic error body), or a callable that gets the
  `RecordedRequest` and returns one of those (Claude's Write needs an absolute path, and the
  worktree's path is only known from the request: `request.cwd`).
- Which requests consume a turn: `POST /v1/messages` calls that offer tools, i.e. the agent
  loop. Side calls without tools (a title, a quota probe) get `side_reply` (plain text) and do
  not consume a turn, so a script does not depend on how many of those a CLI version makes.
- Streaming is what the real API sends: `message_start`, `ping`, per block
  `content_block_start` / `*_delta` / `content_block_stop` (text_delta, thinking_delta +
  signature_delta, input_json_delta in two pieces), `message_delta` with `stop_reason`
  (`tool_use` when a block calls a tool, else `end_turn`) and usage, `message_stop`; as
  `text/event-stream` with chunked transfer encoding on a keep-alive HTTP/1.1 connection.
  A request with `"stream": false` gets the whole message as JSON.
- An `ApiError` answers every later request by default: Claude Code retries a 5xx
  (`CLAUDE_CODE_MAX_RETRIES=1`: two requests) and answers a 400 by retrying with fewer beta
  headers (six requests in 2.1.332). `times=N` answers N requests, then the next turn starts.
- When the script has no turn left, the request gets HTTP 400 and a line in `problems`.
- `POST /v1/messages/count_tokens` answers `{"input_tokens": N}`; any other path is a 404 with
  an Anthropic error body, logged in `unknown`. Every request is recorded in `requests`.
- Standard library only (`http.server.ThreadingHTTPServer` on a daemon thread, port 0).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Block = dict[str, Any]


@dataclass(frozen=True)
class ApiError:
    """An HTTP error answer, shaped like the real API's:
    `{"type": "error", "error": {"type": ..., "message": ...}}`."""

    status: int
    message: str = "scripted error"
    type: str = ""  # default from the status: 400 invalid_request_error, 500 api_error, ...
    times: int | None = None  # requests it answers before the script moves on; None: all

    @property
    def error_type(self) -> str:
        return self.type or _ERROR_TYPES.get(self.status, "api_error")


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}

Reply = list[Block] | ApiError
Turn = Reply | Callable[["RecordedRequest"], Reply]

_tool_ids = itertools.count(1)


def text(value: str) -> Block:
    return {"type": "text", "text": value}


def thinking(value: str, signature: str = "sig") -> Block:
    return {"type": "thinking", "thinking": value, "signature": signature}


def tool_use(name: str, input: dict[str, Any], id: str | None = None) -> Block:
    return {"type": "tool_use", "id": id or f"toolu_scripted_{next(_tool_ids)}", "name": name,
            "input": input}  # fmt: skip


_CWD = re.compile(r"(?:Working directory|Primary working directory|cwd):\s*(\S[^\n<]*)")


@dataclass
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, or None
    raw: bytes
    turn: int | None = None  # index of the script turn it consumed

    @property
    def is_turn(self) -> bool:
        """A `POST /v1/messages` of the agent loop: one that offers tools."""
        return (
            self.method == "POST"
            and self.path == "/v1/messages"
            and isinstance(self.body, dict)
            and bool(self.body.get("tools"))
        )

    def all_text(self) -> str:
        """The system prompt and every text in the messages, joined: what to search."""
        body = self.body if isinstance(self.body, dict) else {}
        parts: list[str] = []
        _collect_text(body.get("system"), parts)
        _collect_text(body.get("messages"), parts)
        return "\n".join(parts)

    @property
    def cwd(self) -> str | None:
        """The agent's working directory, from the environment section of its system prompt."""
        match = _CWD.search(self.all_text())
        return match.group(1).strip() if match else None

    @property
    def tool_names(self) -> list[str]:
        body = self.body if isinstance(self.body, dict) else {}
        return [t.get("name", "") for t in body.get("tools") or () if isinstance(t, dict)]

    def tool_results(self) -> list[Block]:
        """The `tool_result` blocks of the last user message (what the agent sends back)."""
        body = self.body if isinstance(self.body, dict) else {}
        messages = body.get("messages") or []
        if not messages or not isinstance(messages[-1], dict):
            return []
        content = messages[-1].get("content")
        if not isinstance(content, list):
            return []
        return [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]


def _collect_text(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, list):
        for item in value:
            _collect_text(item, out)
    elif isinstance(value, dict):
        for key in ("text", "content"):
            if key in value:
                _collect_text(value[key], out)


class ScriptedAnthropic:
    """The server; a context manager. `base_url` is what `ANTHROPIC_BASE_URL` takes (no /v1)."""

    def __init__(
        self,
        turns: Iterable[Turn],
        *,
        model: str = "claude-scripted-1",
        side_reply: str = "ok",
        input_tokens: int = 100,
        output_tokens: int = 10,
    ) -> None:
        self.turns: list[Turn] = list(turns)
        self.model = model
        self.side_reply = side_reply
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.requests: list[RecordedRequest] = []
        self.unknown: list[RecordedRequest] = []
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._next_turn = 0
        self._error_uses = 0
        self._messages = itertools.count(1)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ScriptedAnthropic:
        handler = type("Handler", (_Handler,), {"script": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="scripted-anthropic", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ScriptedAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def turn_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.turn is not None]

    @property
    def turns_used(self) -> int:
        with self._lock:
            return self._next_turn

    # -- the script --------------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _record_unknown(self, request: RecordedRequest) -> None:
        with self._lock:
            self.unknown.append(request)

    def _reply_for(self, request: RecordedRequest) -> Reply:
        """The reply to one agent-loop request: the current turn, evaluated."""
        with self._lock:
            index = self._next_turn
            if index >= len(self.turns):
                self.problems.append(
                    f"request {len(self.requests)}: the script has no turn {index + 1} "
                    f"(it has {len(self.turns)})"
                )
                return ApiError(400, f"scripted server: no turn {index + 1} in the script")
            request.turn = index
            turn = self.turns[index]
        reply = turn(request) if callable(turn) else turn
        with self._lock:
            if isinstance(reply, ApiError):
                self._error_uses += 1
                if reply.times is not None and self._error_uses >= reply.times:
                    self._error_uses = 0
                    self._next_turn += 1
            else:
                self._next_turn += 1
        return reply

    def next_message_id(self) -> str:
        return f"msg_scripted_{next(self._messages):04d}"


class _Handler(BaseHTTPRequestHandler):
    script: ScriptedAnthropic
    protocol_version = "HTTP/1.1"
    server_version = "scripted-anthropic/1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: requests are recorded
        pass

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _request(self) -> RecordedRequest:
        raw = self._read_body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        url = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            raw=raw,
        )
        self.script._record(request)
        return request

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        request = self._request()
        self.script._record_unknown(request)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _dispatch(self) -> None:
        request = self._request()
        script = self.script
        if request.method == "POST" and request.path == "/v1/messages":
            body = request.body if isinstance(request.body, dict) else {}
            if request.is_turn:
                reply = script._reply_for(request)
            else:
                reply = [text(script.side_reply)]
            if isinstance(reply, ApiError):
                self._send_error(reply)
            elif body.get("stream"):
                self._send_stream(reply, body)
            else:
                self._send_json(200, self._message(reply, body, final=True))
        elif request.method == "POST" and request.path == "/v1/messages/count_tokens":
            self._send_json(200, {"input_tokens": script.input_tokens})
        else:
            script._record_unknown(request)
            self._send_error(ApiError(404, f"scripted server: no route {request.method} "
                                           f"{request.path}"))  # fmt: skip

    # -- answers -----------------------------------------------------------------------------

    def _message(self, blocks: list[Block], body: dict[str, Any], *, final: bool) -> dict:
        script = self.script
        return {
            "id": script.next_message_id(),
            "type": "message",
            "role": "assistant",
            "model": body.get("model") or script.model,
            "content": blocks if final else [],
            "stop_reason": _stop_reason(blocks) if final else None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": script.input_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": script.output_tokens if final else 1,
            },
        }

    def _send_json(self, status: int, data: Any) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("request-id", f"req_scripted_{id(data):x}")
        self.end_headers()
        self.wfile.write(payload)

    def _send_error(self, error: ApiError) -> None:
        self._send_json(
            error.status,
            {"type": "error", "error": {"type": error.error_type, "message": error.message}},
        )

    def _send_stream(self, blocks: list[Block], body: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("request-id", f"req_scripted_{id(blocks):x}")
        self.end_headers()
        message = self._message(blocks, body, final=False)
        self._event("message_start", {"type": "message_start", "message": message})
        self._event("ping", {"type": "ping"})
        for index, block in enumerate(blocks):
            for name, data in _block_events(index, block):
                self._event(name, data)
        self._event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": _stop_reason(blocks), "stop_sequence": None},
                "usage": {"output_tokens": self.script.output_tokens},
            },
        )
        self._event("message_stop", {"type": "message_stop"})
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _event(self, name: str, data: dict[str, Any]) -> None:
        chunk = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
        self.wfile.write(f"{len(chunk):X}\r\n".encode() + chunk + b"\r\n")
        self.wfile.flush()


def _stop_reason(blocks: list[Block]) -> str:
    return "tool_use" if any(b.get("type") == "tool_use" for b in blocks) else "end_turn"


def _block_events(index: int, block: Block) -> list[tuple[str, dict[str, Any]]]:
    """The `content_block_*` events that stream one block, as the real API splits them."""
    kind = block.get("type")
    if kind == "text":
        start = {"type": "text", "text": ""}
        value = block.get("text", "")
        half = len(value) // 2
        deltas = [{"type": "text_delta", "text": part} for part in (value[:half], value[half:])]
    elif kind == "thinking":
        start = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [
            {"type": "thinking_delta", "thinking": block.get("thinking", "")},
            {"type": "signature_delta", "signature": block.get("signature", "sig")},
        ]
    elif kind == "tool_use":
        start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        arguments = json.dumps(block.get("input", {}))
        half = len(arguments) // 2
        deltas = [
            {"type": "input_json_delta", "partial_json": part}
            for part in (arguments[:half], arguments[half:])
        ]
    else:
        raise ValueError(f"scripted server: unknown block type {kind!r}")
    events = [("content_block_start", {"type": "content_block_start", "index": index,
                                       "content_block": start})]  # fmt: skip
    events += [
        ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        for delta in deltas
        if delta.get("text") != "" and delta.get("partial_json") != ""  # no empty pieces
    ]
    events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events
