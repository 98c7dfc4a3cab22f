"""The servers the browser tests start, each on a free port and stopped at the end: the app
under ``streamlit run``, and a local OpenID Connect provider (oidc-provider-mock) to sign in
with."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running(command: Sequence[str], *, ready: str, env: Mapping[str, str], cwd: Path,
            what: str) -> Iterator[subprocess.Popen[bytes]]:  # fmt: skip
    """Start ``command``, wait (up to a minute) until ``ready`` answers 200, stop it after.
    Its output goes to a file, not a pipe nobody reads, which would stall a chatty server."""
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(list(command), env={**os.environ, **env}, cwd=cwd, stdout=log,
                                  stderr=subprocess.STDOUT)  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(ready, timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            server.kill()
            server.wait(timeout=20)
            log.seek(0)
            pytest.fail(f"{what} did not start: {log.read().decode(errors='replace')[-2000:]}")
        try:
            yield server
        finally:
            server.terminate()
            server.wait(timeout=20)


@contextmanager
def streamlit_app(env: Mapping[str, str], *, cwd: Path = ROOT, port: int = 0) -> Iterator[str]:
    """``streamlit run app.py`` headless; yields its address. Streamlit reads
    ``.streamlit/secrets.toml`` from ``cwd``, so a test's own folder can turn sign-in on."""
    port = port or free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
               "--server.headless", "true", "--server.port", str(port),
               "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with running(command, ready=f"{url}/_stcore/health", env=env, cwd=cwd, what="streamlit"):
        yield url


@contextmanager
def identity_provider(tmp: Path) -> Iterator[str]:
    """oidc-provider-mock on a free port; yields its issuer address. Any client id and secret
    are accepted, and whoever is typed on its sign-in page is signed in, with that text as
    their email."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)]
    with running(command, ready=f"{url}/.well-known/openid-configuration", env={}, cwd=tmp,
                 what="oidc-provider-mock"):  # fmt: skip
        yield url


def auth_secrets(folder: Path, *, app_port: int, issuer: str) -> Path:
    """``folder/.streamlit/secrets.toml`` with the ``[auth]`` section that signs in through
    ``issuer``, beside the project's own ``config.toml`` (so the app runs as deployed);
    returns ``folder``, the working directory to start the app from."""
    secrets = folder / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / ".streamlit" / "config.toml", secrets.parent / "config.toml")
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"\n'
        'cookie_secret = "a cookie secret for the sign-in test only"\n'
        'client_id = "tracker"\n'
        'client_secret = "tracker-secret"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    return folder
