"""The installed version of tracker, recorded with every run."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ketamine-review-tracker")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
