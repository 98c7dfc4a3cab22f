"""The curated API in tracker/__init__.py is what the app and notebooks rely on."""

from __future__ import annotations

import ast
from pathlib import Path

import tracker

ROOT = Path(__file__).resolve().parents[1]


def test_every_exported_name_exists_and_is_listed_once() -> None:
    assert len(tracker.__all__) == len(set(tracker.__all__))
    for name in tracker.__all__:
        assert hasattr(tracker, name), name


PUBLIC_MODULES = {
    "citations",
    "claims",
    "dashboard",
    "duplicates",
    "evidence_map",
    "fetch",
    "prisma",
    "ranking",
    "screening",
    "screening_progress",
    "simulation",
    "search_log",
    "stopping",
    "suggestions",
    "tagging",
    "team",
}


def test_every_public_name_of_the_package_is_exported() -> None:
    public = {name for name in vars(tracker) if not name.startswith("_")}
    modules = {name for name, value in vars(tracker).items() if type(value).__name__ == "module"}
    assert (public - modules) | PUBLIC_MODULES == set(tracker.__all__) - {"__version__"}


def test_the_public_modules_are_the_domain_modules_the_app_uses() -> None:
    assert len(PUBLIC_MODULES) == 16
    for name in PUBLIC_MODULES:
        assert type(getattr(tracker, name)).__name__ == "module"


APP_MODULES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")),
               *sorted((ROOT / "views").rglob("*.py"))]  # fmt: skip


def test_the_app_imports_only_the_public_api() -> None:
    """app.py, pages/ and views/ talk to ``tracker`` only, which keeps that API honest."""
    assert len(APP_MODULES) > 10, "the views package is where the guard looks"
    offenders = []
    for path in APP_MODULES:
        name = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tracker."):
                offenders.append(f"{name}: from {node.module}")
            if isinstance(node, ast.Import):
                offenders += [f"{name}: import {a.name}" for a in node.names
                              if a.name.startswith("tracker.")]  # fmt: skip
    assert offenders == []


def test_the_library_never_imports_streamlit_or_click_outside_the_cli() -> None:
    offenders = []
    for path in sorted((ROOT / "tracker").rglob("*.py")):
        in_cli = "cli" in path.relative_to(ROOT / "tracker").parts
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                root = name.split(".")[0]
                if root == "streamlit" or (root == "click" and not in_cli):
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_only_the_entrez_seam_imports_bio_entrez() -> None:
    offenders = []
    for path in sorted((ROOT / "tracker").rglob("*.py")):
        if path.name == "entrez.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and _names_entrez(node):
                offenders.append(str(path.relative_to(ROOT)))
            if isinstance(node, ast.Import) and any(
                a.name.startswith("Bio.Entrez") for a in node.names
            ):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def _names_entrez(node: ast.ImportFrom) -> bool:
    """``from Bio.Entrez import …`` or ``from Bio import Entrez`` (Bio.Medline is no seam)."""
    module = node.module or ""
    return module.startswith("Bio.Entrez") or (
        module == "Bio" and any(a.name == "Entrez" for a in node.names)
    )


def test_the_entrez_guard_tells_entrez_from_other_biopython_modules() -> None:
    entrez = [
        ast.parse(t).body[0] for t in ("from Bio import Entrez", "from Bio.Entrez import read")
    ]
    medline = ast.parse("from Bio import Medline").body[0]
    assert all(isinstance(n, ast.ImportFrom) and _names_entrez(n) for n in entrez)
    assert isinstance(medline, ast.ImportFrom) and not _names_entrez(medline)
