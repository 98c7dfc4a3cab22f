"""Settings: the only place that reads environment variables.

Everything else receives a :class:`Settings` (or plain arguments), so tests and notebooks can
build one by hand and importing any module has no side effects.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from tracker.defaults import NCBI_RATE_PER_S, NCBI_RATE_WITH_KEY_PER_S
from tracker.errors import EmailRequired

NCBI_EUTILS_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
ICITE_URL = "https://icite.od.nih.gov/api/"
CTGOV_URL = "https://clinicaltrials.gov/api/v2/"


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the store lives and how to reach NCBI, NIH iCite and ClinicalTrials.gov.

    ``database_url`` (a PostgreSQL URL) puts the store on a database server instead of the
    data folder. ``api_key`` and ``database_url`` (which may hold a password) are kept out of
    ``repr`` so they never land in a log or a traceback.
    """

    data_dir: Path = Path("data")
    email: str = ""
    api_key: str = field(default="", repr=False)
    eutils_url: str = NCBI_EUTILS_URL
    icite_url: str = ICITE_URL
    reviewer: str = ""
    ctgov_url: str = CTGOV_URL
    database_url: str = field(default="", repr=False)  # may carry a password
    live_seconds: float = 3.0
    """How often an open page looks for others' decisions; 0 turns the live panels off."""

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: str | Path | None
    ) -> Settings:
        """Read TRACKER_DATA_DIR, NCBI_EMAIL, NCBI_API_KEY, TRACKER_EUTILS_URL, TRACKER_ICITE_URL,
        TRACKER_REVIEWER, TRACKER_CTGOV_URL, TRACKER_DATABASE_URL and TRACKER_LIVE_SECONDS.

        Keyword overrides (from CLI flags or app widgets) win over the environment when given
        and not ``None``.
        """
        env = os.environ if environ is None else environ
        settings = cls(
            data_dir=Path(env.get("TRACKER_DATA_DIR") or "data"),
            email=env.get("NCBI_EMAIL", "").strip(),
            api_key=env.get("NCBI_API_KEY", "").strip(),
            eutils_url=env.get("TRACKER_EUTILS_URL") or NCBI_EUTILS_URL,
            icite_url=env.get("TRACKER_ICITE_URL") or ICITE_URL,
            reviewer=env.get("TRACKER_REVIEWER", "").strip(),
            ctgov_url=env.get("TRACKER_CTGOV_URL") or CTGOV_URL,
            database_url=env.get("TRACKER_DATABASE_URL", "").strip(),
            live_seconds=_seconds(env.get("TRACKER_LIVE_SECONDS"), default=3.0),
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        if "data_dir" in given:
            given["data_dir"] = Path(given["data_dir"])
        for name in ("email", "api_key", "database_url"):
            if name in given:
                given[name] = str(given[name]).strip()
        return replace(settings, **given)  # type: ignore[arg-type]

    @property
    def rate_limit(self) -> float:
        """Requests per second NCBI allows: 10 with an API key, 3 without."""
        return NCBI_RATE_WITH_KEY_PER_S if self.api_key else NCBI_RATE_PER_S

    def require_email(self) -> str:
        """The contact email NCBI asks for, or :class:`EmailRequired`."""
        if "@" not in self.email:
            raise EmailRequired("NCBI")
        return self.email


def _seconds(text: str | None, *, default: float) -> float:
    """A number of seconds from the environment: the default when unset or not a number >= 0."""
    try:
        value = float(text) if text is not None and text.strip() else default
    except ValueError:
        return default
    return value if value >= 0 else default
