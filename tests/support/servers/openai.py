"""A scripted OpenAI-compatible Chat Completions server on 127.0.0.1, for driving real CLIs offline
(the Kimi Code CLI with `KIMI_MODEL_PROVIDER_TYPE=kimi` or `openai`).

    with ScriptedOpenAI([
        [text("Writing."), tool_call("Write", {"path": "hello.py", "content": "x = 1\\n"})],
        quota_exhausted(),
    ]) as server:
        env = {"KIMI_MODEL_PROVIDER_TYPE": "kimi", "KIMI_MODEL_BASE_URL": server.base_url, ...}
        ...
        assert len(server.turn_requests) == 2 and not server.problems

Behaviour choices (those of tests/support/servers/anthropic.py where the APIs allow):
- The script is a list of turns. A turn is a list of parts (`text`, `reasoning`, `tool_call`),
  an `ApiError` (HTTP status + OpenAI error body), or a callable that gets the `RecordedRequest`
  and returns one of those (`request.cwd`, `request.tool_results()`, ...).
- `base_url` ends in /v1, as OpenAI clients take it (they append /chat/completions). Both
  `POST /v1/chat/completions` and `POST /chat/completions` answer. Requests that offer tools
  (the agent loop) consume a turn; side calls without tools get `side_reply` and do not.
- `"stream": true` is answered as the real API streams: `data: {chat.completion.chunk}` events,
  the first delta `{"role": "assistant", "content": ""}`, then content / reasoning_content /
  tool_calls pieces (a call's index, id and name first, its arguments in two pieces), a last
  chunk with `finish_reason` (`tool_calls` or `stop`) and `usage`, then `data: [DONE]`; chunked
  transfer encoding on a keep-alive HTTP/1.1 connection. Otherwise one `chat.completion` JSON.
- An `ApiError` answers every later request by default; `times=N` answers N requests, then the
  next turn starts. `quota_exhausted()` is the 429 Moonshot sends when the token quota is gone
  (`exceeded_current_quota_error`, "You exceeded your current token quota...").
- When the script has no turn left, the request gets HTTP 400 and a line in `problems`.
- `GET /v1/models` lists the model; any other path is a 404 logged in `unknown`. Every request
  is recorded in `requests`. Standard library only.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Part = dict[str, Any]

QUOTA_MESSAGE = "You exceeded your current token quota: 0, please check your account balance"


@dataclass(frozen=True)
class ApiError:
    """An HTTP error answer. The body is `body` if given, else the OpenAI shape
    `{"error": {"message", "type", "param": null, "code"}}`."""

    status: int
    message: str = "scripted error"
    type: str = ""  # default from the status (Moonshot's names): 429 rate_limit_reached_error, ...
    code: str | None = None
    body: Any = None
    headers: Mapping[str, str] | None = None  # e.g. {"retry-after": "1"}
    times: int | None = None  # requests it answers before the script moves on; None: all

    def json_body(self) -> Any:
        if self.body is not None:
            return self.body
        error_type = self.type or _ERROR_TYPES.get(self.status, "server_error")
        return {"error": {"message": self.message, "type": error_type, "param": None,
                          "code": self.code}}  # fmt: skip


_ERROR_TYPES = {  # Moonshot's names (OpenAI's own API says invalid_request_error for most)
    400: "invalid_request_error",
    401: "invalid_authentication_error",
    403: "permission_denied_error",
    404: "resource_not_found_error",
    429: "rate_limit_reached_error",
    500: "server_error",
}


def quota_exhausted(times: int | None = None) -> ApiError:
    """The answer of Moonshot's API once the account's token quota is used up."""
    return ApiError(429, QUOTA_MESSAGE, type="exceeded_current_quota_error", times=times)


Reply = list[Part] | ApiError
Turn = Reply | Callable[["RecordedRequest"], Reply]

_call_ids = itertools.count(1)


def text(value: str) -> Part:
    return {"type": "text", "text": value}


def reasoning(value: str) -> Part:
    """Thinking, as Kimi and DeepSeek stream it: `delta.reasoning_content`."""
    return {"type": "reasoning", "text": value}


def tool_call(name: str, arguments: dict[str, Any] | str, id: str | None = None) -> Part:
    """A tool call in the API's shape; `arguments` is encoded to the JSON string it carries."""
    args = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return {"id": id or f"call_scripted_{next(_call_ids)}", "type": "function",
            "function": {"name": name, "arguments": args}}  # fmt: skip


