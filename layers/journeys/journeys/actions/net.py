"""Safe outbound HTTP for Actions and webhook steps.

Journey authors (and contact data flowing through templates) choose URLs, so every request is an SSRF
risk: each destination, and each redirect hop, is resolved and refused if any address is internal. The
connection is then pinned to the checked addresses so a second DNS answer cannot swap in another one.
"""

from __future__ import annotations

import email.utils
import hashlib
import ipaddress
import json as jsonlib
import logging
import os
import random
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping

import httpx

from journeys.actions.errors import ActionError, ActionTimeout, OutboundBlocked
from journeys.actions.secrets import SecretResolver, reveal_headers

__all__ = [
    "ActionError", "ActionTimeout", "OutboundBlocked", "OutboundPolicy", "HttpResult", "Deadline",
    "request", "call_webhook", "check_destination", "idempotency_key",
]

log = logging.getLogger("journeys.actions")
# A library's logger: records still reach the handlers of the application (Powertools' on AWS), but with
# none configured (the `journeys actions` CLI) Python's last-resort handler must not print retry warnings
# on stderr next to the one error line.
log.addHandler(logging.NullHandler())

MAX_REDIRECTS = 5
MAX_BODY_BYTES = 1024 * 1024  # kept in memory and, on AWS, in Step Functions state (256 KiB limit there anyway)
BACKOFF_BASE = 0.2
BACKOFF_CAP = 2.0
RETRY_AFTER_MAX = 5.0  # a longer Retry-After is not waited for in a Lambda: the response is returned as is
USER_AGENT = "journeys-actions/0.1"
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
# Dropped when a redirect leaves the origin, like browsers do, so credentials never follow to another host.
ALWAYS_SENSITIVE = ("authorization", "proxy-authorization", "cookie")

_CGNAT = ipaddress.ip_network("100.64.0.0/10")  # not covered by is_private in Python 3.11
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # embeds an IPv4 address that must be checked too

# Indirection so tests can simulate a DNS answer without touching the network.
_getaddrinfo = socket.getaddrinfo


@dataclass(frozen=True)
class OutboundPolicy:
    """Where Actions may connect. The default refuses everything that is not a public address."""

    allow_loopback: bool = False
    allowlist: tuple[str, ...] = ()  # hostnames (exact, case-insensitive) or CIDRs / single IPs

    def __post_init__(self):
        object.__setattr__(self, "allowlist", tuple(self.allowlist))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "OutboundPolicy":
        """JOURNEYS_ALLOW_LOOPBACK=1 and JOURNEYS_OUTBOUND_ALLOWLIST=host,10.1.0.0/16 (for local runs)."""
        env = os.environ if environ is None else environ
        allow = env.get("JOURNEYS_ALLOW_LOOPBACK", "").strip().lower() in {"1", "true", "yes"}
        entries = tuple(e.strip() for e in env.get("JOURNEYS_OUTBOUND_ALLOWLIST", "").split(",") if e.strip())
        return cls(allow_loopback=allow, allowlist=entries)

    def _networks(self) -> list:
        nets = []
        for entry in self.allowlist:
            try:
                nets.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                pass  # a hostname entry
        return nets

    def host_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(entry.strip().lower().rstrip(".") == host for entry in self.allowlist)

    def ip_allowed(self, ip) -> bool:
        return any(ip.version == net.version and ip in net for net in self._networks())


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: Any  # parsed JSON, text, or None when empty
    url: str = ""
    truncated: bool = False
    attempts: int = 1

    def to_dict(self) -> dict:
        """What a step stores: a body cut at MAX_BODY_BYTES says so, or a later step would trust half an answer."""
        result = {"status": self.status, "headers": self.headers, "body": self.body}
        if self.truncated:
            result["truncated"] = True
        return result


