"""Build timestamps that honour ``SOURCE_DATE_EPOCH`` for reproducible builds."""

from __future__ import annotations

import datetime as dt
import os

from .errors import BadSetting


LAST_EPOCH = 253_402_300_799  # 9999-12-31T23:59:59Z: the last moment a PDF or EPUB date can name


def build_time() -> dt.datetime:
    """``SOURCE_DATE_EPOCH`` when set (reproducible builds: seconds since 1970, as reproducible-builds.org
    defines it), else now; UTC, whole seconds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    if not (epoch.isascii() and epoch.isdigit() and len(epoch) <= len(str(LAST_EPOCH)) and int(epoch) <= LAST_EPOCH):
        raise BadSetting(f"error: SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, such as 1764000000, not {epoch!r}")
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC)


def iso_utc(moment: dt.datetime) -> str:
    """``CCYY-MM-DDThh:mm:ssZ``, the form EPUB's ``dcterms:modified`` requires."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