_CWD = re.compile(r"(?:working directory(?: is)?|cwd)\s*:?\s*`?(/[^\s`<]+)", re.IGNORECASE)


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
    def messages(self) -> list[dict[str, Any]]:
        body = self.body if isinstance(self.body, dict) else {}
        return [m for m in body.get("messages") or () if isinstance(m, dict)]

    @property
    def is_turn(self) -> bool:
        """A chat completion of the agent loop: one that offers tools."""
        return (self.method == "POST" and self.path in _COMPLETIONS
                and isinstance(self.body, dict) and bool(self.body.get("tools")))  # fmt: skip

    @property
    def tool_names(self) -> list[str]:
        body = self.body if isinstance(self.body, dict) else {}
        tools = [t for t in body.get("tools") or () if isinstance(t, dict)]
        return [(t.get("function") or {}).get("name", "") for t in tools]

    def all_text(self) -> str:
        """Every message's text (system prompt included), joined: what to search."""
        parts: list[str] = []
        for message in self.messages:
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, list):
                parts += [p.get("text", "") for p in content if isinstance(p, dict)]
        return "\n".join(parts)

    @property
    def cwd(self) -> str | None:
        match = _CWD.search(self.all_text())
        return match.group(1) if match else None

    def tool_results(self) -> list[dict[str, Any]]:
        """The `role: tool` messages at the end (the results the agent sends back)."""
        results: list[dict[str, Any]] = []
        for message in reversed(self.messages):
            if message.get("role") != "tool":
                break
            results.insert(0, message)
        return results


_COMPLETIONS = ("/v1/chat/completions", "/chat/completions")


class ScriptedOpenAI:
    """The server; a context manager. `base_url` is what OpenAI clients take (ends in /v1)."""

    def __init__(self, turns: Iterable[Turn], *, model: str = "scripted", side_reply: str = "ok",
                 prompt_tokens: int = 100, completion_tokens: int = 10) -> None:  # fmt: skip
        self.turns: list[Turn] = list(turns)
        self.model = model
        self.side_reply = side_reply
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        self.requests: list[RecordedRequest] = []
        self.unknown: list[RecordedRequest] = []
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._next_turn = 0
        self._error_uses = 0
        self._ids = itertools.count(1)
        self._httpd: ThreadingHTTPServer | None = None

    def start(self) -> ScriptedOpenAI:
        handler = type("Handler", (_Handler,), {"script": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         name="scripted-openai", daemon=True).start()  # fmt: skip
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ScriptedOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def turn_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.turn is not None]

    @property
    def turns_used(self) -> int:
        with self._lock:
            return self._next_turn

    def _reply_for(self, request: RecordedRequest) -> Reply:
        with self._lock:
            index = self._next_turn
            if index >= len(self.turns):
                self.problems.append(f"request {len(self.requests)}: the script has no turn "
                                     f"{index + 1} (it has {len(self.turns)})")  # fmt: skip
                return ApiError(400, f"scripted server: no turn {index + 1} in the script")
            request.turn = index
            turn = self.turns[index]
        reply = turn(request) if callable(turn) else turn
        with self._lock:
            if not isinstance(reply, ApiError):
                self._next_turn += 1
            elif reply.times is not None:
                self._error_uses += 1
                if self._error_uses >= reply.times:
                    self._error_uses, self._next_turn = 0, self._next_turn + 1
        return reply


