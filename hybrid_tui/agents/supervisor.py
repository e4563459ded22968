"""A small parent for one agent process, so that nothing the agent started outlives it.

    python -I .../hybrid_tui/agents/supervisor.py GRACE -- ARGV...

The agent CLIs start helpers in sessions of their own (the Kimi Code CLI runs every Bash
command in a new session), out of reach of a signal to the agent's process group. The
supervisor makes itself a child subreaper (`PR_SET_CHILD_SUBREAPER`, Linux), so every process
the agent leaves behind is re-parented to it instead of to init; it starts the agent as its
child, in the supervisor's own process group (the supervisor is started as a session leader
by `AgentProcess`, which signals that group), and hands the agent its stdin, stdout and stderr, keeping no copy of them, so
the agent's pipes close when the agent and its helpers are gone. When the agent has exited,
the supervisor stops what is left, newest first: SIGTERM to each child and its process group,
SIGKILL to what is still there GRACE seconds later, until it has no child left. Then it exits
as the agent did (the same exit code, or the same signal).

The supervisor ignores SIGTERM, SIGINT and SIGHUP: they reach the agent through the group, and
the supervisor stays to sweep; SIGKILL of the group ends both. It is run as a script (no
package import, `python -I`): it starts in a few tens of milliseconds.
Elsewhere than on Linux it runs the agent in its place (`exec`), without the sweep.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
POLL = 0.02  # seconds between looks for children that are gone, while sweeping


def _become_subreaper() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _children() -> list[int]:
    """Our live children (the agent's orphans, re-parented to us), from /proc."""
    me = str(os.getpid())
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{me}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{me}/task/{task}/children") as handle:
                found += [int(pid) for pid in handle.read().split()]
        except OSError:
            continue
    return found


def _reap() -> None:
    """Collect every child that has exited (zombies), without waiting."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _signal_tree(pid: int, sig: int) -> None:
    for target in (lambda: os.killpg(os.getpgid(pid), sig), lambda: os.kill(pid, sig)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass


def sweep(grace: float) -> None:
    """Stop every child we have until none is left: SIGTERM, then SIGKILL after `grace`."""
    own_group = os.getpgrp()
    while children := _children():
        for pid in children:
            try:
                group = os.getpgid(pid)
            except ProcessLookupError:
                continue
            if group == own_group:
                os.kill(pid, signal.SIGTERM)
            else:
                _signal_tree(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            _reap()
            if not set(children) & set(_children()):
                break
            time.sleep(POLL)
        for pid in set(children) & set(_children()):
            _signal_tree(pid, signal.SIGKILL)
        _reap()


def _exit_like(status: int) -> None:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)  # the signal did not end us (it is blocked or ignored)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--":
        sys.stderr.write("usage: supervisor.py GRACE -- ARGV...\n")
        os._exit(2)
    grace, command = float(argv[0]), argv[2:]
    if not sys.platform.startswith("linux") or not _become_subreaper():
        os.execvp(command[0], command)
    # A stop signal goes to the whole group, the agent included, which decides how to end;
    # we stay to sweep up after it. Ignored before the fork (no window), reset in the agent.
    stops = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    for sig in stops:
        signal.signal(sig, signal.SIG_IGN)
    agent = os.fork()
    if agent == 0:
        try:
            for sig in stops:
                signal.signal(sig, signal.SIG_DFL)
            os.execvp(command[0], command)
        except OSError as err:
            os.write(2, f"cannot run {command[0]}: {err.strerror}\n".encode())
            os._exit(127)

    # The agent has stdin, stdout and stderr now; we keep none, so they close with it.
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == agent:
            break
    sweep(grace)
    _exit_like(status)


if __name__ == "__main__":
    main(sys.argv[1:])
