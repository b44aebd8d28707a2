"""Webhook endpoints are public HTTPS hosts: a brand must not make us call our own network
(private, loopback, link-local or cloud metadata addresses). Checked when the endpoint is saved
and again when each connection opens (the address the socket actually reached), so a DNS answer
that changes after the check (rebinding) is refused too."""

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from core.errors import ApplicationError


class UnsafeURL(ApplicationError):
    default_code = "webhook_url_unsafe"


def _private_allowed() -> bool:
    return bool(settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS)


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(ip.is_global) and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback)


def url_check(url: str, *, resolve: bool = True) -> str:
    """Refuse what is not a public HTTPS URL (HTTP and private hosts only where
    WEBHOOKS_ALLOW_PRIVATE_HOSTS, i.e. development and tests). Returns the URL."""
    parts = urlsplit(url.strip())
    private_ok = _private_allowed()
    if parts.scheme != "https" and not (private_ok and parts.scheme == "http"):
        raise UnsafeURL(_("Use an https:// address."), extra={"field": "url"})
    if not parts.hostname or parts.username or parts.password:
        raise UnsafeURL(
            _("Enter a full address without user or password, e.g. https://erp.example.com/hooks."),
            extra={"field": "url"},
        )
    if private_ok or not resolve:
        return url.strip()
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(
            _("The host %(host)s does not resolve.") % {"host": parts.hostname}, extra={"field": "url"}
        ) from exc
    for info in infos:
        if not address_is_public(str(info[4][0])):
            raise UnsafeURL(
                _("%(host)s points to a private or reserved address; webhooks go to public hosts only.")
                % {"host": parts.hostname},
                extra={"field": "url"},
            )
    return url.strip()


class _PeerCheckMixin:
    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        if _private_allowed():
            return
        sock: Any = self.sock  # type: ignore[attr-defined]
        peer = sock.getpeername()[0]
        if not address_is_public(str(peer)):
            sock.close()
            raise requests.exceptions.ConnectionError(f"refused: {peer} is not a public address")


class _GuardedHTTPConnection(_PeerCheckMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_PeerCheckMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
        self.poolmanager.key_fn_by_scheme = dict(self.poolmanager.key_fn_by_scheme)


def guarded_session() -> requests.Session:
    """A session that connects only to public addresses, ignores proxy variables and does not
    follow redirects (callers pass allow_redirects=False)."""
    session = requests.Session()
    session.trust_env = False
    adapter = GuardedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
