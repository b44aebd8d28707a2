"""Identifiers and keyed hashes. Nothing here touches the database.

- Click ids are ULIDs (26 Crockford base32 characters: 48-bit millisecond time + 80 random
  bits), so the click time can be read back from the id an order carries in `utmi_cp`.
- The influencer reference in `utmi_pc` is signed (HMAC) together with the click id, so a
  forged or edited UTM is worthless.
- IPs, customer emails and documents are only kept as keyed hashes (privacy).
"""

import functools
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import threading
import time
from datetime import UTC, datetime

from core.request_context import CANONICAL_IPV4
from tracking.conf import tracking_settings

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_INDEX = {c: i for i, c in enumerate(_CROCKFORD)}
_ULID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_VISITOR_RE = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
_REF_RE = re.compile(r"^([0-9]{1,12})\.([0-9]{1,12})\.([0-9a-f]{12})$")


@functools.lru_cache(maxsize=64)
def _derived_key(purpose: str, hash_key: str) -> bytes:
    return hashlib.sha256(f"mgm-tracking:{purpose}:{hash_key}".encode()).digest()


@functools.lru_cache(maxsize=64)
def _hmac_states(purpose: str, hash_key: str) -> tuple["hashlib._Hash", "hashlib._Hash"]:
    """HMAC-SHA256's inner and outer hash states after the padded key (RFC 2104), computed once
    per purpose: a keyed hash then costs two copies and two updates."""
    block = _derived_key(purpose, hash_key).ljust(64, b"\0")  # 32-byte key, 64-byte block
    return hashlib.sha256(bytes(b ^ 0x36 for b in block)), hashlib.sha256(bytes(b ^ 0x5C for b in block))


def keyed_hash(value: str, *, purpose: str, length: int = 32) -> str:
    """HMAC-SHA256 of `value` under the purpose's key, hex, cut to `length`. The same digest as
    `hmac.digest(key, value, "sha256")` (asserted in tests) at less than half its cost:
    OpenSSL's one-shot HMAC looks the algorithm up and keys it on every call, and the redirect
    hashes three times per click."""
    inner, outer = _hmac_states(purpose, tracking_settings().hash_key)
    inner = inner.copy()
    inner.update(value.encode("utf-8", "replace"))
    outer = outer.copy()
    outer.update(inner.digest())
    return outer.hexdigest()[:length]


#: Every pair of Crockford characters, by the 10 bits it encodes: a click id is 13 lookups.
_CROCKFORD_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]


class _RandomBytes(threading.local):
    """The operating system's random bytes (`os.urandom`, what `secrets` reads), fetched 4 KB
    at a time per thread instead of one system call per click id. Each thread slices its own
    buffer, and a forked child starts with none (`_random_bytes_reset`): no two processes or
    threads ever hand out the same bytes."""

    def __init__(self) -> None:
        self.buffer = b""
        self.position = 0

    def take(self, size: int) -> bytes:
        position = self.position
        if position + size > len(self.buffer):
            self.buffer, position = os.urandom(4096), 0
        self.position = position + size
        return self.buffer[position : position + size]


_random_bytes = _RandomBytes()


def _random_bytes_reset() -> None:
    global _random_bytes
    _random_bytes = _RandomBytes()


os.register_at_fork(after_in_child=_random_bytes_reset)


def new_click_id(now: float | None = None) -> str:
    millis = int((time.time() if now is None else now) * 1000)
    value = (millis << 80) | int.from_bytes(_random_bytes.take(10))
    # 26 characters of 5 bits, from the top: one, twelve pairs, one.
    pairs = _CROCKFORD_PAIRS
    return (
        _CROCKFORD[value >> 125]
        + "".join([pairs[(value >> shift) & 1023] for shift in range(115, 4, -10)])
        + _CROCKFORD[value & 31]
    )


def is_click_id(value: str) -> bool:
    return bool(_ULID_RE.match(value or ""))


def click_id_time(click_id: str) -> datetime | None:
    if not is_click_id(click_id):
        return None
    value = 0
    for char in click_id:
        value = (value << 5) | _CROCKFORD_INDEX[char]
    return datetime.fromtimestamp((value >> 80) / 1000, tz=UTC)


def new_visitor_id() -> str:
    return secrets.token_urlsafe(16)[:22]


def is_visitor_id(value: str) -> bool:
    return bool(_VISITOR_RE.match(value or ""))


def influencer_ref(*, click_id: str, influencer_id: int, campaign_id: int) -> str:
    """`<influencer>.<campaign>.<signature>`: carried in `utmi_pc`, verified by `ref_verify`."""
    signature = keyed_hash(f"{click_id}|{influencer_id}|{campaign_id}", purpose="ref", length=12)
    return f"{influencer_id}.{campaign_id}.{signature}"


def ref_verify(*, click_id: str, ref: str) -> tuple[int, int] | None:
    """(influencer_id, campaign_id) when `ref` was signed by us for `click_id`, else None."""
    match = _REF_RE.match((ref or "").strip())
    if not match or not is_click_id(click_id):
        return None
    influencer_id, campaign_id = int(match.group(1)), int(match.group(2))
    expected = influencer_ref(click_id=click_id, influencer_id=influencer_id, campaign_id=campaign_id)
    if not hmac.compare_digest(expected, ref.strip()):
        return None
    return influencer_id, campaign_id


def ip_prefix(ip: str | None) -> str:
    """The /24 (IPv4) or /48 (IPv6) network of an address: coarse enough to not identify."""
    if not ip:
        return ""
    if CANONICAL_IPV4.fullmatch(ip):  # the hot path (the redirect): no ipaddress objects
        return ip.rsplit(".", 1)[0] + ".0/24"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def ip_hash(ip: str | None) -> str:
    return keyed_hash(ip or "-", purpose="ip")


def fingerprint(*, ip: str | None, user_agent: str, accept_language: str, prefix: str | None = None) -> str:
    """Hash of the coarse IP, the user agent and the first language: the last fallback.
    `prefix`, when given, must be `ip_prefix(ip)` (the redirect already computed it)."""
    language = (accept_language or "").split(",")[0].split(";")[0].strip().lower()
    coarse = ip_prefix(ip) if prefix is None else prefix
    return keyed_hash(f"{coarse}|{user_agent.strip()}|{language}", purpose="fingerprint")


def normalize_email(email: str | None) -> str:
    return (email or "").strip().lower()


def normalize_document(document: str | None) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", document or "").upper()


def customer_hashes(*, email: str | None = None, document: str | None = None) -> list[str]:
    """Keyed hashes identifying a customer: one per known email / document. VTEX masks some
    emails (`…@ct.vtex.com.br`); those say nothing about the person and are skipped."""
    hashes = []
    email_norm = normalize_email(email)
    if email_norm and "@" in email_norm and not email_norm.endswith("ct.vtex.com.br"):
        hashes.append("e:" + keyed_hash(email_norm, purpose="customer", length=60))
    document_norm = normalize_document(document)
    if len(document_norm) >= 5:
        hashes.append("d:" + keyed_hash(document_norm, purpose="customer", length=60))
    return hashes