@dataclass(frozen=True)
class Deadline:
    """The time limit of a whole call (all attempts, back-offs and redirect hops), so that a step gives up,
    and says so, before the Lambda running it is killed. `seconds` None: no limit beyond each attempt's."""

    seconds: float | None = None
    at: float | None = None  # time.monotonic() value

    @classmethod
    def after(cls, seconds: float | None) -> "Deadline":
        return cls(seconds, None if seconds is None else time.monotonic() + seconds)

    def remaining(self) -> float:
        return float("inf") if self.at is None else self.at - time.monotonic()

    def cap(self, timeout: float) -> float:
        """An attempt's timeout: never beyond the deadline (httpx needs a positive number)."""
        return max(0.01, min(timeout, self.remaining()))

    def sooner_of(self, seconds: float) -> float:
        """The time.monotonic() value `seconds` from now, or the deadline if that comes first."""
        until = time.monotonic() + seconds
        return until if self.at is None else min(until, self.at)

    def allows(self, wait: float) -> bool:
        """Is there time to wait `wait` seconds and then still make an attempt?"""
        return self.remaining() > wait + 0.01


def idempotency_key(ref: str | None, name: str) -> str:
    """The `Idempotency-Key` header of a POST. From the calling step's stable reference (execution x step x seq)
    and what is called, it is the same on every retry (ours, a Lambda's, Step Functions') and new on a loop's
    next pass; without a reference (a one-off CLI call) it is fresh."""
    if ref is None:
        return str(uuid.uuid4())
    return "journeys-" + hashlib.sha256(f"{ref}|{name}".encode()).hexdigest()[:32]


def _blocked_reason(ip) -> str | None:
    """Why an address is internal, or None for a public one."""
    embedded = getattr(ip, "ipv4_mapped", None) or getattr(ip, "sixtofour", None)
    if embedded is None and ip.version == 6 and ip in _NAT64:
        embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if embedded is not None:
        reason = _blocked_reason(embedded)
        return f"{reason} (embedded in {ip})" if reason else None
    if ip.is_unspecified:
        return "unspecified address"
    if ip.is_loopback:
        return "loopback address"
    if ip.is_link_local:
        return "link-local address (cloud metadata lives here)"
    if ip.is_multicast:
        return "multicast address"
    if ip.version == 4 and ip in _CGNAT:
        return "carrier-grade NAT address"
    if ip.is_reserved:
        return "reserved address"
    if ip.is_private:
        return "private address"
    if not ip.is_global:
        return "non-global address"
    return None


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = _getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ActionError(f"cannot resolve host '{host}': {exc}") from None
    addresses = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise ActionError(f"cannot resolve host '{host}': no addresses")
    return addresses


def check_destination(url: httpx.URL | str, policy: OutboundPolicy) -> list[str]:
    """Refuse a URL whose host is not allowed; return its checked IP addresses, in resolver order."""
    url = httpx.URL(url) if isinstance(url, str) else url
    if url.scheme not in ("http", "https"):
        raise OutboundBlocked(f"refused '{url.host or url}': scheme '{url.scheme}' is not http or https")
    host = url.host
    if not host:
        raise OutboundBlocked("refused: the URL has no host")
    port = url.port or (443 if url.scheme == "https" else 80)
    host_ok = policy.host_allowed(host)
    addresses = _resolve(host, port)
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if host_ok or policy.ip_allowed(ip):
            continue
        reason = _blocked_reason(ip)
        if reason == "loopback address" and policy.allow_loopback:
            continue
        if reason:
            shown = host if host == address else f"{host} ({address})"
            raise OutboundBlocked(f"refused host '{shown}': {reason}; add it to the outbound allowlist to permit it")
    return addresses


def _check_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """httpx/h11 echo an illegal header value in their errors, and values may be secrets: check first."""
    clean = {}
    for name, value in headers.items():
        value = "" if value is None else str(value)
        if any(ch in value for ch in "\r\n\0"):
            raise ActionError(f"header '{name}' has an invalid value (contains a line break or NUL)")
        clean[str(name)] = value
    return clean


def _backoff(attempt: int) -> float:
    # Full jitter: spreads retries of many executions hitting the same struggling endpoint.
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * (2 ** attempt)))


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _parse_body(raw: bytes, response: httpx.Response) -> Any:
    if not raw:
        return None
    text = raw.decode(response.encoding or "utf-8", errors="replace")
    content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            return jsonlib.loads(text)
        except ValueError:
            pass  # a server that lies about JSON still gets its text back
    return text


def _read_capped(response: httpx.Response, deadline: float) -> tuple[bytes, bool]:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        if time.monotonic() > deadline:
            # httpx's read timeout is per read: a server trickling bytes would otherwise never time out
            raise httpx.ReadTimeout("body took too long")
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_BODY_BYTES:
            return b"".join(chunks)[:MAX_BODY_BYTES], True
    return b"".join(chunks), False


