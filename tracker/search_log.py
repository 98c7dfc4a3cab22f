"""The search log as PRISMA-S asks a paper to report it: every run, ready for a methods section.

PRISMA-S (Rethlefsen et al., 2021) wants, for each database search: the database and the
interface it was searched through, the full search as run, any limits or filters, the date of
the search and the number of records found. A run searches one database (its ``source``) or
imports one database's export, so :func:`search_log` gives one row per run, which is one row per
search per database, with those fields from the store's run log (``Store.runs()``);
:func:`to_markdown` gives the same as a pipe table plus one methods sentence per successful run,
whatever the database, and :func:`to_csv` as a spreadsheet-safe CSV.

The interface says how the records reached the tracker: "PubMed via NCBI E-utilities" for a
PubMed search, "ClinicalTrials.gov API v2" for a registry search, "<database> export file"
for an import (with the file format, when the file names in the run's query show it), each
with the tracker version that ran it.

Limits are read from the query itself: tracker's own runs never add date or filter limits
(a living review re-runs the whole query), so a limit is whatever field tag the query uses
for dates, languages, publication types or PubMed's filters, e.g. ``2015:2020[dp]`` or
``english[la]``; "none" otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from tracker.export import table_to_csv
from tracker.records import PUBMED

COLUMNS = (
    "Run", "Date/time (UTC)", "Database", "Interface", "Query as typed",
    "Query as PubMed translated it", "Limits", "Records found", "Retrieved", "New", "Updated",
    "Unchanged", "No longer returned", "Status", "Error",
)  # fmt: skip
PLATFORMS = {
    PUBMED: "PubMed via NCBI E-utilities",
    "ClinicalTrials.gov": "ClinicalTrials.gov API v2",
}
"""How the tracker searches each database it can search itself."""
EXPORT_FILE = "export file"
_VIA = {PUBMED: "the NCBI E-utilities", "ClinicalTrials.gov": "its API v2"}
"""How a methods sentence names each platform (:data:`PLATFORMS`) after its database."""

_FORMATS = {".xml": "XML", ".ris": "RIS", ".nbib": "MEDLINE", ".medline": "MEDLINE",
            ".txt": "text", ".csv": "CSV", ".tsv": "tab-delimited text", ".bib": "BibTeX",
            ".json": "JSON"}  # fmt: skip

_LIMIT_TAGS = ("dp", "pdat", "publication date", "crdt", "create date", "edat", "entrez date",
               "mhda", "mesh date", "lr", "la", "lang", "language", "pt", "publication type",
               "sb", "subset", "filter", "filters", "mh:noexp")  # fmt: skip
_TERM = r'(?:"[^"]*"|[^\s()":]+)'
_TAG = r"\[(?:" + "|".join(re.escape(t) for t in _LIMIT_TAGS) + r")\]"
_LIMIT = re.compile(rf"(?:{_TERM}(?:{_TAG})?\s*:\s*)?{_TERM}{_TAG}", flags=re.IGNORECASE)
"""A limit term, or a range of two ("2015"[dp] : "2020"[dp], 2015:2020[dp])."""
_COUNTS = ("Records found", "Retrieved", "New", "Updated", "Unchanged", "No longer returned")


def search_log(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run (``Store.runs()``), oldest first, with PRISMA-S's columns."""
    rows = [_row(run) for run in runs.to_dict(orient="records")]
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype(dict.fromkeys(_COUNTS, "Int64"))


def limits(query: str) -> str:
    """The date, language, publication-type and filter limits a PubMed query sets, or "none"."""
    found = [" ".join(match.split()) for match in _LIMIT.findall(query or "")]
    return "; ".join(dict.fromkeys(found)) or "none"


def to_markdown(log: pd.DataFrame) -> str:
    """A pipe table of the log, then one methods-section sentence per successful run, for each
    database searched or imported."""
    header = "| " + " | ".join(log.columns) + " |"
    rule = "|" + "|".join("---" for _ in log.columns) + "|"
    lines = [header, rule]
    for row in log.to_dict(orient="records"):
        cells = [
            _code(_cell(row[name])) if name.startswith("Query") and row[name] else _cell(row[name])
            for name in log.columns
        ]
        lines.append("| " + " | ".join(cells) + " |")
    sentences = [_sentence(row) for row in log.to_dict(orient="records") if _is_search(row)]
    return "\n".join(lines) + "\n" + "".join(f"\n{s}\n" for s in sentences)


def to_csv(log: pd.DataFrame) -> bytes:
    """The log as CSV bytes (UTF-8 with BOM, formulas made inert), as every export is."""
    return table_to_csv(log)


