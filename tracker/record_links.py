"""The link and the ids an exported entry carries, one rule for CSV, RIS and BibTeX alike.

A record from PubMed is named by its PMID and linked to its PubMed page; a record from any other
database may have no PMID, and then its registry page, the link its source gave or its DOI has
to stand in, and its id in that database (the Embase accession, the Scopus EID) becomes what a
reference manager files it under. Kept apart from the writers so that all three agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import pandas as pd

from tracker.records import PUBMED, pubmed_url

REGISTRY_URL = "https://clinicaltrials.gov/study/{nct}"

OWN_ID_KINDS: Mapping[str, str] = {
    "Embase": "embase",
    "Scopus": "scopus",
    "Web of Science": "wos",
    "CENTRAL": "central",
    "ClinicalTrials.gov": "nct",
}
"""The id kind (in ``source_ids``) that names a record in the database it came from; the same
pairs :func:`tracker.schema.identity` uses to recognise a record its source gives again."""


def record_url(
    *, pmid: int | None, kind: str = "", nct: str = "", url: str = "", doi: str = ""
) -> str:
    """The one link an entry carries: PubMed's page when there is a PMID, the registry's page
    for a trial registration, else the record's own link, else the DOI's; ``""`` if none.

    PubMed first, because its page links onwards to the full text and the registry; a trial's
    registry page is the record itself, whatever page a vendor's export pointed at.
    """
    if pmid is not None:
        return pubmed_url(pmid)
    if kind == "trial" and nct:
        return REGISTRY_URL.format(nct=nct)
    if url:
        return url
    if doi:
        return "https://doi.org/" + quote(doi, safe="/()._-;:<>[]")
    return ""


def own_id(source: str, source_ids: Iterable[str]) -> str:
    """The record's id in the database it came from ("L2012345" for Embase), else ``""``.

    A PubMed record's own id is its PMID, which the writers take from the ``pmid`` column.
    """
    if source == PUBMED:
        return ""
    wanted = OWN_ID_KINDS.get(source)
    for text in source_ids:
        kind, _, value = text.partition(": ")
        if value and (kind == wanted or (wanted is None and kind != PUBMED)):
            return value
    return ""


def pmid_of(value: Any) -> int | None:
    """A PMID cell as an int, or None for a record PubMed does not hold (pandas' NA)."""
    return None if value is None or pd.isna(value) else int(value)
