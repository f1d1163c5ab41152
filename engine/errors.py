"""The engine's one small error tree. Every error carries a stable `code` and a CLI exit code."""

from __future__ import annotations

# CLI exit codes shared by every command (runbook 004: quality_alert 0/2, golden CI 0/1).
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_PROVIDER = 3
EXIT_INTERRUPTED = 130


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


class ProviderError(EngineError):
    """A model provider failed; `code` is one of the PROVIDER_* codes or EGRESS_BLOCKED."""

    code = "PROVIDER_ERROR"
    exit_code = EXIT_PROVIDER


class EgressBlockedError(ProviderError):
    """The egress policy refused a call before any socket was opened."""

    code = "EGRESS_BLOCKED"