def _origin(url: httpx.URL) -> tuple:
    return (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))


def _send_any(client, method, url, headers, content, timeout, addresses, deadline):
    """Like a normal connect, try each checked address in turn when one refuses (e.g. IPv6 without a route)."""
    for index, address in enumerate(addresses):
        try:
            return _send_once(client, method, url, headers, content, timeout, address, deadline)
        except httpx.ConnectError:
            if index == len(addresses) - 1:
                raise


def _send_once(client, method, url, headers, content, timeout, address, deadline):
    """One attempt, connected to the checked address with Host and TLS SNI kept on the real name."""
    pinned = url.copy_with(host=address) if address != url.host else url
    host_header = url.netloc.decode("ascii")
    extensions = {"sni_hostname": url.host} if url.scheme == "https" and pinned is not url else {}
    request = client.build_request(method, pinned, headers={**headers, "Host": host_header}, content=content,
                                   extensions=extensions, timeout=httpx.Timeout(timeout))
    response = client.send(request, stream=True)
    try:
        raw, truncated = _read_capped(response, deadline.sooner_of(timeout))
    finally:
        response.close()
    return response, raw, truncated


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    content: str | bytes | None = None,
    timeout: float = 10.0,
    retries: int = 3,
    policy: OutboundPolicy,
    sleep: Callable[[float], None] = time.sleep,
    sensitive_headers: Iterable[str] = (),
    verify: ssl.SSLContext | bool = True,
    total_timeout: float | None = None,
    idempotency_key: str | None = None,
) -> HttpResult:
    """Send a request under `policy`. `retries` is the number of extra attempts after the first, made on
    429, 5xx, connection failures and timeouts. Redirects are followed here (at most 5), each hop checked.
    `sensitive_headers` are dropped, with Authorization and Cookie, when a redirect leaves the origin.
    `verify` is httpx's: an SSLContext trusting a private CA, for instance. `timeout` is per attempt;
    `total_timeout` bounds the whole call: no attempt starts or lasts beyond it. A POST carries
    `idempotency_key` as its Idempotency-Key (the same on every attempt, so a retried POST cannot act
    twice) unless the caller's headers set one."""
    deadline = Deadline.after(total_timeout)
    method = method.upper()
    current = httpx.URL(url)
    if params:
        current = current.copy_merge_params({k: v for k, v in params.items() if v is not None})
    sent_headers = {"User-Agent": USER_AGENT, **_check_headers(headers or {})}
    if method == "POST" and idempotency_key and not _has_header(sent_headers, "Idempotency-Key"):
        sent_headers["Idempotency-Key"] = idempotency_key
    if json is not None and content is not None:
        raise ActionError("give either a JSON body or content, not both")
    body: bytes | None = None
    if json is not None:
        body = jsonlib.dumps(json, default=str).encode()
        if not _has_header(sent_headers, "Content-Type"):
            sent_headers["Content-Type"] = "application/json"
    elif content is not None:
        body = content.encode() if isinstance(content, str) else bytes(content)
    sensitive = {h.lower() for h in (*ALWAYS_SENSITIVE, *sensitive_headers)}

    for hop in range(MAX_REDIRECTS + 1):
        addresses = check_destination(current, policy)
        # A client per hop: pooled connections are keyed by the pinned IP, and one verified for another
        # hostname must not be reused. trust_env=False: a proxy would resolve names itself, unchecked.
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False,
                          verify=verify) as client:
            response, raw, truncated, attempts = _with_retries(
                client, method, current, sent_headers, body, timeout, retries, addresses, sleep, deadline)
            location = response.headers.get("location")
            if response.status_code not in REDIRECT_STATUSES or not location:
                return HttpResult(
                    status=response.status_code,
                    headers={k.lower(): v for k, v in response.headers.items()},
                    body=_parse_body(raw, response),
                    url=str(current),
                    truncated=truncated,
                    attempts=attempts,
                )
            following = current.join(location)
            if _origin(following) != _origin(current):
                sent_headers = {k: v for k, v in sent_headers.items() if k.lower() not in sensitive}
            if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                # what browsers and httpx do: the follow-up is a GET without the body
                method = "GET" if method != "HEAD" else method
                body = None
                sent_headers = {k: v for k, v in sent_headers.items() if k.lower() not in ("content-type", "content-length")}
            log.info("redirect %s -> %s", _safe(current), _safe(following))
            current = following
    raise ActionError(f"too many redirects (more than {MAX_REDIRECTS}) starting from '{_safe(httpx.URL(url))}'")


