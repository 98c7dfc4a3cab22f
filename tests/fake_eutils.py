"""A faithful offline NCBI E-utilities: a real HTTP server speaking esearch and efetch.

    python tests/fake_eutils.py --port 8765 [--records 25000] [--seed 1]

then ``TRACKER_EUTILS_URL=http://127.0.0.1:8765/entrez/eutils/ tracker fetch --email a@b.c``.

It answers GET and POST under ``/entrez/eutils/`` in NCBI's shapes (modelled on the real files in
../shared/fixtures/eutils): ``usehistory``/WebEnv/query_key, retstart/retmax, mindate/maxdate
with ``datetype=crdt``, Count and QueryTranslation, PhraseNotFound for a query with no hits, the
9,999-record cap with NCBI's own error text, and ``<ERROR>`` inside HTTP 200 for a lost WebEnv.
It enforces NCBI's rate limits (3 requests/s, 10 with an api_key) with real 429 answers, logs
every request, and injects faults on demand: 429 (with ``Faults.retry_after`` as its
Retry-After: seconds or an HTTP date), 5xx, an HTML page, ``<ERROR>`` in a 200, XML cut off
mid-record, a connection reset, a slow answer, and "fail every request after K".

The corpus is generated from a seed: the same seed gives the same PMIDs, dates and texts.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape

from fake_service import Faults

SEARCH_CAP = 9_999
FIRST_DAY = date(1990, 1, 1)
LAST_DAY = date(2026, 6, 30)
FAULT_KINDS = ("429", "500", "502", "503", "html", "error200", "truncated", "reset", "slow")

ESEARCH_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch'
    ' 20060628//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
)
EFETCH_HEAD = (
    '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st '
    'January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
)
CAP_ERROR = (
    "Search Backend failed: Exception:\n'retstart' cannot be larger than 9998. For PubMed, "
    "ESearch can only retrieve the first 9,999 records matching the query. To obtain more than "
    "9,999 PubMed records, consider using EDirect that contains additional logic to batch "
    "PubMed search results automatically so that an arbitrary number can be retrieved. For "
    "details see https://www.ncbi.nlm.nih.gov/books/NBK25499/"
)
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Service unavailable</title></head><body><h1>NCBI</h1>"
    b"<p>The server is temporarily unable to service your request.</p></body></html>"
)
DRUGS = ("esketamine", "ketamine", "S-ketamine", "arketamine")
CONDITIONS = ("neuropathic pain", "fibromyalgia", "complex regional pain syndrome",
              "cancer pain", "chronic low back pain", "chronic postsurgical pain")  # fmt: skip
ROUTES = ("intranasal", "intravenous", "oral", "subcutaneous")


@dataclass(frozen=True, slots=True)
class FakeRecord:
    pmid: int
    created: date
    title: str
    abstract: str


def make_record(pmid: int, created: date, rng: random.Random) -> FakeRecord:
    drug, condition, route = rng.choice(DRUGS), rng.choice(CONDITIONS), rng.choice(ROUTES)
    n = rng.randint(12, 400)
    title = f"{route.capitalize()} {drug} for {condition}: a study of {n} patients"
    abstract = (
        f"We studied {route} {drug} in {n} adults with {condition}. Pain scores fell; "
        "dizziness and nausea were the commonest adverse effects."
    )
    return FakeRecord(pmid, created, title, abstract)


def build_corpus(size: int, seed: int = 1, *, crowded_day: date | None = None,
                 crowded: int = 0, first_day: date = FIRST_DAY,
                 last_day: date = LAST_DAY) -> dict[int, FakeRecord]:  # fmt: skip
    """``size`` records with unique PMIDs and creation dates spread over 1990-2026.

    ``crowded`` records can be put on one ``crowded_day``, to test a day holding more than the
    search cap.
    """
    rng = random.Random(seed)
    span = (last_day - first_day).days
    pmids = rng.sample(range(1_000_000, 40_000_000), size)
    corpus = {}
    for index, pmid in enumerate(pmids):
        if index < crowded and crowded_day is not None:
            day = crowded_day
        else:
            day = first_day + timedelta(days=int(span * rng.random() ** 0.5))
        corpus[pmid] = make_record(pmid, day, rng)
    return corpus


def article_xml(record: FakeRecord) -> str:
    """One PubmedArticle in efetch's shape, with a DOI and a ReferenceList to ignore."""
    d = record.created
    return (
        '<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">'
        f'<PMID Version="1">{record.pmid}</PMID><Article PubModel="Print-Electronic"><Journal>'
        '<ISSN IssnType="Electronic">1526-4637</ISSN><JournalIssue CitedMedium="Internet">'
        f"<Volume>{d.year - 1980}</Volume><Issue>{d.month}</Issue><PubDate><Year>{d.year}</Year>"
        f"<Month>{d.strftime('%b')}</Month></PubDate></JournalIssue><Title>Pain medicine (Malden,"
        " Mass.)</Title><ISOAbbreviation>Pain Med</ISOAbbreviation></Journal>"
        f"<ArticleTitle>{escape(record.title)}</ArticleTitle><Abstract><AbstractText "
        f'Label="BACKGROUND">{escape(record.abstract)}</AbstractText></Abstract>'
        '<AuthorList CompleteYN="Y"><Author ValidYN="Y"><LastName>Rivera</LastName><ForeName>Ana'
        "</ForeName><Initials>A</Initials></Author></AuthorList><Language>eng</Language>"
        '<PublicationTypeList><PublicationType UI="D016428">Journal Article</PublicationType>'
        "</PublicationTypeList></Article></MedlineCitation><PubmedData><ArticleIdList>"
        f'<ArticleId IdType="pubmed">{record.pmid}</ArticleId><ArticleId IdType="doi">'
        f"10.1093/pm/pnz{record.pmid}</ArticleId></ArticleIdList><ReferenceList><Reference>"
        '<Citation>Cited work.</Citation><ArticleIdList><ArticleId IdType="pubmed">123456'
        "</ArticleId></ArticleIdList></Reference></ReferenceList></PubmedData></PubmedArticle>"
    )


