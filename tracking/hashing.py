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
import re
import secrets
import time
from datetime import UTC, datetime

from tracking.conf import tracking_settings

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_INDEX = {c: i for i, c in enumerate(_CROCKFORD)}
_ULID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_VISITOR_RE = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
_IPV4_RE = re.compile(
    r"^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$"
)
_REF_RE = re.compile(r"^([0-9]{1,12})\.([0-9]{1,12})\.([0-9a-f]{12})$")


def _key(purpose: str) -> bytes:
    return _derived_key(purpose, tracking_settings().hash_key)


@functools.lru_cache(maxsize=64)
def _derived_key(purpose: str, hash_key: str) -> bytes:
    return hashlib.sha256(f"mgm-tracking:{purpose}:{hash_key}".encode()).digest()


def keyed_hash(value: str, *, purpose: str, length: int = 32) -> str:
    # One-shot `hmac.digest` (OpenSSL, no HMAC object): the redirect hashes three times per click.
    return hmac.digest(_key(purpose), value.encode("utf-8", "replace"), "sha256").hex()[:length]


def new_click_id(now: float | None = None) -> str:
    millis = int((time.time() if now is None else now) * 1000)
    value = (millis << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


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
    if _IPV4_RE.match(ip):  # the hot path (the redirect): no ipaddress objects
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
