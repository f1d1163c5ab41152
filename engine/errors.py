"""The engine's one small error tree. Every error carries a stable `code` and a CLI exit code."""

from __future__ import annotations

import errno

# CLI exit codes shared by every command (runbook 004: quality_alert 0/2, golden CI 0/1).
from engine.runbook import (  # noqa: F401  (re-exported)
    EXIT_BAD_INPUT,
    EXIT_DISK_FULL,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PROVIDER,
)


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "ENGINE_ERROR"
    exit_code = EXIT_FAILURE

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.code

    def to_dict(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


class ConfigError(EngineError):
    """A settings value, profile file or model_config.json is invalid."""

    code = "CONFIG_INVALID"
    exit_code = EXIT_BAD_INPUT


class InputError(EngineError):
    """A user-supplied file or argument is invalid; the message names the file, line or field."""

    code = "INPUT_INVALID"
    exit_code = EXIT_BAD_INPUT


class StateError(EngineError):
    """Persistent state (adaptive state, bandit database) could not be read or written."""

    code = "STATE_ERROR"


class DiskFullError(StateError, OSError):
    """A write failed for lack of space; the file was left as it was before the write.

    Also an OSError, so code that already tolerates an unwritable log (the gateway logging an
    error event) keeps tolerating a full disk.
    """

    code = "DISK_FULL"
    exit_code = EXIT_DISK_FULL

    def __init__(self, path: object) -> None:
        super().__init__(f"disk full: {path}")
        self.path = path


# errno values meaning "no room": disk full, quota exceeded, file-size limit (RLIMIT_FSIZE).
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and not isinstance(exc, DiskFullError) and exc.errno in NO_SPACE_ERRNOS
