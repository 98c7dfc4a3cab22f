"""An offline ClinicalTrials.gov: a real HTTP server speaking Data API v2's ``/api/v2/studies``.

    python tests/fake_clinicaltrials.py --port 8767 --studies 2500

then ``TRACKER_CTGOV_URL=http://127.0.0.1:8767/api/v2/``.

It answers in the shapes tracker/clinicaltrials.py documents (the API's published pages and
its OpenAPI document): ``{"totalCount": n, "studies": [...], "nextPageToken": "..."}``, the
total only when ``countTotal=true``, no token on the last page, ``pageSize`` 10 by default and
at most 1,000, and HTTP 400 with a plain-text reason for a parameter it cannot read (a page
token it never issued, a page size that is not a number). Studies are made from their number
(:func:`study`), so a test can check every field that arrives. Tokens are opaque strings
bound to this server and the query, as the real ones are.

It logs every request (parameters, status, fault, the NCT numbers a good answer carried) and
injects faults, queued or at a random rate: 429 with a Retry-After, 500/502/503 HTML pages, an
HTML page in a 200, JSON cut off mid-way, a connection reset, a slow answer, and "fail every
request after K".
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from fake_service import Faults, respond, serve, started, transport_fault

FAULT_KINDS = ("429", "500", "502", "503", "html", "truncated", "reset", "slow")
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway"
    b"</h1><p>The proxy server received an invalid response.</p></body></html>"
)
PHASES = (["EARLY_PHASE1"], ["PHASE1"], ["PHASE2"], ["PHASE2", "PHASE3"], ["PHASE3"], ["NA"])
STATUSES = ("RECRUITING", "COMPLETED", "ACTIVE_NOT_RECRUITING", "NOT_YET_RECRUITING",
            "TERMINATED", "WITHDRAWN")  # fmt: skip
CONDITIONS = ("Chronic Pain", "Neuropathic Pain", "Fibromyalgia", "Complex Regional Pain "
              "Syndromes", "Cancer Pain", "Low Back Pain")  # fmt: skip


def nct(number: int) -> str:
    return f"NCT{number:08d}"


def study(number: int) -> dict[str, Any]:
    """The study the registry holds as number ``number``: every field derived from it."""
    year = 2005 + number % 20
    references = [
        {
            "pmid": str(30_000_000 + number),
            "type": "RESULT",
            "citation": f"Rivera A, et al. Trial {number}. Pain Med. {year + 2}.",
        }
    ]
    if number % 4 == 0:
        references = []
    elif number % 4 == 1:
        references.append({"type": "BACKGROUND", "citation": "A reference without a PMID."})
    return {
        "protocolSection": {
            "identificationModule": {
                "nctId": nct(number), "orgStudyIdInfo": {"id": f"ESK-{number}"},
                "briefTitle": f"Esketamine for Chronic Pain {number}",
                "officialTitle": f"A Randomised Trial of Esketamine in Chronic Pain {number}",
            },
            "statusModule": {
                "overallStatus": STATUSES[number % len(STATUSES)],
                "startDateStruct": {"date": f"{year}-{number % 12 + 1:02d}", "type": "ACTUAL"},
                "completionDateStruct": {"date": f"{year + 2}-06-30", "type": "ESTIMATED"},
            },
            "descriptionModule": {"briefSummary": f"Summary of study {number}."},
            "conditionsModule": {"conditions": [CONDITIONS[number % len(CONDITIONS)]],
                                 "keywords": ["ketamine"]},
            "designModule": {"studyType": "INTERVENTIONAL",
                             "phases": PHASES[number % len(PHASES)],
                             "enrollmentInfo": {"count": 20 + number % 300,
                                                "type": "ESTIMATED"}},
            "armsInterventionsModule": {"interventions": [
                {"type": "DRUG", "name": "Esketamine"},
                {"type": "DRUG", "name": "Placebo"} if number % 2 else {"type": "OTHER"},
            ]},
            "referencesModule": {"references": references},
        },
        "derivedSection": {"miscInfoModule": {"versionHolder": "2026-03-01"}},
        "hasResults": number % 3 == 0,
    }  # fmt: skip


class FakeClinicalTrials(ThreadingHTTPServer):
    """The server object tests hold: its studies, faults and request log."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 0, *, studies: int = 2500, first: int = 1) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.numbers = list(range(first, first + studies))
        self.faults = Faults(kinds=FAULT_KINDS, retry_after="0", slow_seconds=0.3,
                             rng=random.Random(15))  # fmt: skip
        self.log: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.secret = random.Random(studies).getrandbits(32)
        self.mangle: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/v2/"

    def requests(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.log)

    def served(self) -> list[str]:
        """NCT numbers of every study sent in an answer that arrived whole."""
        return [n for entry in self.requests() if entry["status"] == 200 and not entry["fault"]
                for n in entry.get("ncts", [])]  # fmt: skip

    def token(self, offset: int, query: str) -> str:
        raw = f"{self.secret}:{offset}:{query}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def offset(self, token: str, query: str) -> int | None:
        try:
            secret, offset, asked = base64.urlsafe_b64decode(token + "==").decode().split(":", 2)
        except (ValueError, UnicodeDecodeError):
            return None
        return int(offset) if secret == str(self.secret) and asked == query else None


