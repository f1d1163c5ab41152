"""Logging for CLI and server processes, with a filter that masks every configured secret."""

from __future__ import annotations

import logging

from engine.settings import Settings

MASK = "**********"


class RedactSecrets(logging.Filter):
    """Replace any secret value that reaches a log record (message or arguments) with a mask."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 4]

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            if any(s in message for s in self.secrets):
                record.msg, record.args = self._mask(message), None
            # A traceback can quote a secret too (an exception message, a local header dict):
            # pre-format it here, masked, so handlers print exc_text instead of re-formatting.
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = self._mask(record.exc_text)
            if record.stack_info:
                record.stack_info = self._mask(record.stack_info)
        return True


def redact(text: str, settings: Settings) -> str:
    for secret in settings.secret_values():
        text = text.replace(secret, MASK)
    return text


def configure_logging(settings: Settings, level: int = logging.WARNING) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(settings.secret_values()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
