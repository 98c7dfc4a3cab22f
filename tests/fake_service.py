"""What every fake outside service in tests/ shares: a fault plan, one way to answer, and a
server started on a free port in a daemon thread. Each fake (fake_eutils, fake_icite,
fake_clinicaltrials) keeps only what its own service says and how it fails."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

Server = TypeVar("Server", bound=ThreadingHTTPServer)


@dataclass
class Faults:
    """What to break, and how often. Tests set these between runs.

    ``queue``: the next answers' faults, in order; ``fraction``: the chance that any other
    request draws one of ``kinds`` (from ``rng``, so a run is reproducible); ``fail_after``:
    every request after that number gets ``fail_kind``.
    """

    kinds: tuple[str, ...] = ()
    queue: deque[str] = field(default_factory=deque)
    fraction: float = 0.0
    fail_after: int | None = None
    fail_kind: str = "503"
    retry_after: str = "1"
    slow_seconds: float = 3.0
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def next(self, request_number: int) -> str | None:
        if self.fail_after is not None and request_number > self.fail_after:
            return self.fail_kind
        if self.queue:
            return self.queue.popleft()
        if self.fraction and self.kinds and self.rng.random() < self.fraction:
            return self.rng.choice(self.kinds)
        return None


def respond(
    handler: BaseHTTPRequestHandler,
    entry: dict[str, Any],
    status: int,
    body: bytes,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> None:
    """Send one whole answer and note its status in the request log's ``entry``."""
    entry["status"] = status
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def serve(server: Server) -> Server:
    """``server`` answering from a daemon thread (it stops with ``shutdown()``)."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def transport_fault(
    handler: Any,
    entry: dict[str, Any],
    fault: str,
    faults: Faults,
    *,
    too_many: bytes,
    too_many_type: str = "application/json",
    page: bytes,
) -> bool | None:
    """The faults every service shows the same way: a 5xx error page, a 429 with
    Retry-After, an HTML page in a 200, a reset connection, a slow answer. True when the fault
    was the whole answer, False when only the timing changed (answer normally after it), None
    when ``fault`` is the service's own kind (the fake handles it)."""
    if fault in ("500", "502", "503"):
        respond(handler, entry, int(fault), page, "text/html")
    elif fault == "429":
        respond(handler, entry, 429, too_many, too_many_type, {"Retry-After": faults.retry_after})
    elif fault == "html":
        respond(handler, entry, 200, page, "text/html")
    elif fault == "reset":
        entry["status"] = -1
        handler.close_connection = True
        handler.connection.shutdown(2)
    elif fault == "slow":
        time.sleep(faults.slow_seconds)
        return False
    else:
        return None
    return True


def started(start: Callable[..., Server]) -> Iterator[Callable[..., Server]]:
    """A fixture's body: ``make(**options)`` starts servers; all stop at teardown."""
    servers: list[Server] = []

    def make(**options: Any) -> Server:
        servers.append(start(**options))
        return servers[-1]

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()
