"""One backoff rule for everything that retries (VTEX calls, coupon syncs)."""

import random


def backoff_seconds(attempt: int, *, base: float, cap: float) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, so retries from many
    workers spread out but never collapse to zero. `attempt` counts from 1."""
    ceiling = min(cap, base * (2 ** (max(attempt, 1) - 1)))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not security
