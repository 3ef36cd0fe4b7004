"""``DirectoryLock``: one trainer at a time per checkpoint directory.

The lock is the file ``.gradstat.lock`` in the directory, created exclusively and holding
the owner's process id. A lock whose process no longer runs (a trainer that was killed) is
stale: it is removed, with a warning, and taken over. The check of the process is local, so
the directory must not be shared between machines.
"""

from __future__ import annotations

import logging
import os
import pathlib
from types import TracebackType

logger = logging.getLogger("gradstat.nn.training")

LOCK_NAME = ".gradstat.lock"


class DirectoryLocked(FileExistsError):
    """Another running trainer holds the checkpoint directory."""


class DirectoryLock:
    """Context manager: ``with DirectoryLock(d): train…`` — raises ``DirectoryLocked`` if a
    running process (this one included) already holds ``d``."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = pathlib.Path(directory)
        self.path = self.directory / LOCK_NAME
        self.held = False

    def acquire(self) -> DirectoryLock:
        if self.directory.exists() and not self.directory.is_dir():
            raise NotADirectoryError(f"checkpoint directory {self.directory} is a file")
        self.directory.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner()
                if _running(owner):
                    raise DirectoryLocked(
                        f"{self.directory} is in use by another trainer "
                        f"(pid {owner}, lock file {self.path}): wait for it to finish, "
                        "or choose another checkpoint directory"
                    ) from None
                logger.warning("removing the stale lock %s of pid %s, which no longer runs", self.path, owner)
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                f.write(f"{os.getpid()}\n")
            self.held = True
            return self
        raise DirectoryLocked(f"could not lock {self.directory}: another trainer keeps taking {self.path}")

    def _owner(self) -> int:
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            return 0  # released meanwhile: try again
        try:
            return int(text)
        except ValueError:
            raise DirectoryLocked(
                f"{self.path} holds no process id ({text[:40]!r}); "
                f"remove it if no trainer is using {self.directory}"
            ) from None

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> DirectoryLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _running(pid: int) -> bool:
    """Is process ``pid`` alive (on this machine)?"""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    return True
