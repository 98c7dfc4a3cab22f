"""Whether the process that started a run on this machine is still alive.

A run logs its process id and host when it begins; one without an outcome whose process is
gone was interrupted (killed, crashed, powered off) and changed no record. This is how a store
on one machine tells "running" from "interrupted"; a server backend, which processes on other
machines share, asks the server instead (:mod:`tracker.server_log`).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from typing import Any


def host() -> str:
    """This machine's name, as runs record it."""
    return socket.gethostname()


def running_here(unfinished: Sequence[Mapping[str, Any]]) -> set[int]:
    """The ids of the runs whose process, on this machine, is alive."""
    return {int(row["id"]) for row in unfinished if row["host"] == host() and alive(row["pid"])}


def alive(pid: int | None) -> bool:
    """Whether a process with this id exists (one of another user's counts too)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
