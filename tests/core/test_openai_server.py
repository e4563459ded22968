"""The scripted OpenAI Chat Completions server (tests/support/servers/openai.py), spoken to with plain
http.client the way an OpenAI SDK does: streamed chunks reassembled, errors, script bookkeeping."""

from __future__ import annotations

import http.client
import json
from typing import Any

from tests.support.servers.openai import (
    QUOTA_MESSAGE,
    ApiError,
    ScriptedOpenAI,
    quota_exhausted,
    reasoning,
    text,
    tool_call,
)

TOOLS = [{"type": "function", "function": {"name": "Write", "parameters": {"type": "object"}}}]


def _post(server: ScriptedOpenAI, path: str, body: dict[str, Any]) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        payload = json.dumps(body).encode()
        connection.request("POST", path, payload, {"content-type": "application/json"})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _chunks(stream: bytes) -> list[Any]:
    """The `data:` payloads of an SSE body, parsed (`[DONE]` kept as the string)."""
    events = [e for e in stream.decode().split("\n\n") if e.strip()]
    assert all(e.startswith("data: ") for e in events)
    payloads = [e.removeprefix("data: ") for e in events]
    return [p if p == "[DONE]" else json.loads(p) for p in payloads]


def _assemble(chunks: list[Any]) -> dict[str, Any]:
    """The message, finish reason and usage, rebuilt from the chunks as a client would."""
    message: dict[str, Any] = {"content": "", "reasoning_content": "", "tool_calls": []}
    finish, usage = None, None
    for chunk in chunks[:-1]:
        assert chunk["object"] == "chat.completion.chunk"
        choice = chunk["choices"][0]
        delta = choice["delta"]
        message["content"] += delta.get("content") or ""
        message["reasoning_content"] += delta.get("reasoning_content") or ""
        for piece in delta.get("tool_calls") or ():
            index = piece.pop("index")
            if index == len(message["tool_calls"]):
                message["tool_calls"].append(piece)
            else:
                call = message["tool_calls"][index]
                call["function"]["arguments"] += piece["function"]["arguments"]
        finish = choice["finish_reason"] or finish
        usage = chunk.get("usage") or usage
    return {"message": message, "finish_reason": finish, "usage": usage}


def test_streams_text_reasoning_and_tool_calls_as_chunks():
    write = tool_call("Write", {"path": "hello.py", "content": "é\n"}, id="call_1")
    with ScriptedOpenAI([[reasoning("hmm"), text("Writing."), write], [text("Done.")]]) as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
        body = {"model": "m", "stream": True, "tools": TOOLS, "messages": []}
        status, headers, raw = _post(server, "/v1/chat/completions", body)
        assert status == 200 and headers["content-type"].startswith("text/event-stream")
        chunks = _chunks(raw)
        assert chunks[-1] == "[DONE]"
        assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
        result = _assemble(chunks)
        assert result["message"]["content"] == "Writing."
        assert result["message"]["reasoning_content"] == "hmm"
        assert result["message"]["tool_calls"] == [write]
        assert json.loads(write["function"]["arguments"]) == {"path": "hello.py", "content": "é\n"}
        assert result["finish_reason"] == "tool_calls"
        assert result["usage"] == {"prompt_tokens": 100, "completion_tokens": 10,
                                   "total_tokens": 110}  # fmt: skip
        # The path without /v1 works too; a plain text answer ends with "stop".
        _, _, raw = _post(server, "/chat/completions", body)
        done = _assemble(_chunks(raw))
        assert done["message"]["content"] == "Done." and done["finish_reason"] == "stop"
        assert [r.turn for r in server.requests] == [0, 1] and not server.problems


def test_non_stream_answer_side_calls_and_recorded_requests():
    messages = [
        {"role": "system", "content": "The current working directory is `/w/run`. Be brief."},
        {"role": "user", "content": "go"},
        {"role": "assistant", "tool_calls": [tool_call("Write", {}, id="call_9")]},
        {"role": "tool", "tool_call_id": "call_9", "content": "Wrote 1 bytes"},
    ]
    turns = [lambda request: [text(f"in {request.cwd}"), tool_call("Write", {"path": "a"})]]
    with ScriptedOpenAI(turns, side_reply="A title") as server:
        # Without tools: a side call (a title), answered with side_reply; no turn used.
        status, _, raw = _post(server, "/v1/chat/completions", {"messages": messages})
        assert status == 200 and json.loads(raw)["choices"][0]["message"]["content"] == "A title"
        body = {"model": "m", "tools": TOOLS, "messages": messages}
        status, headers, raw = _post(server, "/v1/chat/completions", body)
        assert status == 200 and headers["content-type"] == "application/json"
        answer = json.loads(raw)
        assert answer["object"] == "chat.completion" and answer["model"] == "m"
        choice = answer["choices"][0]
        assert choice["finish_reason"] == "tool_calls"
        assert choice["message"]["content"] == "in /w/run"
        call = choice["message"]["tool_calls"][0]
        assert call["type"] == "function" and call["function"] == {"name": "Write",
                                                                   "arguments": '{"path": "a"}'}  # fmt: skip
        request = server.turn_requests[0]
        assert request.tool_names == ["Write"] and request.cwd == "/w/run"
        assert [r["tool_call_id"] for r in request.tool_results()] == ["call_9"]
        assert request.headers["content-type"] == "application/json"
        assert server.turns_used == 1 and not server.problems


def test_an_error_with_times_then_the_next_turn_and_the_end_of_the_script():
    turns = [ApiError(503, "busy", times=1), [text("Back.")], quota_exhausted()]
    body = {"stream": True, "tools": TOOLS, "messages": []}
    with ScriptedOpenAI(turns) as server:
        status, headers, raw = _post(server, "/v1/chat/completions", body)
        assert status == 503 and headers["content-type"] == "application/json"
        assert json.loads(raw) == {"error": {"message": "busy", "type": "server_error",
                                             "param": None, "code": None}}  # fmt: skip
        status, _, raw = _post(server, "/v1/chat/completions", body)
        assert status == 200 and _assemble(_chunks(raw))["message"]["content"] == "Back."
        for _ in range(2):  # without times an error answers every later request
            status, _, raw = _post(server, "/v1/chat/completions", body)
            error = json.loads(raw)["error"]
            assert status == 429 and error["type"] == "exceeded_current_quota_error"
            assert error["message"] == QUOTA_MESSAGE
            assert error["message"].startswith("You exceeded your current token quota")
        assert server.turns_used == 2 and not server.problems
        # Unknown paths: 404 with an error body, logged.
        status, _, raw = _post(server, "/v1/messages", {})
        assert status == 404
        assert json.loads(raw)["error"]["message"] == "scripted server: no route POST /v1/messages"
        assert [r.path for r in server.unknown] == ["/v1/messages"]
    with ScriptedOpenAI([]) as server:
        status, _, _ = _post(server, "/v1/chat/completions", body)
        assert status == 400
        assert server.problems == ["request 1: the script has no turn 1 (it has 0)"]


def test_a_custom_body_and_headers():
    error = ApiError(429, body={"error": {"message": "slow down"}}, headers={"retry-after": "2"})
    with ScriptedOpenAI([error]) as server:
        status, headers, raw = _post(server, "/v1/chat/completions", {"tools": TOOLS})
        assert (status, headers["retry-after"]) == (429, "2")
        assert json.loads(raw) == {"error": {"message": "slow down"}}
