"""The NCBI seam: real esearch answers read right, and every failure classified."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_eutils import FakeNCBI

from tracker.config import Settings
from tracker.entrez import Client, parse_search
from tracker.errors import EmailRequired, FetchError, NCBIQueryError, TransientError

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "expected" / "esearch_cases.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["file"])
def test_a_real_esearch_answer_is_read_as_ncbi_sent_it(
    case: dict[str, Any], eutils_fixtures: Path
) -> None:
    result = parse_search((eutils_fixtures / case["file"]).read_bytes())
    assert (result.count, result.retmax, result.retstart) == (
        case["count"], case["retmax"], case["retstart"],
    )  # fmt: skip
    assert len(result.ids) == case["ids"]
    if case["ids"]:
        assert (result.ids[0], result.ids[-1]) == (case["first_id"], case["last_id"])
    assert (result.webenv, result.query_key) == (case["webenv"], case["query_key"])
    if "query_translation" in case:
        assert result.query_translation == case["query_translation"]
    else:
        assert result.query_translation.startswith(case["query_translation_starts"])
    assert list(result.phrases_not_found) == case["phrases_not_found"]
    assert list(result.warnings) == case["warnings"]


def test_an_esearch_answer_naming_an_unknown_dtd_is_refused_without_a_download() -> None:
    """Biopython would download a DTD it lacks; the seam refuses, so no request is made."""
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20990101//EN"'
        b' "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20990101/esearch_2099.dtd">\n'
        b"<eSearchResult><Count>1</Count></eSearchResult>"
    )
    with pytest.raises(FetchError, match="tracker never downloads DTDs"):
        parse_search(data)


def client(fake: FakeNCBI, api_key: str = "") -> Client:
    return Client(Settings(email="reviewer@example.org", eutils_url=fake.base_url, api_key=api_key))


def test_requests_reach_the_configured_server_with_email_and_tool(fake_ncbi: FakeNCBI) -> None:
    result = client(fake_ncbi).esearch("ketamine", retmax=3, usehistory="y")
    assert result.count == 2000 and len(result.ids) == 3 and result.webenv
    sent = fake_ncbi.requests("esearch")[-1]["params"]
    assert sent["email"] == "reviewer@example.org"
    assert sent["tool"] == "ketamine-review-tracker"
    assert "api_key" not in sent


def test_the_api_key_is_sent_but_never_shown(fake_ncbi: FakeNCBI) -> None:
    keyed = client(fake_ncbi, api_key="KEY-abc-123")
    keyed.esearch("ketamine", retmax=1)
    assert fake_ncbi.requests()[-1]["params"]["api_key"] == "<key>"
    assert "KEY-abc-123" not in repr(keyed)
    assert "KEY-abc-123" not in repr(Settings(api_key="KEY-abc-123"))


def test_many_ids_are_posted(fake_ncbi: FakeNCBI) -> None:
    ids = client(fake_ncbi).esearch("ketamine", retmax=600).ids
    data = client(fake_ncbi).efetch(ids)
    assert data.count(b"<PubmedArticle>") == 600
    assert fake_ncbi.requests("efetch")[-1]["method"] == "POST"


def test_a_search_without_hits_is_an_answer_not_an_error(fake_ncbi: FakeNCBI) -> None:
    result = client(fake_ncbi).esearch("nohits at all")
    assert (result.count, result.ids, result.phrases_not_found) == (0, (), ("nohits",))


def test_a_malformed_query_is_a_permanent_error_that_says_what_to_check(
    fake_ncbi: FakeNCBI,
) -> None:
    with pytest.raises(NCBIQueryError, match="Check its brackets"):
        client(fake_ncbi).esearch("(ketamine AND pain")


def test_searching_past_the_cap_gives_ncbi_s_own_error(fake_ncbi: FakeNCBI) -> None:
    with pytest.raises(NCBIQueryError, match="cannot be larger than 9998"):
        client(fake_ncbi).esearch("ketamine", retstart=10_000)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("429", "too many requests"),
        ("500", "HTTP 500"),
        ("502", "HTTP 502"),
        ("503", "HTTP 503"),
        ("html", "web page"),
        ("error200", "Search Backend failed"),
        ("truncated", "cut off or garbled"),
        ("reset", "reset"),
    ],
)
def test_each_kind_of_transient_fault_is_classified_as_retryable(
    fake_ncbi: FakeNCBI, fault: str, message: str
) -> None:
    fake_ncbi.faults.queue.append(fault)
    with pytest.raises(TransientError, match=message) as caught:
        client(fake_ncbi).esearch("ketamine", retmax=1)
    if fault == "429":
        assert caught.value.retry_after == 1.0


def test_a_slow_server_times_out_as_a_transient_fault(fake_ncbi: FakeNCBI) -> None:
    fake_ncbi.faults.slow_seconds = 2.0
    fake_ncbi.faults.queue.append("slow")
    slow = Client(Settings(email="a@b.org", eutils_url=fake_ncbi.base_url), timeout=0.5)
    with pytest.raises(TransientError, match="did not answer in time"):
        slow.esearch("ketamine", retmax=1)


def test_an_unreachable_server_is_a_transient_fault() -> None:
    closed = Client(Settings(email="a@b.org", eutils_url="http://127.0.0.1:9/entrez/eutils/"))
    with pytest.raises(TransientError, match=r"could not be reached|failed"):
        closed.esearch("ketamine")


def test_a_missing_email_is_refused_before_any_request() -> None:
    with pytest.raises(EmailRequired):
        Client(Settings(email=""))
