"""The courtesy tracker shows every outside service: NCBI, NIH iCite, and next ClinicalTrials.gov.

One policy for all of them, so a new service gets it by using it:

- :class:`Pacer` keeps requests under a rate, counted across the whole process;
- :class:`RetryPolicy` waits with exponential back-off and full jitter, never less than the
  server's Retry-After (read by :func:`retry_after`: seconds or an HTTP date), up to a cap;
- :class:`PoliteCaller` is the one retry loop: it paces each try, counts requests and retries,
  retries :class:`~tracker.errors.TransientError` and raises :class:`RetriesExhaustedError`
  when the tries run out. Each service's module turns that into its own error and advice
  (``NCBIUnavailableError``, ``CitationError``).

A service's module decides what is transient (it raises ``TransientError``, using
:data:`TRANSIENT_STATUSES` for HTTP codes); this module decides how long to wait. It makes no
request itself: the seams stay in ``entrez.py`` and ``citations.py``.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar, TypeVar

from tracker.defaults import BASE_DELAY_S, MAX_DELAY_S, MAX_TRIES, PACING_MARGIN, RETRY_AFTER_CAP_S
from tracker.errors import TrackerError, TransientError
from tracker.version import __version__

log = logging.getLogger(__name__)
T = TypeVar("T")

TOOL = "ketamine-review-tracker"
"""How tracker names itself: NCBI's ``tool`` parameter and every User-Agent."""
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
"""HTTP answers worth another try: too many requests, and server faults that pass. Others (a
4xx, 501 Not Implemented, 505) would only be refused again."""
_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def user_agent(contact: str = "") -> str:
    """``tool/version``, with ``(mailto:…)`` when a contact address is given."""
    mailto = f" (mailto:{contact})" if "@" in contact else ""
    return f"{TOOL}/{__version__}{mailto}"


def retry_after(
    value: str | None, *, now: datetime | None = None, cap: float = RETRY_AFTER_CAP_S
) -> float | None:
    """Seconds to wait from a Retry-After header, at most ``cap``; None when absent or unreadable.

    RFC 9110 (section 10.2.3) allows a number of seconds or an HTTP date, in any of its three
    formats (section 5.6.7); a date already past means no wait. ``now`` is for tests.
    """
    text = (value or "").strip()
    if not text:
        return None
    if _SECONDS.fullmatch(text):
        return min(float(text), cap)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # asctime dates carry no zone: HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    wait = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(wait, 0.0), cap)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often to try one request, and how long to wait between tries."""

    max_tries: int = MAX_TRIES
    base_delay: float = BASE_DELAY_S
    max_delay: float = MAX_DELAY_S
    retry_after_cap: float = RETRY_AFTER_CAP_S

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """The pause after try ``attempt``: full jitter, but at least the (capped) Retry-After."""
        backoff = rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))
        return max(backoff, min(retry_after or 0.0, self.retry_after_cap))


class Pacer:
    """At most ``rate`` requests per second across the whole process (all threads)."""

    _shared: ClassVar[dict[tuple[str, float], Pacer]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:  # fmt: skip
        self.interval = PACING_MARGIN / rate
        self._clock, self._sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, service: str, rate: float) -> Pacer:
        """The process's one pacer for ``service`` at ``rate`` (NCBI has one per key state)."""
        with cls._shared_lock:
            return cls._shared.setdefault((service, rate), cls(rate))

    def wait(self) -> None:
        """Return when the next request may go."""
        with self._lock:
            now = self._clock()
            if now < self._next:
                self._sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


class RetriesExhaustedError(TrackerError):
    """Every try of one request met a transient fault; the service's module says what it means."""

    def __init__(self, what: str, tries: int, last: TransientError) -> None:
        super().__init__(f"{what} failed {tries} times; the last answer: {last}")
        self.what, self.tries, self.last = what, tries, last


@dataclass
class PoliteCaller:
    """One run's requests to one service: paced, counted, and retried by one policy."""

    pacer: Pacer
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    requests: int = 0
    retries: int = 0

    def call(self, what: str, action: Callable[[], T]) -> T:
        """``action()``, tried again after each TransientError until the policy's tries run out.

        Any other error passes through at once: it is not the network's fault.
        """
        for attempt in range(1, self.policy.max_tries + 1):
            self.pacer.wait()
            self.requests += 1
            try:
                return action()
            except TransientError as exc:
                if attempt == self.policy.max_tries:
                    raise RetriesExhaustedError(what, attempt, exc) from None
                self.retries += 1
                pause = self.policy.delay(attempt, exc.retry_after, self.rng)
                log.info("%s: %s; retry %d in %.1f s", what, exc, attempt, pause)
                self.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover


def body_excerpt(body: bytes) -> str:
    """The start of an answer's body, for a message that says what the service sent back."""
    text = " ".join(body[:160].decode("utf-8", "replace").split())
    return f": {text!r}" if text else " with an empty body"


def answer_keys(value: object) -> str:
    """What a JSON answer held, for a message when it is not the shape expected."""
    if isinstance(value, Mapping):
        return ", ".join(sorted(map(str, value))[:8]) or "none"
    return f"a {type(value).__name__}"
