"""The hash chain. Kept apart from the service so the verifier and the writer share exactly one
definition of what is hashed."""

import hashlib
import json
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def normalize(value: Any) -> Any:
    """What a JSONField gives back after a round trip, so the hash is the same before saving
    and after reading."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, sort_keys=True))


def compute_hash(*, prev_hash: str, fields: dict[str, Any]) -> str:
    payload = dict(fields)
    created_at = payload.get("created_at")
    if isinstance(created_at, datetime):
        payload["created_at"] = created_at.isoformat(timespec="microseconds")
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}|{canonical}".encode()).hexdigest()


HASHED_FIELDS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_repr",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "brand_id",
    "before",
    "after",
    "ip",
    "user_agent",
    "request_id",
)


def fields_of(event: Any) -> dict[str, Any]:
    return {name: getattr(event, name) for name in HASHED_FIELDS}
