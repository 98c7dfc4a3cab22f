"""What every benchmark shares: the machine's description and its section of RESULTS.md."""

from __future__ import annotations

import os
import platform
import re
from importlib.metadata import version
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine(*packages: str) -> str:
    """CPU model, core count, Python and the given packages' versions."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    libs = ", ".join(f"{p} {version(p)}" for p in packages)
    return f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}" + (
        f"; {libs}" if libs else ""
    )


def write_section(title: str, text: str) -> None:
    """Replace (or add) the ``## title`` section of RESULTS.md, leaving the others alone."""
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
    section = f"## {title}\n\n{text.strip()}\n"
    pattern = re.compile(rf"## {re.escape(title)}\n.*?(?=\n## |\Z)", flags=re.S)
    if pattern.search(current):
        current = pattern.sub(lambda _: section.rstrip("\n") + "\n", current)
    else:
        current = current.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(current, encoding="utf-8")
