"""Files only their owner can read: the state dir's directories (0700) and files (0600).

What hybrid-tui keeps of a run (its record, the transcript and stderr log, which hold whatever
the agent printed, secrets included, the spec and prompt copies, the checks' log) is private to
the user whatever their umask: directories are made 0700 and files are created 0600 (`open`'s
mode, not a later chmod, so no other user can open one in between). The umask is left alone:
it also governs the worktrees' files, which must keep git's usual modes.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """`path` as a directory only its owner can enter (0700), created when missing (its
    parents too, with the usual mode); an existing one of ours that others could enter is
    narrowed to 0700. OSError when that cannot be done (NotADirectoryError for a file there)."""
    try:
        path.mkdir(mode=PRIVATE_DIR)
    except FileExistsError:
        st = path.stat()  # a state dir reached through a symlink: what it points at
        if not stat.S_ISDIR(st.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path)) from None
        if st.st_mode & 0o077 and st.st_uid == os.getuid():
            path.chmod(stat.S_IMODE(st.st_mode) & ~0o077)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=PRIVATE_DIR, exist_ok=True)
    return path


def private_opener(path: str, flags: int) -> int:
    """An `opener` for `open()`: a file it creates is 0600."""
    return os.open(path, flags | os.O_CLOEXEC, PRIVATE_FILE)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, a file created 0600; OSError when it cannot be written."""
    with open(path, "w", encoding="utf-8", opener=private_opener) as handle:
        handle.write(text)