class FakeNCBI(ThreadingHTTPServer):
    """The server object tests hold: its corpus, its faults and its request log."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 0, *, records: int = 1000, seed: int = 1,
                 enforce_rate: bool = True, **corpus_options: Any) -> None:  # fmt: skip
        super().__init__(("127.0.0.1", port), _Handler)
        self.corpus = build_corpus(records, seed, **corpus_options)
        self.faults = Faults(kinds=FAULT_KINDS)
        self.enforce_rate = enforce_rate
        self.log: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.history: dict[str, list[list[int]]] = {}
        self._recent: dict[bool, deque[float]] = {False: deque(), True: deque()}
        self._rng = random.Random(seed + 1)
        self._next_pmid = 40_000_001

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/entrez/eutils/"

    # -- corpus changes between runs -------------------------------------------------------

    def add_records(self, count: int) -> list[int]:
        added = []
        with self.lock:
            for _ in range(count):
                pmid, self._next_pmid = self._next_pmid, self._next_pmid + 1
                self.corpus[pmid] = make_record(pmid, LAST_DAY, self._rng)
                added.append(pmid)
        return added

    def withdraw(self, count: int) -> list[int]:
        with self.lock:
            gone = sorted(self.corpus)[:count]
            for pmid in gone:
                del self.corpus[pmid]
        return gone

    # -- what tests count --------------------------------------------------------------------

    def requests(self, util: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.log if util is None or r["util"] == util]

    def statuses(self) -> list[int]:
        return [r["status"] for r in self.requests()]

    # -- request handling --------------------------------------------------------------------

    def over_rate(self, has_key: bool) -> bool:
        """True when this request would exceed NCBI's limit in the last second."""
        if not self.enforce_rate:
            return False
        limit = 10 if has_key else 3
        now = time.monotonic()
        with self.lock:
            recent = self._recent[has_key]
            while recent and now - recent[0] >= 1.0:
                recent.popleft()
            if len(recent) >= limit:
                return True
            recent.append(now)
            return False

    def matching(self, params: dict[str, str]) -> list[int] | str:
        """PMIDs matching a search, newest first as NCBI sorts them; or an error message."""
        term = params.get("term", "")
        if "badsyntax" in term or term.count("(") != term.count(")"):
            return f"Invalid query: unbalanced or unknown syntax in {term!r}"
        if "nohits" in term:
            return []
        low, high = _day(params.get("mindate")), _day(params.get("maxdate"))
        with self.lock:
            hits = [
                r for r in self.corpus.values()
                if (low is None or r.created >= low) and (high is None or r.created <= high)
            ]  # fmt: skip
        hits.sort(key=lambda r: (r.created, r.pmid), reverse=True)
        return [r.pmid for r in hits]

    def remember(self, webenv: str | None, pmids: list[int]) -> tuple[str, int]:
        with self.lock:
            if not webenv or webenv not in self.history:
                webenv = f"MCID_{self._rng.getrandbits(64):016x}"
                self.history[webenv] = []
            self.history[webenv].append(pmids)
            return webenv, len(self.history[webenv])

    def recall(self, webenv: str, query_key: str) -> list[int] | None:
        with self.lock:
            queries = self.history.get(webenv)
            if not queries or not query_key.isdigit() or not 1 <= int(query_key) <= len(queries):
                return None
            return queries[int(query_key) - 1]


