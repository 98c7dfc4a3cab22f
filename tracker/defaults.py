"""Every default number tracker works with, declared once, each with the reason for its value.

Modules import their numbers from here rather than declaring their own (as httpx keeps its
defaults in ``httpx/_config.py``), so a rate, a timeout or a batch size is changed in one place
and read the same everywhere. This module imports nothing, so anything may import it.
"""

from __future__ import annotations

# -- NCBI E-utilities ----------------------------------------------------------------------

NCBI_RATE_PER_S = 3.0
"""NCBI's limit without an API key, counted across the whole process."""
NCBI_RATE_WITH_KEY_PER_S = 10.0
"""NCBI's limit with an API key."""
NCBI_TIMEOUT_S = 60.0
"""Per request: efetch of 500 full records takes tens of seconds when NCBI is busy."""
EFETCH_BATCH_SIZE = 500
"""Records per efetch: NCBI suggests batches of about 500, POSTed."""
EFETCH_BATCH_MAX = 10_000
"""The most records NCBI returns for one efetch (its ``retmax`` ceiling)."""
ESEARCH_CAP = 9_999
"""The most ids esearch lists for one query (``retstart`` ≤ 9,998), history server included."""

# -- NIH iCite -----------------------------------------------------------------------------

ICITE_BATCH_SIZE = 200
"""PMIDs per request: iCite documents 1,000 but its support page asks for 200."""
ICITE_RATE_PER_S = 3.0
"""iCite publishes no limit: NCBI's keyless rate is a polite guess for a sister service."""
ICITE_TIMEOUT_S = 30.0
"""Per request: an answer for 200 PMIDs is small, so a stuck one is better retried."""

# -- every outside service: pacing and retrying ----------------------------------------------

PACING_MARGIN = 1.2
"""Requests go a little slower than the limit: servers count arrivals, and networks bunch
requests (Biopython waits 0.37 s between requests rather than 1/3 s for the same reason). At
1.1, four requests spanned 1.1 s and one arriving 0.1 s late drew a 429 from the fake NCBI on
a loaded machine; 1.2 leaves 0.2 s of bunching, for 9 % more time per fetch."""
MAX_TRIES = 6
"""Attempts per request: back-off up to 1+2+4+8+16 s rides out a minute of trouble."""
BASE_DELAY_S = 1.0
"""The first back-off's ceiling; each later try doubles it (full jitter picks below it)."""
MAX_DELAY_S = 30.0
"""The most one back-off waits, however many tries went before."""
RETRY_AFTER_CAP_S = 300.0
"""The most a server's Retry-After can make us wait: a "Retry-After: 3600" (or a date an hour
away) would otherwise hold a run for an hour per try, with no progress shown."""

# -- the store -------------------------------------------------------------------------------

LOCK_WAIT_S = 60.0
"""How long a writer waits for the store's lock: longer than any one write, short enough that
a stuck process is reported rather than waited on."""
