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

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            if any(s in message for s in self.secrets):
                for secret in self.secrets:
                    message = message.replace(secret, MASK)
                record.msg, record.args = message, None
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
