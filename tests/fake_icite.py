"""An offline NIH iCite: a real HTTP server speaking ``/api/pubs?pmids=...&fl=...``.

    python tests/fake_icite.py --port 8766

then ``TRACKER_ICITE_URL=http://127.0.0.1:8766/api/ tracker enrich``.

It answers in iCite's shape (see tracker/citations.py for the sources): ``{"meta": {...},
"links": {"self": ...}, "data": [...]}`` with one object per known PMID (unknown PMIDs are left
out), every legacy field when ``fl`` is absent and only the named ones when it is given, and
``is_clinical``/``provisional`` as JSON booleans or, with ``yes_no=True``, as the "Yes"/"No"
of the documented legacy example. Metrics are computed from the PMID (:func:`metrics`), so a
test can check every stored value. A request naming more than iCite's 1,000 PMIDs gets HTTP
400 with a JSON ``{"error": ...}`` body: iCite documents the cap but not its error body, so
that body is our stand-in.

It logs every request (path, parameters, headers) and injects faults on demand: 429 with
``Faults.retry_after`` as its Retry-After (seconds or an HTTP date), 5xx HTML pages, an HTML
page in a 200, JSON cut off mid-way, a connection reset, a slow answer, a 200 without
``data``, a wrongly typed field, and "fail every request after K".
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from fake_service import Faults, respond, serve, transport_fault

ICITE_CAP = 1_000
CURRENT_YEAR = 2026
FAULT_KINDS = ("429", "500", "502", "503", "html", "truncated", "reset", "slow", "nodata",
               "badtype")  # fmt: skip
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body>"
    b"<h1>Service Unavailable</h1><p>The server is temporarily unable to service your request."
    b"</p></body></html>"
)


def knows(pmid: int) -> bool:
    """iCite knows every PMID except those ending in 7 out of every 50 (a 2 % gap)."""
    return pmid % 50 != 7


def metrics(pmid: int) -> dict[str, Any]:
    """The full legacy record iCite would give for ``pmid``: deterministic, some nulls."""
    year = 1996 + pmid % 31  # 1996..2026; the current year has no RCR yet
    citations = (pmid * 37) % 400 if year < CURRENT_YEAR else pmid % 4
    rcr = None if year >= CURRENT_YEAR or citations == 0 else round((pmid * 13) % 900 / 100, 2)
    return {
        "pmid": pmid,
        "year": year,
        "title": f"Ketamine study number {pmid}",
        "authors": "A Author, B Author",
        "journal": "Pain",
        "is_research_article": pmid % 5 != 0,
        "relative_citation_ratio": rcr,
        "nih_percentile": None if rcr is None else round((pmid * 7) % 1000 / 10, 1),
        "human": 1,
        "animal": 0,
        "molecular_cellular": 0,
        "apt": 0.25,
        "is_clinical": pmid % 3 == 0,
        "citation_count": citations,
        "citations_per_year": citations / max(CURRENT_YEAR - year, 1),
        "expected_citations_per_year": None if rcr is None else 2.5,
        "field_citation_rate": None if rcr is None else 4.75,
        "provisional": year >= CURRENT_YEAR - 2,
        "x_coord": 0,
        "y_coord": 1,
        "cited_by_clin": [],
        "cited_by": [],
        "references": [],
        "doi": f"10.1000/ket.{pmid}",
        "last_modified": "01/05/2026, 02:11:40",
    }


class FakeICite(ThreadingHTTPServer):
    """The server object tests hold: its answers, faults and request log."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 0, *, yes_no: bool = False,
                 canned: dict[int, dict[str, Any]] | None = None) -> None:  # fmt: skip
        super().__init__(("127.0.0.1", port), _Handler)
        self.yes_no = yes_no
        self.canned = dict(canned or {})
        self.forgotten: set[int] = set()
        self.faults = Faults(retry_after="2")
        self.log: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/"

    def requests(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.log)

    def record(self, pmid: int) -> dict[str, Any] | None:
        """What iCite holds for ``pmid`` (None when unknown), booleans in this server's style."""
        if pmid in self.canned:
            return dict(self.canned[pmid])
        if pmid in self.forgotten or not knows(pmid):
            return None
        item = metrics(pmid)
        if self.yes_no:
            for name in ("is_research_article", "is_clinical", "provisional"):
                item[name] = "Yes" if item[name] else "No"
        return item


class _Handler(BaseHTTPRequestHandler):
    server: FakeICite
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        url = urlparse(self.path)
        params = {key: values[-1] for key, values in parse_qs(url.query).items()}
        with self.server.lock:
            entry: dict[str, Any] = {
                "n": len(self.server.log) + 1, "time": time.monotonic(), "path": url.path,
                "raw": self.path, "params": params, "headers": dict(self.headers.items()),
                "status": 0, "fault": None,
            }  # fmt: skip
            self.server.log.append(entry)
        fault = self.server.faults.next(entry["n"])
        entry["fault"] = fault
        if fault and self._inject(fault, entry):
            return
        if url.path.rstrip("/") != "/api/pubs":
            respond(self, entry, 404, b'{"error": "Not found"}')
            return
        self._pubs(params, entry, fault)

    def _pubs(self, params: dict[str, str], entry: dict[str, Any], fault: str | None) -> None:
        asked = [int(p) for p in params.get("pmids", "").split(",") if p.strip().isdigit()]
        entry["pmids"] = asked
        if len(asked) > ICITE_CAP:
            error = f"Too many PMIDs requested: {len(asked)}; the maximum is {ICITE_CAP}."
            respond(self, entry, 400, json.dumps({"error": error}).encode())
            return
        fields = [f for f in params.get("fl", "").split(",") if f]
        data = []
        for pmid in dict.fromkeys(asked):
            item = self.server.record(pmid)
            if item is not None:
                data.append({k: v for k, v in item.items() if not fields or k in fields})
        if fault == "badtype" and data:
            data[0]["citation_count"] = "many"
        meta = {"pmids": params.get("pmids", "")} | ({"fl": params["fl"]} if fields else {})
        answer: dict[str, Any] = {"meta": meta, "links": {"self": entry["raw"]}}
        if fault != "nodata":
            answer["data"] = data
        body = json.dumps(answer).encode()
        if fault == "truncated":
            body = body[: len(body) // 2]
        respond(self, entry, 200, body)

    def _inject(self, fault: str, entry: dict[str, Any]) -> bool:
        """Answer with a fault; False when the fault only changes a normal answer."""
        body = b'{"error": "Too many requests, slow down."}'
        done = transport_fault(self, entry, fault, self.server.faults, page=HTML_PAGE,
                               too_many=body)  # fmt: skip
        return bool(done)


def start(**options: Any) -> FakeICite:
    """A running fake iCite on a free port, served from a daemon thread."""
    return serve(FakeICite(**options))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--yes-no", action="store_true", help='flags as "Yes"/"No" strings')
    args = parser.parse_args()
    server = FakeICite(args.port, yes_no=args.yes_no)
    print(f"fake iCite at {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
