"""Egress policy (runbook 000): decide before any socket is opened whether a URL may be called.

Loopback hosts as written (localhost, 127.0.0.0/8, ::1) are local and always allowed. Any other
host needs NO_NET_MODE off, the provider in PROVIDER_ALLOWLIST and the host in EGRESS_ALLOWLIST.
No DNS lookup is made: a name that merely resolves to loopback is still remote.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url


@dataclass(frozen=True)
class EgressDecision:
    allowed: bool
    host: str
    # which rule decided: loopback | no_net_mode | provider_allowlist | egress_allowlist |
    # allowlisted | bad_url | ambiguous_url
    rule: str

    @property
    def message(self) -> str:
        if self.allowed:
            return f"egress to {self.host} allowed ({self.rule})"
        reasons = {
            "no_net_mode": "NO_NET_MODE=true allows loopback hosts only",
            "provider_allowlist": "the provider is not in PROVIDER_ALLOWLIST",
            "egress_allowlist": "the host is not in EGRESS_ALLOWLIST",
            "bad_url": "the endpoint is not a valid http(s) URL",
            "ambiguous_url": "the endpoint's host is ambiguous (HTTP clients would read it differently)",
        }
        return f"egress to {self.host or '?'} blocked: {reasons.get(self.rule, self.rule)}"


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_host(url: str) -> str:
    """The host name of a URL as written, without credentials or port."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def safe_url(url: str) -> str:
    """A URL with any user:password part removed, for messages and logs."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        parts = parts._replace(netloc=netloc)
    return parts.geturl()


def transport_host(url: str) -> str | None:
    """The host requests/urllib3 would actually connect to, or None when it cannot parse the URL."""
    try:
        host = parse_url(url).host
    except LocationParseError:
        return None
    return (host or "").strip("[]").lower()


def check_egress(url: str, provider: str, *, no_net_mode: bool, provider_allowlist: list[str],
                 egress_allowlist: list[str]) -> EgressDecision:
    host = url_host(url)
    if not host or not url.lower().startswith(("http://", "https://")):
        return EgressDecision(False, host, "bad_url")
    # The policy must judge the host the HTTP client will connect to. Parsers disagree on odd
    # URLs (e.g. "http://evil.example\\@127.0.0.1/": urlsplit sees 127.0.0.1, urllib3 connects
    # to evil.example), so any URL whose two readings differ, or that holds a backslash,
    # whitespace or control character, is refused rather than guessed.
    if any(c == "\\" or c.isspace() or ord(c) < 32 for c in url) or transport_host(url) != host.strip("[]"):
        return EgressDecision(False, host, "ambiguous_url")
    if is_loopback_host(host):
        return EgressDecision(True, host, "loopback")
    if no_net_mode:
        return EgressDecision(False, host, "no_net_mode")
    if provider.lower() not in {p.lower() for p in provider_allowlist}:
        return EgressDecision(False, host, "provider_allowlist")
    if host not in {h.lower() for h in egress_allowlist}:
        return EgressDecision(False, host, "egress_allowlist")
    return EgressDecision(True, host, "allowlisted")
