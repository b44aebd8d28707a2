"""One Celery message per burst of hook notifications, not one per notification.

The hook stores each notification and answers; the work is done by `hook_events_process_task`,
which claims every pending notification in batches (orders.services.batch). So a stored
notification only needs *some* drain to start after it was stored, and one drain serves them
all. Each web process asks for a drain after every stored notification (`hook_drain_request`)
and `DrainKick` turns those asks into at most one publish per `VTEX_HOOK_DRAIN_SECONDS`:

- the first ask after a quiet period publishes at once (a lone notification waits for nothing);
- asks inside the window schedule one trailing publish at the window's end, so every stored
  notification is followed by a drain that starts after it, at most one window later;
- a failed publish (broker down) is logged; the notification is stored and the
  `hook_events_retry_task` sweep (Beat, every 10 minutes) queues what is left pending.

Decision 0042 records why (the broker round trip was ~40 % of the hook's time under load).
"""

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings

from orders.tasks import hook_events_process_task

logger = logging.getLogger(__name__)


class DrainKick:
    """Coalesce drain requests: at most one `publish()` per `window` seconds, and one always
    follows every request within `window` (see the module docstring). Thread-safe."""

    def __init__(self, publish: Callable[[], object], *, window: float) -> None:
        self.publish = publish
        self.window = window
        self._lock = threading.Lock()
        self._last = float("-inf")
        self._timer: threading.Timer | None = None

    def request(self) -> None:
        if self.window <= 0:
            self._publish()
            return
        with self._lock:
            if self._timer is not None:
                return  # a publish is already scheduled after this request
            now = time.monotonic()
            wait = self._last + self.window - now
            if wait > 0:
                self._timer = threading.Timer(wait, self._fire)
                self._timer.daemon = True
                self._timer.start()
                return
            self._last = now
        self._publish()

    def _fire(self) -> None:
        with self._lock:
            self._timer = None
            self._last = time.monotonic()
        self._publish()

    def _publish(self) -> None:
        try:
            self.publish()
        except Exception:
            logger.exception("could not queue the hook drain; the pending-notification sweep will")


def _publish_drain() -> None:
    hook_events_process_task.delay()


_kick: DrainKick | None = None
_kick_lock = threading.Lock()


def hook_drain_request() -> None:
    """Ask for a drain of pending notifications (call after a notification is committed)."""
    global _kick
    window = float(settings.VTEX_HOOK_DRAIN_SECONDS)
    if _kick is None or _kick.window != window:
        with _kick_lock:
            if _kick is None or _kick.window != window:
                _kick = DrainKick(_publish_drain, window=window)
    _kick.request()