def _row(run: Mapping[Hashable, Any]) -> dict[str, Any]:
    kind = str(run.get("kind") or "")
    source = str(run.get("source") or PUBMED)  # runs logged before sources were: PubMed's
    query = str(run.get("query") or "")
    return {
        "Run": int(run["id"]),
        "Date/time (UTC)": _utc(run.get("started_at")),
        "Database": source,
        "Interface": interface(kind, source, query, str(run.get("tool_version") or "")),
        "Query as typed": query,  # for an import: the files read
        "Query as PubMed translated it": str(run.get("query_translation") or ""),
        "Limits": limits(query) if kind == "fetch" and source == PUBMED else "none",
        "Records found": _count(run.get("count")),
        "Retrieved": _count(run.get("retrieved")),
        "New": _count(run.get("new")),
        "Updated": _count(run.get("updated")),
        "Unchanged": _count(run.get("unchanged")),
        "No longer returned": _count(run.get("gone")),
        "Status": str(run.get("status") or ""),
        "Error": str(run.get("error") or ""),
    }


def interface(kind: str, source: str, query: str, version: str = "") -> str:
    """How one run reached its database, and the tracker version that ran it:
    "PubMed via NCBI E-utilities (Bio.Entrez, tracker 0.1.0)", "Embase export file (RIS;
    tracker 0.1.0)"."""
    tool = f"tracker {version}".strip()
    if kind == "import":
        formats = file_formats(query, source)
        return f"{source} {EXPORT_FILE} ({'; '.join([*formats, tool])})"
    platform = PLATFORMS.get(source, source)
    return f"{platform} ({'Bio.Entrez, ' if source == PUBMED else ''}{tool})"


def file_formats(query: str, source: str = "") -> list[str]:
    """The formats an import run's files are in, read from their names in its query ("import
    embase.ris, scopus.csv"); a format no name shows is left out rather than guessed."""
    names = query.removeprefix("import ").split(", ") if query.startswith("import ") else []
    found = []
    for name in names:
        stem = name.lower().removesuffix(".gz")
        suffix = stem[stem.rfind(".") :] if "." in stem else ""
        if suffix in _FORMATS:
            kind = _FORMATS[suffix]
            found.append(f"{PUBMED} XML" if kind == "XML" and source == PUBMED else kind)
    return list(dict.fromkeys(found))


def _utc(stamp: Any) -> str:
    if stamp is None or (not isinstance(stamp, str) and pd.isna(stamp)) or not str(stamp):
        return ""
    return datetime.fromisoformat(str(stamp)).strftime("%Y-%m-%d %H:%M:%S")


def _count(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _cell(value: Any) -> str:
    """A table cell: one line, pipes escaped, empty for missing numbers."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return " ".join(str(value).split()).replace("|", "\\|")


def _code(text: str) -> str:
    """Query text as a Markdown code span: shown verbatim, its * and [ ] not read as markup."""
    return "`" + " ".join(text.split()).replace("`", "'") + "`"


def _is_search(row: Mapping[Hashable, Any]) -> bool:
    return bool(row["Status"] == "succeeded")


def _sentence(row: Mapping[Hashable, Any]) -> str:
    """One methods sentence: a search the tracker ran, or an export it imported."""
    when = datetime.strptime(row["Date/time (UTC)"], "%Y-%m-%d %H:%M:%S")
    day = f"{when.day} {when:%B %Y}"
    found = int(row["Records found"] or 0)
    records = f"{found:,} {'record was' if found == 1 else 'records were'}"
    database, how = str(row["Database"]), str(row["Interface"])
    detail = how[how.find(" (") + 2 : -1] if how.endswith(")") else how  # format, tool
    if how.startswith(f"{database} {EXPORT_FILE}"):
        files = str(row["Query as typed"]).removeprefix("import ")
        return (
            f"Records from {database} were imported on {day} from its {EXPORT_FILE} "
            f"{_code(files)} ({detail}). {records} read (run {row['Run']}: "
            f"{int(row['New'] or 0):,} new); the search that produced the file is reported "
            "with its own strategy."
        )
    translated = row["Query as PubMed translated it"]
    limited = row["Limits"]
    via = _VIA.get(database, "its own interface")
    return (
        f"{database} was searched on {day} via {via} ({detail}) with the query "
        f"{_code(row['Query as typed'])}"
        + (f", which {database} translated as {_code(translated)}" if translated else "")
        + (f"; limits: {_code(limited)}" if limited != "none" else "; no limits were applied")
        + f". {records} found "
        f"(run {row['Run']}: {int(row['New'] or 0):,} new, "
        f"{int(row['No longer returned'] or 0):,} no longer returned)."
    )