class _Handler(BaseHTTPRequestHandler):
    script: ScriptedOpenAI
    protocol_version = "HTTP/1.1"
    server_version = "scripted-openai/1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: requests are recorded
        pass

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                data += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
            return bytes(data)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        raw = self._read_body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        url = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = RecordedRequest(self.command, url.path, parse_qs(url.query), headers, body, raw)
        script = self.script
        with script._lock:
            script.requests.append(request)
        if request.method == "POST" and request.path in _COMPLETIONS:
            reply = script._reply_for(request) if request.is_turn else [text(script.side_reply)]
            options = body if isinstance(body, dict) else {}
            if isinstance(reply, ApiError):
                self._send_json(reply.status, reply.json_body(), reply.headers)
            elif options.get("stream"):
                self._send_stream(reply, options)
            else:
                self._send_json(200, self._completion(reply, options))
        elif request.method == "GET" and request.path in ("/v1/models", "/models"):
            model = {"id": script.model, "object": "model", "created": 0, "owned_by": "scripted"}
            self._send_json(200, {"object": "list", "data": [model]})
        else:
            with script._lock:
                script.unknown.append(request)
            message = f"scripted server: no route {request.method} {request.path}"
            self._send_json(404, ApiError(404, message).json_body())

    # -- answers -----------------------------------------------------------------------------

    def _usage(self) -> dict[str, int]:
        s = self.script
        return {"prompt_tokens": s.prompt_tokens, "completion_tokens": s.completion_tokens,
                "total_tokens": s.prompt_tokens + s.completion_tokens}  # fmt: skip

    def _envelope(self, kind: str, options: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-scripted-{next(self.script._ids):04d}",
            "object": kind,
            "created": int(time.time()),
            "model": options.get("model") or self.script.model,
        }

    def _completion(self, parts: list[Part], options: dict[str, Any]) -> dict[str, Any]:
        content = "".join(p["text"] for p in parts if p.get("type") == "text")
        message: dict[str, Any] = {"role": "assistant", "content": content or None}
        thinking = "".join(p["text"] for p in parts if p.get("type") == "reasoning")
        if thinking:
            message["reasoning_content"] = thinking
        calls = [p for p in parts if p.get("type") == "function"]
        if calls:
            message["tool_calls"] = calls
        choice = {"index": 0, "message": message, "finish_reason": _finish_reason(parts)}
        return {**self._envelope("chat.completion", options), "choices": [choice],
                "usage": self._usage()}  # fmt: skip

    def _send_json(self, status: int, data: Any, headers: Mapping[str, str] | None = None) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _send_stream(self, parts: list[Part], options: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        envelope = self._envelope("chat.completion.chunk", options)
        deltas = [{"role": "assistant", "content": ""}, *_deltas(parts)]
        for delta in deltas:
            choice = {"index": 0, "delta": delta, "finish_reason": None}
            self._chunk({**envelope, "choices": [choice]})
        last = {"index": 0, "delta": {}, "finish_reason": _finish_reason(parts)}
        self._chunk({**envelope, "choices": [last], "usage": self._usage()})
        self._write(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _chunk(self, data: dict[str, Any]) -> None:
        self._write(f"data: {json.dumps(data)}\n\n".encode())

    def _write(self, chunk: bytes) -> None:
        self.wfile.write(f"{len(chunk):X}\r\n".encode() + chunk + b"\r\n")
        self.wfile.flush()


def _finish_reason(parts: list[Part]) -> str:
    return "tool_calls" if any(p.get("type") == "function" for p in parts) else "stop"


def _halves(value: str) -> list[str]:
    return [piece for piece in (value[: len(value) // 2], value[len(value) // 2 :]) if piece]


def _deltas(parts: list[Part]) -> list[dict[str, Any]]:
    """The `choices[0].delta` pieces that stream the parts, split as the real API splits them."""
    deltas: list[dict[str, Any]] = []
    calls = 0
    for part in parts:
        kind = part.get("type")
        if kind == "text":
            deltas += [{"content": piece} for piece in _halves(part["text"])]
        elif kind == "reasoning":
            deltas += [{"reasoning_content": piece} for piece in _halves(part["text"])]
        elif kind == "function":
            function = part["function"]
            head = {"index": calls, "id": part["id"], "type": "function",
                    "function": {"name": function["name"], "arguments": ""}}  # fmt: skip
            deltas.append({"tool_calls": [head]})
            deltas += [{"tool_calls": [{"index": calls, "function": {"arguments": piece}}]}
                       for piece in _halves(function["arguments"])]  # fmt: skip
            calls += 1
        else:
            raise ValueError(f"scripted server: unknown part {part!r}")
    return deltas
