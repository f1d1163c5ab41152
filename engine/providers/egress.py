"""Egress policy (runbook 000): decide before any socket is opened whether a URL may be called.

Loopback hosts as written (localhost, 127.0.0.0/8, ::1) are local and always allowed. Any other
host needs NO_NET_MODE off, the provider in PROVIDER_ALLOWLIST and the host in EGRESS_ALLOWLIST.
No DNS lookup is made: a name that merely resolves to loopback is still remote.

Every request also goes out as `route_request` plans it: redirects are never followed (each hop
would be a new, unjudged URL), and a proxy (from the environment or the session) is a host like
any other: it must pass the same policy, so NO_NET_MODE refuses it, and loopback targets never
go through one. `send_get` sends a GET that way.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from requests.utils import get_environ_proxies, select_proxy
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
        if self.rule.startswith(PROXY_RULE):
            rule = self.rule[len(PROXY_RULE):]
            return (f"egress through the proxy {self.host or '?'} blocked (a proxy must pass the policy "
                    f"like any host; unset HTTP(S)_PROXY or allow it): {reasons.get(rule, rule)}")
        return f"egress to {self.host or '?'} blocked: {reasons.get(self.rule, self.rule)}"


PROXY_RULE = "proxy_"  # prefix of the rule when the proxy, not the target, was refused


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


EgressCheck = Callable[[str], EgressDecision]


@dataclass(frozen=True)
class Route:
    """How one request may go out: the decision, and the proxy map for the transport ({} = direct)."""

    decision: EgressDecision
    proxies: dict[str, str] = field(default_factory=dict)


def route_request(url: str, check: EgressCheck, configured: Mapping[str, str] | None = None) -> Route:
    """Judge `url` and the proxy that would carry it, before any socket is opened.

    `configured` is a session's own proxy map (tried first); else the environment's proxy variables
    (honouring NO_PROXY) apply. A loopback target always goes direct. A proxy is judged by `check`
    like any URL: under NO_NET_MODE a non-loopback proxy is refused, otherwise it must be allow-listed.
    """
    decision = check(url)
    if not decision.allowed or decision.rule == "loopback":
        return Route(decision)
    proxy = select_proxy(url, dict(configured)) if configured else None
    if not proxy:
        proxy = select_proxy(url, get_environ_proxies(url))
    if not proxy:
        return Route(decision)
    through = check(proxy if "://" in proxy else f"http://{proxy}")
    if not through.allowed:
        return Route(EgressDecision(False, through.host, PROXY_RULE + through.rule))
    return Route(decision, {urlsplit(url).scheme.lower(): proxy})


def env_verify(verify: bool | str) -> bool | str:
    """TLS verification as requests would take it from the environment (its CA bundle variables),
    for sessions that otherwise ignore the environment."""
    if verify is True:
        return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return verify


class PolicySession(requests.Session):
    """A requests session that takes nothing from the environment (no proxies, no .netrc
    credentials) and never follows a redirect, whichever of its methods is used: its routes come
    from `route_request` only."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        return None  # a redirect's target was never judged: the 3xx is the answer


def policy_session() -> requests.Session:
    return PolicySession()


def send_get(session: requests.Session, url: str, route: Route, *, headers: Mapping[str, str] | None = None,
             timeout: float) -> requests.Response:
    """GET `url` through the transport adapter with the route's proxies; a redirect is returned as
    it is, never followed (its target was not judged). Raises requests.RequestException."""
    prepared = session.prepare_request(requests.Request("GET", url, headers=dict(headers or {})))
    response = session.get_adapter(url).send(prepared, timeout=timeout, proxies=route.proxies,
                                              verify=env_verify(session.verify), cert=session.cert)
    response.content  # read it all, so the connection goes back to the pool  # noqa: B018
    return response


def describe_status(url: str, response: requests.Response) -> str:
    """`<url> answered HTTP <status>`, saying so when it was a redirect that was not followed."""
    text = f"{safe_url(url)} answered HTTP {response.status_code}"
    if response.is_redirect:
        text += " (a redirect: not followed, its target is not judged by the egress policy)"
    return text
