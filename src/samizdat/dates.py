"""Build timestamps that honour ``SOURCE_DATE_EPOCH`` for reproducible builds."""

from __future__ import annotations

import datetime as dt
import os


def build_time() -> dt.datetime:
    """``SOURCE_DATE_EPOCH`` when set (reproducible builds), else now; UTC, whole seconds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
    return moment.replace(microsecond=0)


def iso_utc(moment: dt.datetime) -> str:
    """``CCYY-MM-DDThh:mm:ssZ``, the form EPUB's ``dcterms:modified`` requires."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
