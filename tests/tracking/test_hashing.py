"""The keyed hashes and click ids the redirect computes on every click: cheaper ways to the
same values, checked against the plain definitions."""

import hmac
import os
import secrets
import threading
import time
from typing import Any

import pytest

from core.request_context import client_ip_from
from tracking import hashing
from tracking.conf import tracking_settings
from tracking.hashing import (
    _CROCKFORD,
    _derived_key,
    click_id_time,
    is_click_id,
    keyed_hash,
    new_click_id,
)


def _plain_hmac(value: str, purpose: str, length: int = 32) -> str:
    key = _derived_key(purpose, tracking_settings().hash_key)
    return hmac.digest(key, value.encode("utf-8", "replace"), "sha256").hex()[:length]


@pytest.mark.parametrize("purpose", ["ip", "fingerprint", "ref", "customer", "conv"])
@pytest.mark.parametrize("value", ["", "-", "203.0.113.7", "ação|Mozilla/5.0 (iPhone)|pt-br", "x" * 500, "\ud800"])
def test_keyed_hash_is_hmac_sha256_of_the_purpose_key(purpose: str, value: str) -> None:
    assert keyed_hash(value, purpose=purpose) == _plain_hmac(value, purpose)
    assert keyed_hash(value, purpose=purpose, length=60) == _plain_hmac(value, purpose, 60)


def test_keyed_hash_follows_a_change_of_key(settings: Any) -> None:
    settings.TRACKING_HASH_KEY = "first key"
    first = keyed_hash("203.0.113.7", purpose="ip")
    settings.TRACKING_HASH_KEY = "second key"
    second = keyed_hash("203.0.113.7", purpose="ip")
    assert first != second
    assert second == _plain_hmac("203.0.113.7", "ip")
    assert keyed_hash("203.0.113.7", purpose="fingerprint") != second  # purposes never share a key


def _plain_ulid(millis: int, random_bits: int) -> str:
    value = (millis << 80) | random_bits
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


class _FixedBytes:
    def __init__(self, value: int) -> None:
        self.value = value

    def take(self, size: int) -> bytes:
        return self.value.to_bytes(size)


def test_click_ids_are_ulids_of_the_click_time(monkeypatch: Any) -> None:
    for random_bits in (0, (1 << 80) - 1, secrets.randbits(80), secrets.randbits(80)):
        monkeypatch.setattr(hashing, "_random_bytes", _FixedBytes(random_bits))
        for millis in (0, 1, 1_765_000_000_123, (1 << 48) - 1):
            assert new_click_id(millis / 1000) == _plain_ulid(millis, random_bits)
    monkeypatch.undo()
    now = time.time()
    click_id = new_click_id(now)
    assert is_click_id(click_id)
    parsed = click_id_time(click_id)
    assert parsed is not None
    assert abs(parsed.timestamp() - now) < 0.002
    assert new_click_id(now) < new_click_id(now + 0.002)  # sortable by time
    assert len({new_click_id(now) for _ in range(2000)}) == 2000


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")  # the child only hashes
def test_threads_and_forked_processes_never_share_random_bytes() -> None:
    now = time.time()
    new_click_id(now)  # this thread's buffer holds bytes a child could inherit
    by_thread: dict[int, list[str]] = {}

    def make(number: int) -> None:
        by_thread[number] = [new_click_id(now) for _ in range(500)]

    threads = [threading.Thread(target=make, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [click_id for made in by_thread.values() for click_id in made]
    assert len(set(ids)) == 2000

    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        os.write(write_end, "".join(new_click_id(now) for _ in range(20)).encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(child, 0)
    with os.fdopen(read_end) as pipe:
        text = pipe.read()
    in_child = {text[i : i + 26] for i in range(0, len(text), 26)}
    in_parent = {new_click_id(now) for _ in range(20)}
    assert len(in_child) == 20
    assert not in_child & in_parent


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("0.0.0.0", "0.0.0.0"),  # noqa: S104 - an address to parse, nothing binds
        ("255.255.255.255", "255.255.255.255"),
        ("010.0.0.1", None),  # leading zeros are ambiguous: refused, as `ipaddress` refuses them
        ("256.1.1.1", None),
        ("1.2.3", None),
        ("1.2.3.4\n", None),
        ("2001:DB8::1", "2001:db8::1"),  # not a dotted quad: `ipaddress` normalises it
        ("::ffff:1.2.3.4", "::ffff:102:304"),
        ("", None),
        (None, None),
    ],
)
def test_client_address_is_canonical_or_none(remote: str | None, expected: str | None, settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip_from(remote, "") == expected
