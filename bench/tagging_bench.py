"""Evidence-tag benchmark: tracker.tagging.evidence on 100,000 records against a plain-``re`` loop,
and how well the tags agree with the hand labels (issue #17).

    .venv/bin/python bench/tagging_bench.py [--records 100000] [--repeat 3] [--write]

The records are half app_bench's synthetic ones (every abstract naming a route, a dose and
three adverse effects) and half the hand-written abstracts of tests/expected/tagging_labels.json
in turn (negations, dose formats, reviews, protocols, case reports), each under its own record id.

Measured in one run, same records, same vocabulary:
- ``evidence()`` cold (median of ``--repeat``), and the time of its phases once;
- the naive peer: a Python loop that runs every vocabulary pattern with ``re`` over each
  record's title and abstract, checks negation before each adverse effect, looks up
  publication types and MeSH, and reads sample size (tracker.study_size) and dose with the
  same rules. It does what a straightforward implementation would, without the cancelling
  rules and the adverse effects' context.

Then the accuracy table of tests/tagging_accuracy.py: the fresh and earlier test splits, the
tuning split and the adverse-effect set of the real labelled abstracts (read in place from
../shared/screening-datasets), the held-out adverse effects pooled, the fixture records and the
crafted set, when those folders are there.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from app_bench import synthetic
from report import machine, write_section

from tracker import study_size, tagging
from tracker import vocabulary as vocabulary_file
from tracker.schema import article_row
from tracker.vocabulary import Vocabulary, load_vocabulary

TESTS = Path(__file__).resolve().parents[1] / "tests"
LABELS = TESTS / "expected" / "tagging_labels.json"
COLUMNS = ("record_id", "title", "abstract", "publication_types", "mesh_terms", "mesh_qualified")


def records(count: int) -> pd.DataFrame:
    """``count`` records, alternately synthetic and hand-written, as the store holds them."""
    crafted = json.loads(LABELS.read_text(encoding="utf-8"))["crafted"]
    rows = [{c: row[c] for c in COLUMNS} for row in map(article_row, synthetic(count))]
    for n in range(1, count, 2):
        case = crafted[(n // 2) % len(crafted)]
        rows[n].update(
            title=case["title"],
            abstract=case["abstract"],
            publication_types=case["publication_types"],
            mesh_terms=case["mesh_terms"],
            mesh_qualified=case.get("mesh_qualified", []),
        )
    return pd.DataFrame(rows)


def naive(frame: pd.DataFrame, vocabulary: Vocabulary) -> list[dict[str, Any]]:
    """The peer: every pattern, record by record, with Python's ``re``."""
    cues = [(cue, re.compile(cue.pattern, re.I)) for cue in vocabulary.cues()]
    negated, released = (
        re.compile(vocabulary.negation.negated),
        re.compile(vocabulary.negation.released),
    )
    window = vocabulary.negation.reach + max(len(w) for w in vocabulary.negation.words)
    indexed = {**vocabulary.publication_types(), **vocabulary.mesh()}
    induced = vocabulary.chemically_induced()
    doses = [re.compile(p, re.I) for p in tagging._DOSES]
    results = []
    for row in frame.to_dict("records"):
        fields = {"title": row["title"] or "", "abstract": row["abstract"] or ""}
        tags = {indexed[t] for t in (*row["publication_types"], *row["mesh_terms"]) if t in indexed}
        tags |= {induced[t.rstrip("*")] for t in row["mesh_qualified"] if t.rstrip("*") in induced}
        for cue, pattern in cues:
            for name, text in fields.items():
                if cue.title_only and name != "title":
                    continue
                if _affirmed(
                    pattern, text, cue.facet == "adverse_effects", negated, released, window
                ):
                    tags.add((cue.facet, cue.value))
                    break
        size = study_size.sample_size(fields["abstract"]) or study_size.sample_size(fields["title"])
        results.append({"tags": tags, "n": size, "dose": _first(doses, fields)})
    return results


