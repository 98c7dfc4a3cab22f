"""A review's number of studies pooled reaches suggestions as its own facet, not as a sample size.

Written text in the shape of a meta-analysis abstract; the real records are scored in
test_tagging_real.py.
"""

from __future__ import annotations

import pandas as pd

from tracker import suggestions, tagging

_POOLED = (
    "We searched five databases and pooled 14 randomised trials (1,203 patients) of ketamine "
    "for chronic pain in a random-effects meta-analysis."
)


def _record(pmid: int, title: str, abstract: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": [pmid],
            "title": [title],
            "abstract": [abstract],
            "publication_types": [[]],
            "mesh_terms": [[]],
        }
    )


def test_a_meta_analysis_suggests_studies_pooled_and_no_sample_size() -> None:
    frame = tagging.evidence(_record(7, "Ketamine for chronic pain: a meta-analysis", _POOLED))
    rows = suggestions.long_form(frame)
    pooled = rows[rows["facet"] == "studies_pooled"]
    assert pooled["value"].tolist() == ["14"]
    assert "14" in pooled["span"].iloc[0]
    assert rows[rows["facet"] == "n"].empty


def test_studies_pooled_is_a_facet_reviewers_can_name() -> None:
    assert suggestions.facet_key("Studies pooled") == "studies_pooled"
    assert suggestions.label("studies_pooled") == "studies pooled"


def test_studies_pooled_sorts_after_the_vocabulary_facets() -> None:
    frame = tagging.evidence(_record(9, "Ketamine for chronic pain: a meta-analysis", _POOLED))
    facets = suggestions.long_form(frame)["facet"].tolist()
    assert "design" in facets
    assert facets.index("studies_pooled") > max(i for i, f in enumerate(facets) if f == "design")
