"""The data of bench/matching_bench.py: real records written as two vendors' exports.

Base records: the distinct PMIDs of the eight Cohen_2006 sets, with their real titles, authors
(``"E J Reimer; G S Dunn"``) and years. Those files carry no journal, pages or DOI, so each
paper is given *stand-ins* derived from its PMID: a journal from a list of 20 real journals
(full name and ISO abbreviation), a page range, and a DOI under Crossref's test prefix
10.5555. Both exports of one paper carry the same stand-ins, as two databases indexing one
article would; two different papers get independent ones, which is the benchmark's main
simplification (real same-title papers share a journal more often than chance).
"""

from __future__ import annotations

import random
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tracker.matching import TABLE_COLUMNS

JOURNALS = [
    ("Anesthesia and Analgesia", "Anesth Analg"),
    ("British Journal of Anaesthesia", "Br J Anaesth"),
    ("Pain", "Pain"), ("Pain Medicine", "Pain Med"), ("European Journal of Pain", "Eur J Pain"),
    ("Journal of Pain Research", "J Pain Res"), ("The Clinical Journal of Pain", "Clin J Pain"),
    ("American Journal of Cardiology", "Am J Cardiol"), ("Journal of Hypertension", "J Hypertens"),
    ("New England Journal of Medicine", "N Engl J Med"), ("The Lancet", "Lancet"),
    ("Journal of Clinical Psychiatry", "J Clin Psychiatry"), ("Circulation", "Circulation"),
    ("American Journal of Psychiatry", "Am J Psychiatry"), ("Hypertension", "Hypertension"),
    ("Alimentary Pharmacology and Therapeutics", "Aliment Pharmacol Ther"),
    ("American Journal of Gastroenterology", "Am J Gastroenterol"), ("Menopause", "Menopause"),
    ("Journal of Allergy and Clinical Immunology", "J Allergy Clin Immunol"),
    ("Journal of Clinical Endocrinology and Metabolism", "J Clin Endocrinol Metab"),
]  # fmt: skip
BRITISH = [("randomized", "randomised"), ("analyze", "analyse"), ("tumor", "tumour"),
           ("pediatric", "paediatric"), ("anesthesia", "anaesthesia"), ("hemorrhage",
           "haemorrhage"), ("esophag", "oesophag")]  # fmt: skip


@dataclass(frozen=True)
class Paper:
    pmid: int
    title: str
    authors: tuple[tuple[str, str], ...]  # (family, initials)
    year: int
    journal: tuple[str, str]
    pages: tuple[int, int]
    doi: str


def cohen_papers(datasets: Path) -> list[Paper]:
    """One Paper per distinct PMID with a title and a year, in PMID order."""
    frames = [pd.read_csv(p) for p in sorted(datasets.glob("Cohen_2006_*.csv"))]
    rows = pd.concat(frames).drop_duplicates("pubmedID").dropna(subset=["title", "year"])
    papers = []
    for pmid, title, authors, year in zip(rows["pubmedID"], rows["title"], rows["authors"],
                                          rows["year"], strict=True):  # fmt: skip
        pmid = int(pmid)
        first = pmid % 1900 + 1
        papers.append(Paper(pmid, str(title).strip(), _authors(authors), int(year),
                            JOURNALS[pmid % len(JOURNALS)], (first, first + 4 + pmid % 9),
                            f"10.5555/cohen.{pmid}"))  # fmt: skip
    return sorted(papers, key=lambda p: p.pmid)