def _affirmed(
    pattern: re.Pattern[str],
    text: str,
    adverse: bool,
    negated: re.Pattern[str],
    released: re.Pattern[str],
    window: int,
) -> bool:
    for match in pattern.finditer(text):
        if not adverse:
            return True
        before = re.split(r"[.;]", text[max(0, match.start() - window) : match.start()])[-1]
        if not negated.search(before) or released.search(before):
            return True
    return False


def _first(patterns: list[re.Pattern[str]], fields: dict[str, str]) -> str:
    for pattern in patterns:
        for text in (fields["abstract"], fields["title"]):
            match = pattern.search(text)
            if match:
                return next(v for k, v in match.groupdict().items() if v and k != "span")
    return ""


def timed(action: Callable[[], object], repeat: int = 1) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        tagging._TABLES.clear()  # cold: the vocabulary's scan tables are rebuilt each time
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def phases(frame: pd.DataFrame) -> list[tuple[str, float]]:
    """evidence()'s steps timed one by one (the same calls it makes, in order)."""
    tagging._TABLES.clear()
    size, out = len(frame), []
    start = time.perf_counter()
    tables = tagging._tables(None)
    fields = tuple(
        tagging._Field(name, np.arange(size), tagging._text_column(frame, name))
        for name in ("title", "abstract")
    )
    mesh, types = (
        tagging._flatten(frame, "mesh_terms"),
        tagging._flatten(frame, "publication_types"),
    )
    findings = [
        *tagging._indexed(types, tables.publication_types, "publication type"),
        *tagging._indexed(mesh, tables.mesh, "MeSH"),
        *tagging._indexed(
            tagging._flatten(frame, "mesh_qualified"), tables.chemically_induced, "MeSH"
        ),
        *tagging._preclinical(mesh, size),
    ]
    out.append(("columns to Arrow, publication types and MeSH", time.perf_counter() - start))
    start = time.perf_counter()
    findings += tagging._text_findings(tables, fields, size)
    out.append(
        (
            "text cues and their context (RE2), sample size (Python), dose",
            time.perf_counter() - start,
        )
    )
    start = time.perf_counter()
    tagging._discount(tables, findings, fields)
    people = tagging._people_counted(findings, size)
    findings += tagging._no_study_reviews(findings, fields, people)
    humans = mesh.having("Humans", size) | people
    tagging._suppress(tables, findings, humans=humans, commentary=np.zeros(size, bool))
    out.append(("unless counts, reviews, cancelling rules", time.perf_counter() - start))
    start = time.perf_counter()
    tagging._effects_second_opinion(tables, findings, fields)
    findings += tagging._count_by_design(tables, findings, fields)
    out.append(
        (
            "learned veto on adverse effects, studies pooled",
            time.perf_counter() - start,
        )
    )
    start = time.perf_counter()
    tagging._frame(tables, frame, findings)
    out.append(("evidence frame (lists, flags, spans)", time.perf_counter() - start))
    return out


def accuracy() -> str:
    """The accuracy table on every labelled set that is present: totals only, never a miss."""
    sys.path.insert(0, str(TESTS))
    from conftest import FIXTURES
    from real_abstracts import screening_dir
    from tagging_accuracy import scored_sets, table

    screening = screening_dir() if (screening_dir() / "MANIFEST.md").is_file() else None
    fixtures = FIXTURES if (FIXTURES / "MANIFEST.md").is_file() else None
    return table(scored_sets(screening, fixtures, tagging.evidence))


def real_records() -> pd.DataFrame | None:
    """Every record of the Cohen 2006 screening datasets with an abstract (read in place from
    ../shared/screening-datasets), as the store holds them; None when the folder is absent.
    Real abstracts are about four times as long as the synthetic ones and state many numbers,
    so they time the text rules and the sample-size reading as a review's records will."""
    sys.path.insert(0, str(TESTS))
    from real_abstracts import screening_dir
    from tagging_accuracy import Labelled, frame

    files = sorted(screening_dir().glob("Cohen_2006_*.csv"))
    if not files:
        return None
    records: list[Labelled] = []
    for path in files:
        table = pd.read_csv(path, keep_default_na=False)
        table = table[table["abstract"].astype(str).str.strip() != ""]
        records += [
            Labelled(f"{path.name}#{n}", str(title), str(abstract), {})
            for n, (title, abstract) in enumerate(
                zip(table["title"], table["abstract"], strict=True)
            )
        ]
    return frame(records)