class _Handler(BaseHTTPRequestHandler):
    server: FakeClinicalTrials
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        url = urlparse(self.path)
        params = {key: values[-1] for key, values in parse_qs(url.query).items()}
        with self.server.lock:
            entry: dict[str, Any] = {
                "n": len(self.server.log) + 1,
                "time": time.monotonic(),
                "path": url.path,
                "params": params,
                "status": 0,
                "fault": None,
                "headers": dict(self.headers.items()),
            }
            self.server.log.append(entry)  # fmt: skip
        fault = self.server.faults.next(entry["n"])
        entry["fault"] = fault
        if fault and self._inject(fault, entry):
            return
        if url.path.rstrip("/") != "/api/v2/studies":
            respond(self, entry, 404, b"Not Found", "text/plain")
            return
        self._studies(params, entry, fault)

    def _studies(self, params: dict[str, str], entry: dict[str, Any], fault: str | None) -> None:
        query = "|".join(params.get(k, "") for k in ("query.cond", "query.intr", "query.term"))
        size_text = params.get("pageSize", "10")
        if not size_text.isdigit() or int(size_text) == 0:
            respond(
                self, entry, 400, f"pageSize: invalid value {size_text!r}".encode(), "text/plain"
            )
            return
        size = min(int(size_text), 1000)
        start = 0
        if "pageToken" in params:
            found = self.server.offset(params["pageToken"], query)
            if found is None:
                respond(self, entry, 400, b"pageToken: invalid page token", "text/plain")
                return
            start = found
        numbers = self.server.numbers[start : start + size]
        answer: dict[str, Any] = {}
        if params.get("countTotal") == "true":
            answer["totalCount"] = len(self.server.numbers)
        answer["studies"] = [study(n) for n in numbers]
        if self.server.mangle is not None:
            answer = self.server.mangle(answer)
        if start + size < len(self.server.numbers):
            answer["nextPageToken"] = self.server.token(start + size, query)
        entry["ncts"] = [nct(n) for n in numbers]
        body = json.dumps(answer).encode()
        if fault == "truncated":
            body = body[: len(body) // 2]
        respond(self, entry, 200, body)

    def _inject(self, fault: str, entry: dict[str, Any]) -> bool:
        """Answer with a fault; False when the fault only changes a normal answer."""
        done = transport_fault(
            self, entry, fault, self.server.faults, page=HTML_PAGE,
            too_many=b"Too Many Requests", too_many_type="text/plain",
        )  # fmt: skip
        return bool(done)


def start(**options: Any) -> FakeClinicalTrials:
    """A running fake ClinicalTrials.gov on a free port, served from a daemon thread."""
    return serve(FakeClinicalTrials(**options))


@pytest.fixture
def fake_ctgov_factory() -> Iterator[Callable[..., FakeClinicalTrials]]:
    """Start fake ClinicalTrials.gov servers on free ports; all stop at teardown."""
    yield from started(start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--studies", type=int, default=2500)
    args = parser.parse_args()
    server = FakeClinicalTrials(args.port, studies=args.studies)
    print(f"fake ClinicalTrials.gov at {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
