"""Write a data folder the way the tracker did before records had their own key (issue 15).

Run once, at commit 54bcba1 (PMID-keyed records), with ``python
tests/stores/write_pre_migration_store.py``; its output, ``tests/stores/pmid-keyed/``, is
committed: ``data/`` is the store as that version wrote it, ``exports/`` what that version
exported from it. ``tests/test_migration.py`` opens a copy with today's code and compares. The
records are the fake E-utilities corpus (made up, no real abstract), fetched from the fake
server and imported from a file, then screened, tagged, annotated, undone, resolved and de-
duplicated, so every kind of event is in the log.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import fake_eutils  # noqa: E402

from tracker import Store, duplicates, screening  # noqa: E402
from tracker.importer import import_files  # noqa: E402

OUT = HERE / "pmid-keyed"
TRACKER = str(Path(sys.executable).with_name("tracker"))


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    data, exports = OUT / "data", OUT / "exports"
    exports.mkdir(parents=True)
    server = fake_eutils.start(records=10, seed=15)
    env = {**os.environ, "TRACKER_EUTILS_URL": server.base_url, "TRACKER_DATA_DIR": str(data),
           "NCBI_EMAIL": "review@example.org"}  # fmt: skip
    env.pop("NCBI_API_KEY", None)
    subprocess.run([TRACKER, "fetch", "--query", "esketamine AND chronic pain"], env=env,
                   check=True)  # fmt: skip
    server.shutdown()
    extra = fake_eutils.build_corpus(4, seed=16)
    xml = OUT / "import.xml"
    xml.write_text("<PubmedArticleSet>" + "".join(map(fake_eutils.article_xml, extra.values()))
                   + "</PubmedArticleSet>", encoding="utf-8")  # fmt: skip
    store = Store(data)
    import_files(store, [xml])
    xml.unlink()
    pmids = sorted(store.known_pmids())
    screening.decide(store, pmids[:4], decision="include", reviewer="ana")
    screening.decide(store, pmids[4:6], decision="exclude", reviewer="ana",
                     reason="wrong population")  # fmt: skip
    screening.decide(store, pmids[6:7], decision="maybe", reviewer="ana", note="dose unclear")
    screening.decide(
        store, pmids[:2], decision="exclude", reviewer="ben", reason="wrong study design"
    )
    screening.decide(store, pmids[2:4], decision="include", reviewer="ben")
    screening.resolve(store, pmids[0], decision="include", reviewer="lead", stage="title-abstract",
                      note="RCT after all")  # fmt: skip
    screening.decide(store, pmids[2:3], decision="include", reviewer="ana", stage="full-text")
    screening.tag(store, pmids[:3], add="intranasal", reviewer="ana")
    screening.tag(store, pmids[1:2], add="crossover", reviewer="ben")
    screening.note(store, pmids[3], "ask the authors for the pain scores", reviewer="ana")
    screening.tag(store, pmids[5:6], add="mistake", reviewer="ana")
    screening.undo(store, reviewer="ana")
    duplicates.confirm(store, pmids[9], duplicate_of=pmids[8], reviewer="ana")
    for fmt in ("csv", "ris", "bibtex"):
        subprocess.run([TRACKER, "export", "--format", fmt, "--out", exports / f"all.{fmt}"],
                       env=env, check=True)  # fmt: skip
    subprocess.run([TRACKER, "prisma", "--format", "json"], env=env, check=True,
                   stdout=(exports / "prisma.json").open("wb"))  # fmt: skip
    subprocess.run([TRACKER, "runs", "--format", "csv", "--out", exports / "search_log.csv"],
                   env=env, check=True)  # fmt: skip
    for leftover in data.glob("*.lock"):
        leftover.unlink()


if __name__ == "__main__":
    main()
