"""The recorded agent streams (fixtures/agent-streams): a recording's lines and what the agent's
process reported for it, and the golden parse and verdict of every recorded kimi stream."""

from __future__ import annotations

from hybrid_tui.agents.base import ProcessOutcome
from hybrid_tui.agents.events import Text, Thinking, ToolCall, ToolResult
from tests.support.repos import AGENT_STREAMS

KIMI_FIXTURES = sorted(p.stem for p in AGENT_STREAMS.glob("kimi_*.jsonl"))

WRITE_OK = "<system>File successfully overwritten. Current size: {} bytes.</system>"
SHELL_OK = "<system>Command executed successfully.</system>"
REPEAT_REMINDER = (
    "\n\n<system-reminder>\nYou are repeating the exact same tool call with identical "
    "parameters. Please carefully analyze the previous result. If the task is not yet "
    "complete, try a different method or parameters instead of repeating the same call.\n"
    "</system-reminder>"
)


def _shell_loop(call_id: str, reminder: str = "") -> list[list]:
    return [
        [ToolCall(call_id, "Shell", {"command": "echo loop"}, key_arg="echo loop")],
        [ToolResult(call_id, f"{SHELL_OK}\nloop\n{reminder}")],
    ]


THINKING = [
    [
        Thinking("The user wants a file. I should call WriteFile."),
        Text("Writing it now."),
        ToolCall(
            "call_write_t",
            "WriteFile",
            {"path": "think.txt", "content": "thought\n"},
            key_arg="think.txt",
        ),
    ],
    [ToolResult("call_write_t", WRITE_OK.format(8))],
    [Thinking("File written; summarize."), Text("Done thinking; think.txt created.")],
]

# fixture -> (events per stdout line, steps, session id from NAME.stderr)
GOLDEN: dict[str, tuple[list[list], int, str]] = {
    "kimi_success": (
        [
            [
                Text("I'll create the file."),
                ToolCall(
                    "call_write_1",
                    "WriteFile",
                    {"path": "hello.txt", "content": "hello from fake model\n"},
                    key_arg="hello.txt",
                ),
            ],
            [ToolResult("call_write_1", WRITE_OK.format(22))],
            [ToolCall("call_shell_1", "Shell", {"command": "ls"}, key_arg="ls")],
            [ToolResult("call_shell_1", f"{SHELL_OK}\nhello.txt\n")],
            [Text("Created hello.txt and listed the directory.")],
        ],
        3,
        "2a47416c-43bf-46fd-8fe6-a29c47d04c27",
    ),
    "kimi_thinking": (THINKING, 2, "7aeecee2-a5d8-41e9-84ca-a065999cb7cb"),
    "kimi_kimitype_thinking": (THINKING, 2, "9fc4fb3b-579b-41eb-bef0-330893076b2d"),
    "kimi_thinking_nocaps": (THINKING, 2, "90c5321c-7bc4-4233-82d0-9d34d80493c0"),
    "kimi_max_steps": (
        [*_shell_loop("call_061d033d0809"), [Text("Max number of steps reached: 1", raw=True)]],
        1,
        "9103b639-c26d-4aee-9f75-4a14492e6727",
    ),
    "kimi_max_steps3": (
        [
            *_shell_loop("call_c578e5e47b83"),
            *_shell_loop("call_7ff0026d3117"),
            *_shell_loop("call_b7902439a1c3", REPEAT_REMINDER),
            [Text("Max number of steps reached: 3", raw=True)],
        ],
        3,
        "a07fc909-6ebe-4928-a59c-4db670c8cfc3",
    ),
    "kimi_server_down": (
        [[Text("Connection error.", raw=True)]],
        0,
        "8328a5db-15a7-492e-8d03-7113f27f9dab",
    ),
    "kimi_http400": (
        [
            [
                Text(
                    "Error code: 400 - {'error': {'message': 'scripted error', "
                    "'type': 'server_error'",
                    raw=True,
                )
            ],
            [Text("}}", raw=True)],
        ],
        0,
        "791e6e26-486d-4947-b471-af3e11420eb2",
    ),
    "kimi_http400_columns400": (
        [
            [
                Text(
                    "Error code: 400 - {'error': {'message': 'scripted error', "
                    "'type': 'server_error'}}",
                    raw=True,
                )
            ]
        ],
        0,
        "1e82748c-e0b6-4fb7-a37f-62dc0708edcb",
    ),
    "kimi_http500": (
        [
            [
                Text(
                    "Error code: 500 - {'error': {'message': 'scripted error', "
                    "'type': 'server_error'",
                    raw=True,
                )
            ],
            [Text("}}", raw=True)],
        ],
        0,
        "f7ca165e-6db9-46dd-b8c8-db1d6d267256",
    ),
}


# fixture -> (status, failure_kind, words the message must hold)
VERDICTS: dict[str, tuple[str, str | None, list[str]]] = {
    "kimi_success": ("done", None, ["3 step"]),
    "kimi_thinking": ("done", None, ["2 step"]),
    "kimi_kimitype_thinking": ("done", None, ["2 step"]),
    "kimi_thinking_nocaps": ("done", None, ["2 step"]),
    "kimi_max_steps": (
        "failed", "max_steps", ["Max number of steps reached: 1", "agents.kimi.max_steps"]
    ),
    "kimi_max_steps3": (
        "failed", "max_steps", ["Max number of steps reached: 3", "split the spec"]
    ),
    "kimi_server_down": ("failed", "transient", ["Connection error.", "retry"]),
    "kimi_http400": ("failed", "agent_error", ["Error code: 400", "'server_error' }}"]),
    "kimi_http400_columns400": ("failed", "agent_error", ["Error code: 400", "'server_error'}}"]),
    "kimi_http500": ("failed", "transient", ["Error code: 500", "retry"]),
}


def fixture_lines(name: str) -> list[str]:
    return (AGENT_STREAMS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()


def fixture_outcome(name: str) -> ProcessOutcome:
    """What AgentProcess reports for a recorded run: rc, stderr, the last non-blank lines."""
    return ProcessOutcome(
        returncode=int((AGENT_STREAMS / f"{name}.rc").read_text()),
        stderr_tail=(AGENT_STREAMS / f"{name}.stderr").read_text(),
        last_lines=[line for line in fixture_lines(name) if line.strip()][-20:],
    )
