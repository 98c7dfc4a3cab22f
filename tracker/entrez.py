"""The NCBI seam: the only module that imports Bio.Entrez.

Bio.Entrez hard-codes NCBI's base URL and calls the module-global ``Bio.Entrez.urlopen``. This
module adapts it in one place, per request:

- the URL prefix is rewritten to ``Settings.eutils_url`` (tests point it at tests/fake_eutils.py);
- Biopython's own retry loop is off (``max_tries = 1``): tracker's back-off decides (the one
  loop in courtesy.py, which reads NCBI's Retry-After through :func:`courtesy.retry_after`);
- email, tool and the API key go with every request, as NCBI asks; the key is never logged,
  stored or shown in an error (messages are built from status codes, never from URLs);
- Bio.Entrez never downloads a DTD: its parser's ``urlopen`` refuses, and esearch answers are
  read with the DTDs Biopython ships.

Every failure leaves here as :class:`~tracker.errors.TransientError` (worth retrying, with
NCBI's Retry-After read and capped) or :class:`~tracker.errors.NCBIQueryError` (the query
itself is wrong).
"""

from __future__ import annotations

import http.client
import socket
import threading
import urllib.error
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.request import Request
from urllib.request import urlopen as _real_urlopen

from Bio import Entrez as _Entrez
from Bio.Entrez import Parser as _EntrezParser

from tracker.config import NCBI_EUTILS_URL, Settings
from tracker.courtesy import TOOL, TRANSIENT_STATUSES, retry_after, user_agent
from tracker.defaults import NCBI_TIMEOUT_S
from tracker.errors import ConfigError, FetchError, NCBIQueryError, TrackerError, TransientError

_PERMANENT_SEARCH_ERRORS = ("invalid query", "syntax", "unknown field", "cannot be larger")
_seam = threading.Lock()
# The two module globals this seam swaps while a request runs (typed loosely on purpose).
Entrez: Any = _Entrez
EntrezParser: Any = _EntrezParser


@dataclass(frozen=True, slots=True)
class SearchResult:
    """What one esearch answered."""

    count: int
    ids: tuple[int, ...] = ()
    retmax: int = 0
    retstart: int = 0
    webenv: str = ""
    query_key: str = ""
    query_translation: str = ""
    phrases_not_found: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)


