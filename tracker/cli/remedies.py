"""How the command line words the library's errors: the remedies in terms of flags and commands.

The library's messages are neutral (see :mod:`tracker.errors`); an error that a flag or a
command fixes is reworded here, in one table, so the library never names a flag and the app can
word the same error with its own widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracker import errors

Wording = Callable[[Any], str]

_WORDINGS: dict[type[errors.TrackerError], Wording] = {
    errors.EmailRequired: lambda e: (
        f"{e.service} asks for a contact email with every request: "
        "pass --email you@example.org or set NCBI_EMAIL."
    ),
    errors.QueryRequired: lambda e: (
        "The query is empty: pass --query TEXT, or leave it out for the default."
    ),
    errors.BatchSizeInvalid: lambda e: (
        f"--batch-size must be between {e.low:,} and {e.high:,}, not {e.value}."
    ),
    errors.DataDirUnusable: lambda e: (
        f"Cannot {e.doing} the data directory {e.path}: {e.problem}. Nothing was changed. "
        "Pass --data-dir (or set TRACKER_DATA_DIR) to a folder you can write to."
    ),
    errors.MetricsDamaged: lambda e: f"{e} Run `tracker enrich` to rebuild it.",
    errors.WholeRebuildRequired: lambda e: (
        f"{e.where} is damaged, so these PMIDs' metrics cannot be merged into it. Nothing was"
        " changed. Run `tracker enrich` without --pmid to rebuild the whole file."
    ),
    errors.ReviewerRequired: lambda e: (
        "Who is screening? Pass --reviewer NAME (your initials will do)."
    ),
    errors.ReasonRequired: lambda e: (
        "Say why it is excluded: pass --reason, one of: " + "; ".join(e.reasons)
    ),
    errors.UnknownReason: lambda e: (
        f"Unknown exclusion reason {e.reason!r}: use one of: {'; '.join(e.reasons)} "
        "(or add one with `tracker reasons add`)."
    ),
    errors.ReasonNotAllowed: lambda e: "An exclusion reason goes with --decision exclude only.",
    errors.NoteRequired: lambda e: (
        f"The reason {e.reason!r} needs a note saying what it is: pass --note."
    ),
    errors.TagRequired: lambda e: "Give exactly one of --add TAG or --remove TAG, with a tag name.",
    errors.NotAMember: lambda e: (
        f"{e.account} is not on this review's team: `tracker members add {e.account}` adds it"
        " (or pass --reviewer with a member's address)."
    ),
    errors.RoleRequired: lambda e: (
        f"Only a {e.role} of the review may do this, and {e.account} is not one: "
        f"`tracker members add {e.account} --role {e.role}` makes it one."
    ),
    errors.AccountInvalid: lambda e: (
        f"{e.text!r} is not an email address: give the address the person signs in with."
    ),
    errors.LastLead: lambda e: (
        f"That change to {e.account} would leave the team without a lead: first make another"
        " member one with `tracker members add EMAIL --role lead` (the first member added must"
        " be a lead)."
    ),
    errors.DestinationUnwritable: lambda e: (
        f"Cannot write {e.path}: {e.problem}. Choose another --out path."
    ),
}


def worded(exc: errors.TrackerError) -> str:
    """The message a command-line user reads: the CLI's wording when it has one, else the
    library's own (which names no widget or flag and so reads well here too)."""
    for kind in type(exc).__mro__:
        wording = _WORDINGS.get(kind)
        if wording is not None:
            return wording(exc)
    return str(exc)