def _safe(url: httpx.URL) -> str:
    """For messages and logs: no query string (API keys live there) and no userinfo."""
    return str(url.copy_with(query=None, fragment=None, username=None, password=None))


def _with_retries(client, method, url, headers, body, timeout, retries, addresses, sleep, deadline):
    where = f"{method} {_safe(url)}"
    for attempt in range(retries + 1):
        last = attempt == retries
        if deadline.remaining() <= 0:
            raise _out_of_time(where, deadline, attempt)
        try:
            response, raw, truncated = _send_any(client, method, url, headers, body, deadline.cap(timeout), addresses,
                                                 deadline)
        except (httpx.TimeoutException, httpx.ConnectError) as exc:
            what = "connect error" if isinstance(exc, httpx.ConnectError) else type(exc).__name__
            log.warning("%s: %s (attempt %d of %d)", where, what, attempt + 1, retries + 1)
            wait = _backoff(attempt)
            if deadline.remaining() <= 0.01 or (not last and not deadline.allows(wait)):
                raise _out_of_time(where, deadline, attempt + 1) from None
            if last:
                raise _no_answer(where, exc, retries + 1, timeout) from None
            sleep(wait)
            continue
        except httpx.HTTPError as exc:
            # other httpx errors may quote request data (headers): only the class name is shown
            raise ActionError(f"{where}: {type(exc).__name__}") from None
        status = response.status_code
        log.info("%s -> %d (attempt %d)", where, status, attempt + 1)
        if (status == 429 or status >= 500) and not last:
            wait = _retry_after(response.headers.get("retry-after"))
            wait = _backoff(attempt) if wait is None else wait
            if wait > RETRY_AFTER_MAX or not deadline.allows(wait):
                return response, raw, truncated, attempt + 1  # an answer, returned as is: no time to ask again
            sleep(wait)
            continue
        return response, raw, truncated, attempt + 1
    raise AssertionError("unreachable")


def _no_answer(where: str, exc: httpx.HTTPError, attempts: int, timeout: float) -> ActionError:
    if isinstance(exc, httpx.TimeoutException):
        return ActionTimeout(f"{where} timed out after {attempts} attempt(s) of {timeout:g}s")
    return ActionError(f"{where}: cannot connect after {attempts} attempt(s): {exc}")


def _out_of_time(where: str, deadline: Deadline, attempts: int) -> ActionTimeout:
    return ActionTimeout(f"{where}: no answer within the call's deadline of {deadline.seconds:g}s "
                         f"({attempts} attempt(s); retries stopped so the step ends before its Lambda times out)")


def call_webhook(
    url: str,
    method: str = "POST",
    headers: Mapping[str, Any] | None = None,
    body: Any = None,
    *,
    policy: OutboundPolicy | None = None,
    secrets: SecretResolver | None = None,
    idempotency_key: str | None = None,
    timeout: float = 10.0,
    retries: int = 3,
    total_timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """The `webhook` step: a dict/list body is sent as JSON, a string as is. Returns {status, headers, body}.
    A header value may be a SecretRef (a reference written in the journey), resolved here, at call time, by
    `secrets`; any other value, a dict shaped like a reference included, is data sent as text. A POST
    carries `idempotency_key` as its Idempotency-Key unless the journey sets that header itself."""
    policy = policy or OutboundPolicy()
    sent, sensitive = reveal_headers(headers or {}, secrets)
    kwargs: dict[str, Any] = {}
    if isinstance(body, (str, bytes)):
        kwargs["content"] = body
    elif body is not None:
        kwargs["json"] = body
    result = request(method, url, headers=sent, timeout=timeout, retries=retries, policy=policy, sleep=sleep,
                     sensitive_headers=sensitive, total_timeout=total_timeout, idempotency_key=idempotency_key, **kwargs)
    return result.to_dict()


def _has_header(headers: Mapping[str, str], name: str) -> bool:
    return any(key.lower() == name.lower() for key in headers)