class Client:
    """Bio.Entrez bound to one Settings: base URL, email, key and a request timeout."""

    def __init__(self, settings: Settings, *, timeout: float = NCBI_TIMEOUT_S) -> None:
        self.email = settings.require_email()
        self._api_key = settings.api_key
        self._base = settings.eutils_url.rstrip("/") + "/"
        if not self._base.startswith(("http://", "https://")):
            raise ConfigError(
                f"TRACKER_EUTILS_URL must be an http(s) address, not {settings.eutils_url!r}."
            )
        self.timeout = timeout

    def __repr__(self) -> str:  # the key stays out of any repr or log
        key = "set" if self._api_key else "unset"
        return f"Client(base={self._base!r}, email={self.email!r}, api_key={key})"

    def esearch(self, term: str, **params: Any) -> SearchResult:
        """Run one esearch on PubMed and read its answer."""
        data = self._call(Entrez.esearch, db="pubmed", term=term, **params)
        return parse_search(data)

    def efetch(self, ids: Sequence[int] = (), **params: Any) -> bytes:
        """Fetch PubMed XML for ``ids`` (POSTed when there are many) or a history slice."""
        if ids:
            params["id"] = ",".join(str(i) for i in ids)
        return self._call(Entrez.efetch, db="pubmed", rettype="xml", retmode="xml", **params)

    def _call(self, utility: Any, **params: Any) -> bytes:
        params.update(email=self.email, tool=TOOL)
        if self._api_key:
            params["api_key"] = self._api_key
        with _seam:
            saved = Entrez.urlopen, Entrez.max_tries, EntrezParser.urlopen
            Entrez.urlopen, Entrez.max_tries = self._urlopen, 1
            EntrezParser.urlopen = _refuse_download
            try:
                with utility(**params) as handle:
                    data = handle.read()
            except urllib.error.HTTPError as exc:
                raise _http_error(exc.code, exc.headers, _safe_read(exc)) from None
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                raise TransientError(_network_message(exc)) from None
            finally:
                Entrez.urlopen, Entrez.max_tries, EntrezParser.urlopen = saved
        return data.encode() if isinstance(data, str) else bytes(data)

    def _urlopen(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        request.full_url = request.full_url.replace(NCBI_EUTILS_URL, self._base, 1)
        request.add_header("User-Agent", user_agent())
        return _real_urlopen(request, timeout=self.timeout)  # noqa: S310 - scheme checked in __init__


def parse_search(data: bytes) -> SearchResult:
    """Read an esearch answer (with Biopython's local DTD) into a SearchResult."""
    import io

    text = data.lstrip()
    if not text.startswith(b"<?xml") and not text.startswith(b"<eSearchResult"):
        raise TransientError("NCBI answered with a web page instead of search results")
    with _seam:
        saved = EntrezParser.urlopen
        EntrezParser.urlopen = _refuse_download
        try:
            record = Entrez.read(io.BytesIO(data))
        except (Entrez.Parser.CorruptedXMLError, Entrez.Parser.NotXMLError) as exc:
            raise TransientError(f"NCBI's search answer was cut off or garbled ({exc})") from None
        except RuntimeError as exc:  # Biopython reports an <ERROR> element this way
            if str(exc).startswith("Failed to access"):
                raise FetchError(
                    f"NCBI's answer needs a DTD this Biopython does not ship ({exc}); tracker "
                    "never downloads DTDs. Update Biopython: make lock, then make test."
                ) from None
            raise _search_error(str(exc)) from None
        finally:
            EntrezParser.urlopen = saved
    return _search_result(record)


def _search_result(record: Any) -> SearchResult:
    errors = record.get("ErrorList", {})
    warnings = record.get("WarningList", {})
    notes = [str(m) for key in ("OutputMessage", "QuotedPhraseNotFound", "PhraseIgnored")
             for m in warnings.get(key, [])]  # fmt: skip
    return SearchResult(
        count=int(record.get("Count", 0)),
        ids=tuple(int(i) for i in record.get("IdList", [])),
        retmax=int(record.get("RetMax", 0)),
        retstart=int(record.get("RetStart", 0)),
        webenv=str(record.get("WebEnv", "")),
        query_key=str(record.get("QueryKey", "")),
        query_translation=str(record.get("QueryTranslation", "")),
        phrases_not_found=tuple(str(p) for p in errors.get("PhraseNotFound", [])),
        warnings=tuple(notes),
    )


def _search_error(message: str) -> TrackerError:
    text = message.strip()
    if any(marker in text.lower() for marker in _PERMANENT_SEARCH_ERRORS):
        return NCBIQueryError(
            f"NCBI rejected the query: {text}. Check its brackets, quotes and [field] tags; "
            "PubMed's Advanced Search builder shows a query it accepts."
        )
    return TransientError(f"NCBI's search failed on its side: {text}")


def _http_error(code: int, headers: Message | None, body: bytes) -> TrackerError:
    if code in TRANSIENT_STATUSES:
        wait = retry_after(headers.get("Retry-After") if headers is not None else None)
        detail = "too many requests (HTTP 429)" if code == 429 else f"HTTP {code}"
        return TransientError(f"NCBI answered {detail}", retry_after=wait)
    snippet = body.decode("utf-8", "replace").strip()[:200]
    return NCBIQueryError(
        f"NCBI refused the request (HTTP {code}){': ' + snippet if snippet else ''}. "
        "Check the query; if it runs on pubmed.ncbi.nlm.nih.gov, report this as a bug."
    )


def _network_message(exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, socket.timeout | TimeoutError):
        return "NCBI did not answer in time"
    if isinstance(reason, ConnectionRefusedError):
        return "NCBI could not be reached (connection refused)"
    if isinstance(reason, socket.gaierror):
        return "NCBI's address could not be looked up (no network?)"
    if isinstance(reason, ConnectionResetError | http.client.RemoteDisconnected):
        return "the connection to NCBI was reset"
    return f"the connection to NCBI failed ({type(reason).__name__})"


def _safe_read(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read() or b""
    except OSError:
        return b""


def _refuse_download(url: Any, *args: Any, **kwargs: Any) -> Any:
    raise OSError("tracker never downloads DTDs or schemas")