def _day(text: str | None) -> date | None:
    if not text:
        return None
    parts = [int(p) for p in text.replace("-", "/").split("/")]
    year, month, day = [*parts, 1, 1][:3]
    return date(year, month, day)


class _Handler(BaseHTTPRequestHandler):
    server: FakeNCBI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        self._serve(parse_qs(urlparse(self.path).query))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8")
        self._serve(parse_qs(body) | parse_qs(urlparse(self.path).query))

    def _serve(self, raw: dict[str, list[str]]) -> None:
        params = {key: values[-1] for key, values in raw.items()}
        if "id" in raw:  # some clients repeat id= instead of joining with commas
            params["id"] = ",".join(raw["id"])
        util = urlparse(self.path).path.rsplit("/", 1)[-1].removesuffix(".fcgi")
        has_key = bool(params.get("api_key"))
        with self.server.lock:
            number = len(self.server.log) + 1
            entry: dict[str, Any] = {
                "n": number, "time": time.monotonic(), "method": self.command, "util": util,
                "params": {k: ("<key>" if k == "api_key" else v) for k, v in params.items()},
                "status": 0, "fault": None,
            }  # fmt: skip
            self.server.log.append(entry)
        if self.server.over_rate(has_key):
            entry["status"] = 429
            count = "11" if has_key else "4"
            body = json.dumps({"error": "API rate limit exceeded", "count": count}).encode()
            self._send(429, body, "application/json", {"Retry-After": "1"})
            return
        fault = self.server.faults.next(number)
        entry["fault"] = fault
        if fault and self._inject(fault, entry):
            return
        if not self.path.startswith("/entrez/eutils/") or util not in ("esearch", "efetch"):
            entry["status"] = 404
            self._send(404, b"<html><body>Not found</body></html>", "text/html")
            return
        if not params.get("email"):
            entry["warning"] = "no email"
        if util == "esearch":
            self._esearch(params, entry)
        else:
            self._efetch(params, entry, truncate=fault == "truncated")

    def _inject(self, fault: str, entry: dict[str, Any]) -> bool:
        """Answer with a fault; False when the fault only changes a normal answer."""
        if fault in ("500", "502", "503"):
            entry["status"] = int(fault)
            self._send(int(fault), HTML_PAGE, "text/html")
        elif fault == "429":
            entry["status"] = 429
            body = b'{"error":"API rate limit exceeded","count":"11"}'
            headers = {"Retry-After": self.server.faults.retry_after}
            self._send(429, body, "application/json", headers)
        elif fault == "html":
            entry["status"] = 200
            self._send(200, HTML_PAGE, "text/html")
        elif fault == "error200":
            entry["status"] = 200
            body = b"<eFetchResult><ERROR>Unable to obtain query #1</ERROR></eFetchResult>"
            if entry["util"] == "esearch":
                body = (
                    ESEARCH_HEAD + "<eSearchResult><ERROR>Search Backend failed: "
                    "timeout</ERROR></eSearchResult>"
                ).encode()
            self._send(200, body, "text/xml")
        elif fault == "reset":
            entry["status"] = -1
            self.close_connection = True
            self.connection.shutdown(2)
        elif fault == "slow":
            time.sleep(self.server.faults.slow_seconds)
            return False
        elif fault == "truncated":
            # efetch: the normal answer, cut off mid-record; esearch: cut off here.
            return entry["util"] != "efetch" and self._cut_search(entry)
        else:
            return False
        return True

    def _cut_search(self, entry: dict[str, Any]) -> bool:
        entry["status"] = 200
        self._send(200, ESEARCH_HEAD.encode() + b"<eSearchResult><Count>1", "text/xml")
        return True

    def _esearch(self, params: dict[str, str], entry: dict[str, Any]) -> None:
        hits = self.server.matching(params)
        term = escape(params.get("term", ""))
        if isinstance(hits, str):
            entry["status"] = 200
            body = f"<eSearchResult><ERROR>{escape(hits)}</ERROR></eSearchResult>"
            self._send(200, (ESEARCH_HEAD + body).encode(), "text/xml")
            return
        retstart = int(params.get("retstart") or 0)
        retmax = int(params.get("retmax") or 20)
        if retstart > SEARCH_CAP - 1:
            entry["status"] = 200
            body = f"<eSearchResult><ERROR>{escape(CAP_ERROR)}</ERROR></eSearchResult>"
            self._send(200, (ESEARCH_HEAD + body).encode(), "text/xml")
            return
        ids = hits[retstart : min(retstart + retmax, SEARCH_CAP)]
        if params.get("retmode") == "json":  # what pymed asks for
            result = {"count": str(len(hits)), "retmax": str(len(ids)),
                      "retstart": str(retstart), "idlist": [str(p) for p in ids]}  # fmt: skip
            entry["status"] = 200
            self._send(200, json.dumps({"esearchresult": result}).encode(), "application/json")
            return
        history = ""
        if params.get("usehistory") == "y":
            webenv, key = self.server.remember(params.get("WebEnv"), hits)
            history = f"<QueryKey>{key}</QueryKey><WebEnv>{webenv}</WebEnv>"
        id_list = (
            "<IdList>\n" + "".join(f"<Id>{p}</Id>\n" for p in ids) + "</IdList>"
            if ids
            else "<IdList/>"
        )
        tail = f"<TranslationSet/><QueryTranslation>{term}</QueryTranslation>"
        if not hits and "nohits" in params.get("term", ""):
            tail += ("<ErrorList><PhraseNotFound>nohits</PhraseNotFound></ErrorList><WarningList>"
                     "<OutputMessage>No items found.</OutputMessage></WarningList>")  # fmt: skip
        body = (
            f"<eSearchResult><Count>{len(hits)}</Count><RetMax>{len(ids)}</RetMax>"
            f"<RetStart>{retstart}</RetStart>{history}{id_list}{tail}</eSearchResult>\n"
        )
        entry["status"] = 200
        entry["count"] = len(ids)
        self._send(200, (ESEARCH_HEAD + body).encode(), "text/xml")

    def _efetch(self, params: dict[str, str], entry: dict[str, Any], *, truncate: bool) -> None:
        if params.get("id"):
            wanted = [int(p) for p in params["id"].split(",") if p.strip().isdigit()]
        else:
            stored = self.server.recall(params.get("WebEnv", ""), params.get("query_key", ""))
            if stored is None:
                entry["status"] = 200
                body = b"<eFetchResult><ERROR>Unable to obtain query #1</ERROR></eFetchResult>"
                self._send(200, body, "text/xml")
                return
            start = int(params.get("retstart") or 0)
            if start > SEARCH_CAP - 1:  # the history server has the same 9,999 cap
                entry["status"] = 400
                self._send(400, f"<eFetchResult><ERROR>{escape(CAP_ERROR)}</ERROR></eFetchResult>"
                           .encode(), "text/xml")  # fmt: skip
                return
            wanted = stored[start : min(start + int(params.get("retmax") or 20), SEARCH_CAP)]
        with self.server.lock:
            records = [self.server.corpus[p] for p in wanted if p in self.server.corpus]
        text = EFETCH_HEAD + "<PubmedArticleSet>\n"
        text += "\n".join(article_xml(r) for r in records) + "\n</PubmedArticleSet>\n"
        data = text.encode()
        if truncate:
            data = data[: max(len(data) * 2 // 3, 1)]
        entry["status"] = 200
        entry["count"] = len(records)
        self._send(200, data, "text/xml")

    def _send(self, status: int, body: bytes, kind: str,
              headers: dict[str, str] | None = None) -> None:  # fmt: skip
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def start(**options: Any) -> FakeNCBI:
    """Start a fake on a free port in a background thread; call ``.shutdown()`` when done."""
    server = FakeNCBI(0, **options)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description="A fake NCBI E-utilities server.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--records", type=int, default=25_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-fraction", type=float, default=0.0)
    args = parser.parse_args()
    server = FakeNCBI(args.port, records=args.records, seed=args.seed)
    server.faults.fraction = args.fault_fraction
    print(f"fake NCBI with {args.records:,} records at {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
