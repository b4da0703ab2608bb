"""The widget stays small: what a host page downloads for it, gzipped (docs/benchmarks.md)."""

from __future__ import annotations

import gzip
import re

from tests.support.server import ROOT

DIST = ROOT / "web" / "dist"
BUDGET_BYTES = 60 * 1024


def widget_files() -> list[str]:
    """/widget.js, the frame page and every script and stylesheet the frame page loads."""
    page = (DIST / "widget.html").read_text()
    linked = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page)
    return ["/widget.js", "/widget.html", *linked]


def test_widget_is_under_60_kb_gzipped() -> None:
    assert (DIST / "widget.js").is_file(), "the web app is not built: run `make web`"
    sizes = {
        path: len(gzip.compress((DIST / path.lstrip("/")).read_bytes(), 9))
        for path in widget_files()
    }
    assert len(sizes) >= 4, sizes
    assert sum(sizes.values()) < BUDGET_BYTES, sizes