def _authors(text: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(text, str):
        return ()
    names = []
    for name in text.split(";"):
        words = name.split()
        if words:
            names.append((words[-1], "".join(w[0] for w in words[:-1])))
    return tuple(names)


def synthetic_exports(papers: list[Paper], folder: Path, rng: random.Random
                      ) -> tuple[Path, Path, set[frozenset[str]], str]:  # fmt: skip
    """A MEDLINE file of every paper and an Embase RIS file of every paper, perturbed, plus
    hard negatives: the files, the true pairs (by ``file:line``) and what negatives were added.

    RIS perturbations, each drawn independently per paper: the DOI dropped (30 %); the title
    in Title Case (25 %) or capitals (10 %); a leading "The" dropped, and the final full stop;
    British spelling (50 % of titles with a word to respell); the subtitle cut (5 % of titles
    with one); the journal as its abbreviation (50 %) or in capitals (20 %); the year one later
    (5 %, print after e-publication); the first author missing (3 %); authors as "Family,
    I.N."; page ranges written whole ("1301-1310" against MEDLINE's "1301-10"). Hard negatives
    (not duplicates of anything): a conference abstract of 3 % of papers (same title, first
    author, year and journal; supplement pages; no DOI), an erratum of 1 % ("Erratum: …",
    the next year) and a reply letter to 1 % ("Re: …", another first author).
    """
    medline, ris = folder / "pubmed.nbib", folder / "embase.ris"
    med_lines: list[str] = []
    ris_lines: list[str] = []
    truth: set[frozenset[str]] = set()
    negatives = {"conference abstracts": 0, "errata": 0, "replies": 0}
    for paper in papers:
        med_at, ris_at = len(med_lines) + 1, len(ris_lines) + 1
        med_lines += _medline(paper)
        first, last = paper.pages
        ris_lines += _ris(_perturbed(paper, rng), paper.pmid, pages=f"{first}", end=f"{last}")
        truth.add(frozenset((f"{medline.name}:{med_at}", f"{ris.name}:{ris_at}")))
        ris_lines += _negatives(paper, rng, negatives)
    medline.write_text("\n".join(med_lines) + "\n", encoding="utf-8")
    ris.write_text("\n".join(ris_lines) + "\n", encoding="utf-8")
    counts = ", ".join(f"{n:,} {kind}" for kind, n in negatives.items())
    return medline, ris, truth, counts


def _medline(paper: Paper) -> list[str]:
    first, last = paper.pages
    lines = [f"PMID- {paper.pmid}", f"DP  - {paper.year}"]
    first_line, *more = textwrap.wrap(paper.title, 72) or [""]  # MEDLINE wraps between words
    lines += [f"TI  - {first_line}", *(f"      {line}" for line in more)]
    lines += [f"PG  - {first}-{_abbreviated(first, last)}", f"LID - {paper.doi} [doi]"]
    for family, initials in paper.authors:
        lines += [f"FAU - {family}, {initials}", f"AU  - {family} {initials}"]
    full, abbrev = paper.journal
    lines += [f"JT  - {full}", f"TA  - {abbrev}", f"SO  - {abbrev}. {paper.year};{first}.", ""]
    return lines


def _abbreviated(first: int, last: int) -> str:
    """MEDLINE's last page: the digits that differ from the first page ("1301-10")."""
    a, b = str(first), str(last)
    if len(a) != len(b):
        return b
    same = next((i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y), len(b) - 1)
    return b[same:]


@dataclass(frozen=True)
class _Shown:
    title: str
    authors: tuple[tuple[str, str], ...]
    year: int
    journal: str
    doi: str


def _perturbed(paper: Paper, rng: random.Random) -> _Shown:
    title = re.sub(r"^(The|A|An) ", "", paper.title).rstrip(".")
    respell = [pair for pair in BRITISH if pair[0] in title.lower()]
    if respell and rng.random() < 0.5:
        title = re.sub(respell[0][0], respell[0][1], title, flags=re.IGNORECASE)
    if ":" in title and rng.random() < 0.05:
        title = title.split(":")[0]
    draw = rng.random()
    title = title.title() if draw < 0.25 else title.upper() if draw < 0.35 else title
    full, abbrev = paper.journal
    draw = rng.random()
    journal = abbrev if draw < 0.5 else full.upper() if draw < 0.7 else full
    authors = paper.authors[1:] if rng.random() < 0.03 else paper.authors
    year = paper.year + (rng.random() < 0.05)
    doi = "" if rng.random() < 0.3 else paper.doi
    return _Shown(title, authors, year, journal, doi)


def _ris(shown: _Shown, accession: int, pages: str = "", end: str = "") -> list[str]:
    lines = ["TY  - JOUR", "DB  - Embase", f"AN  - {2_000_000_000 + accession}",
             f"T1  - {shown.title}"]  # fmt: skip
    lines += [f"A1  - {family}, {'.'.join(initials)}." for family, initials in shown.authors]
    lines += [f"Y1  - {shown.year}//", f"JF  - {shown.journal}"]
    lines += [f"SP  - {pages}"] if pages else []
    lines += [f"EP  - {end}"] if end else []
    lines += [f"DO  - {shown.doi}"] if shown.doi else []
    return [*lines, "ER  - ", ""]


def _negatives(paper: Paper, rng: random.Random, counts: dict[str, int]) -> list[str]:
    full = paper.journal[0]
    title = paper.title.rstrip(".")
    draw = rng.random()
    if draw < 0.03:
        counts["conference abstracts"] += 1
        shown = _Shown(title, paper.authors[:1], paper.year, full, "")
        return _ris(shown, paper.pmid + 500_000_000, pages=f"S{paper.pmid % 400 + 1}")
    if draw < 0.04:
        counts["errata"] += 1
        shown = _Shown(f"Erratum: {title}", (), paper.year + 1, full, "")
        return _ris(shown, paper.pmid + 600_000_000, pages=str(paper.pmid % 900 + 1))
    if draw < 0.05:
        counts["replies"] += 1
        shown = _Shown(f"Re: {title}", (("Letterman", "Q"),), paper.year, full, "")
        return _ris(shown, paper.pmid + 700_000_000, pages=str(paper.pmid % 700 + 1))
    return []


def large_table(papers: list[Paper], count: int, rng: random.Random
                ) -> tuple[pd.DataFrame, set[frozenset[str]]]:  # fmt: skip
    """``count`` records in the matcher's table: 70 % distinct papers made from the real ones
    (two or three title words swapped for others from the real titles, another real first
    author, year, journal and pages), the other 30 % second copies of some, perturbed as in
    :func:`synthetic_exports`. Returns the table and its true pairs."""
    vocabulary = sorted({w for p in papers for w in p.title.split() if len(w) > 3})
    families = sorted({a[0] for p in papers for a in p.authors[:1]})
    distinct = int(count * 0.7)
    rows: list[tuple[object, ...]] = []
    made: list[Paper] = []
    for number in range(distinct):
        base = papers[number % len(papers)]
        words = base.title.split()
        for _ in range(2 + number % 2):
            words[rng.randrange(len(words))] = rng.choice(vocabulary)
        pmid = 40_000_000 + number
        first = rng.randrange(1, 2000)
        paper = Paper(pmid, " ".join(words), ((rng.choice(families), "A"),),
                      rng.randrange(1990, 2026), rng.choice(JOURNALS), (first, first + 7),
                      f"10.5555/large.{number}" if rng.random() < 0.6 else "")  # fmt: skip
        made.append(paper)
        rows.append(
            _row(
                f"p{number}",
                paper.title,
                paper.authors,
                paper.year,
                paper.journal[0],
                paper.pages,
                paper.doi,
                pmid if number % 2 else None,
            )
        )
    truth = set()
    for copy in range(count - distinct):  # fewer copies than papers: paper ``copy`` is copied
        shown = _perturbed(made[copy], rng)
        rows.append(
            _row(
                f"c{copy}",
                shown.title,
                shown.authors,
                shown.year,
                shown.journal,
                made[copy].pages,
                shown.doi,
                None,
            )
        )
        truth.add(frozenset((f"p{copy}", f"c{copy}")))
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    return table.astype({"year": "Int64", "pmid": "Int64"}), truth


def _row(key: str, title: str, authors: tuple[tuple[str, str], ...], year: int, journal: str,
         pages: tuple[int, int], doi: str, pmid: int | None) -> tuple[object, ...]:  # fmt: skip
    return (
        key,
        title,
        year,
        authors[0][0] if authors else "",
        journal,
        "",
        f"{pages[0]}-{pages[1]}",
        doi,
        pmid,
        "",
        "article",
        (),
    )
