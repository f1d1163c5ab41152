"""Logging for CLI and server processes, with a filter that masks every configured secret, and
`mask_secrets`, the one masking used for every text the engine stores (events) or serves."""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterable

from engine.settings import Settings, known_secret_values

MASK = "**********"
# `Bearer <token>` as an upstream or proxy may quote an Authorization header back, even for a token
# this process was never configured with. Eight characters at least, so prose ("bearer bonds") stays.
_BEARER = re.compile(r"\b(bearer)(\s+)[A-Za-z0-9\-._~+/]{8,}=*", re.IGNORECASE)
_MIN_SECRET = 4  # shorter values would mask ordinary text


def mask_secrets(text: str, secrets: Iterable[str] | None = None) -> str:
    """`text` with every secret (default: every one configured in this process) and every
    `Bearer <token>` replaced by the mask. A secret is also found in its JSON-escaped form, so an
    encoded event line can be masked as it is."""
    for form in _secret_forms(tuple(known_secret_values() if secrets is None else secrets)):
        if form in text:
            text = text.replace(form, MASK)
    # Plain substring tests first: the regex costs about 20 us on a 2 KB line, most lines have no
    # "bearer" at all (any capitalisation but a rare mixed one contains "earer" or "EARER").
    if "earer" in text or "EARER" in text:
        text = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return text


@functools.lru_cache(maxsize=64)
def _secret_forms(secrets: tuple[str, ...]) -> tuple[str, ...]:
    """Each secret long enough to mask, as written and JSON-escaped (once per set of secrets)."""
    forms: list[str] = []
    for secret in secrets:
        if len(secret) >= _MIN_SECRET:
            forms += [f for f in dict.fromkeys((secret, json.dumps(secret)[1:-1])) if f not in forms]
    return tuple(forms)


class RedactSecrets(logging.Filter):
    """Replace any secret value (and any `Bearer <token>`) that reaches a log record (message,
    arguments, traceback) with a mask."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= _MIN_SECRET]

    def _mask(self, text: str) -> str:
        return mask_secrets(text, self.secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self._mask(message)
        if masked != message:
            record.msg, record.args = masked, None
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
    """`text` with the settings' secrets, any other secret of this process and `Bearer <token>` masked."""
    return mask_secrets(text, [*settings.secret_values(), *known_secret_values()])


def configure_logging(settings: Settings, level: int = logging.WARNING) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(settings.secret_values()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
