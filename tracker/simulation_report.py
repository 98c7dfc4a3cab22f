"""The files a simulation leaves: per seed a recall curve (CSV) and its plot (HTML with an
inline SVG, readable offline), and ``summary.json`` for scripts.

Every file is a pure function of the runs, written atomically, with no time stamp in it: the
same dataset and seeds give the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from html import escape
from pathlib import Path

import numpy as np

from tracker.export import save
from tracker.labelled_dataset import LabelledDataset
from tracker.simulation import SimulationRun

CURVE_COLUMNS = ("screened", "record", "label", "relevant_found", "recall")


def summary(dataset: LabelledDataset, runs: Sequence[SimulationRun]) -> dict[str, object]:
    """``{"dataset", "records", "relevant", "runs": [...]}`` as summary.json holds it."""
    return {
        "dataset": dataset.name,
        "records": len(dataset.labels),
        "relevant": dataset.relevant,
        "runs": [run.summary() for run in runs],
    }


def write(directory: Path, dataset: LabelledDataset, runs: Sequence[SimulationRun]) -> list[Path]:
    """Write every file into ``directory`` (created if needed); returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for run in runs:
        for name, data in (
            (f"recall-seed{run.seed}.csv", curve_csv(dataset, run)),
            (f"recall-seed{run.seed}.html", curve_html(dataset, run)),
        ):
            save(data, directory / name)
            written.append(directory / name)
    text = json.dumps(summary(dataset, runs), indent=2, ensure_ascii=False) + "\n"
    save(text.encode("utf-8"), directory / "summary.json")
    return [*written, directory / "summary.json"]


def curve_csv(dataset: LabelledDataset, run: SimulationRun) -> bytes:
    """One row per record in screening order, with the recall reached after it."""
    found = np.cumsum(run.labels)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CURVE_COLUMNS)
    for position, (row, label, hits) in enumerate(zip(run.order, run.labels, found, strict=True)):
        recall = f"{hits / dataset.relevant:.6f}"
        writer.writerow([position + 1, dataset.ids[int(row)], int(label), int(hits), recall])
    return buffer.getvalue().encode("utf-8")


def curve_html(dataset: LabelledDataset, run: SimulationRun, *, width: int = 640) -> bytes:
    """Recall against share screened, with random screening's diagonal and the stop point."""
    height, pad = 400, 40
    total = len(run.labels)
    recall = np.concatenate([[0.0], np.cumsum(run.labels) / dataset.relevant])
    step = max(1, total // 1000)  # at most about a thousand points
    xs = [*np.arange(0, total + 1)[::step].tolist(), total]
    across, up = (width - 2 * pad) / total, height - 2 * pad
    points = " ".join(f"{pad + across * x:.1f},{height - pad - up * recall[x]:.1f}" for x in xs)
    marks = ""
    if run.stopped_at is not None:
        x = pad + (width - 2 * pad) * run.stopped_at / total
        marks = (
            f'<line x1="{x:.1f}" y1="{pad}" x2="{x:.1f}" y2="{height - pad}" '
            'stroke="#c0392b" stroke-dasharray="4"/>'
            f'<text x="{x + 4:.1f}" y="{pad + 12}" font-size="11">stopping rule</text>'
        )
    title = escape(f"{dataset.name}, seed {run.seed}: WSS@95 {run.wss95:.3f}")
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<rect x="{pad}" y="{pad}" width="{width - 2 * pad}" height="{height - 2 * pad}" '
        'fill="none" stroke="#999"/>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{pad}" stroke="#bbb"/>'
        f'<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{points}"/>{marks}'
        f'<text x="{width / 2}" y="{height - 8}" text-anchor="middle" font-size="12">'
        f"records screened (of {total:,})</text>"
        f'<text x="12" y="{height / 2}" font-size="12" transform="rotate(-90 12 {height / 2})" '
        'text-anchor="middle">recall</text></svg>'
    )
    page = (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><h3>{title}</h3>\n{svg}\n</body></html>\n"
    )
    return page.encode("utf-8")