def real(vocabulary: Vocabulary) -> list[tuple[str, str]]:
    """The tagger and the naive peer on the real abstracts, once each, and the tagger's
    phases there."""
    frame = real_records()
    if frame is None:
        return []
    count = len(frame)
    length = int(frame["abstract"].str.len().mean())
    ours, _ = timed(lambda: tagging.evidence(frame))
    peer, _ = timed(lambda: naive(frame, vocabulary))
    rows = [
        (
            f"real abstracts: {count:,} Cohen 2006 records (mean {length:,} characters), "
            "tracker `evidence()` (1 run)",
            f"**{ours:.2f} s** ({count / ours:,.0f} records/s; 100,000 would take "
            f"{100_000 / count * ours:.0f} s)",
        ),
        ("real abstracts: naive peer (1 run)", f"{peer:.2f} s"),
        ("real abstracts: tracker is × faster", f"{peer / ours:.1f}×"),
    ]
    return rows + [(f"real abstracts, phase: {n}", f"{t:.2f} s") for n, t in phases(frame)]


def run(count: int, repeat: int) -> str:
    start = time.perf_counter()
    frame = records(count)
    built = time.perf_counter() - start
    vocabulary_file._parse.cache_clear()  # cold: read, parse and check every pattern
    vocabulary_file._re2_accepts.cache_clear()
    start = time.perf_counter()
    vocabulary = load_vocabulary(None)
    loaded = time.perf_counter() - start
    ours, tags = timed(lambda: tagging.evidence(frame), repeat)
    peer, found = timed(lambda: naive(frame, vocabulary))
    assert isinstance(tags, pd.DataFrame) and isinstance(found, list)
    tagged = int((tags[list(tagging.FACETS)].map(len).sum(axis=1) > 0).sum())
    rows = [
        ("records built (half synthetic, half hand-written)", f"{count:,} in {built:.1f} s"),
        ("load and check the vocabulary file", f"{loaded * 1000:.0f} ms"),
        (f"tracker `evidence()`, cold (median of {repeat})", f"**{ours:.2f} s**"),
        ("naive peer: Python `re` loop, same vocabulary (1 run)", f"{peer:.2f} s"),
        ("tracker is × faster", f"{peer / ours:.1f}×"),
        ("records with at least one tag", f"{tagged:,}"),
    ]
    rows += [(f"phase: {name}", f"{seconds:.2f} s") for name, seconds in phases(frame)]
    rows += real(vocabulary)
    return "| measure | value |\n|---|---:|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="record it in bench/RESULTS.md")
    parser.add_argument(
        "--speed-only",
        action="store_true",
        help="time the tagger only, without the accuracy table (whose held-out totals a round "
        "of tuning must not read while it tunes)",
    )
    args = parser.parse_args()
    table = run(args.records, args.repeat)
    if args.speed_only:
        print(table)
        return
    day = datetime.now(UTC).date().isoformat()
    text = (
        f"Run on {day}: `python bench/tagging_bench.py --records {args.records} "
        f"--repeat {args.repeat}`\n\nMachine: {machine('pyarrow', 'pandas')}\n\n{table}\n\n"
        "Agreement with the hand labels (issue #17; tests/expected/tagging_real_rules.md says "
        "how the real records were drawn and labelled; precision and coverage as there, counts "
        f"in brackets):\n\n{accuracy()}\n"
    )
    print(text)
    if args.write:
        write_section("Evidence tags", text)


if __name__ == "__main__":
    main()
