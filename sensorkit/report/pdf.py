"""Printing a report to PDF with headless Chromium (`--pdf`), and screenshots of it.

Chromium's print engine turns the self-contained HTML into a clean PDF; sensorkit
does not write PDF itself. Chromium is found on the PATH (`chromium`,
`chromium-browser`, `google-chrome`); where it is absent, the message says how to
get it and the HTML report still works (print it from any browser).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sensorkit.errors import SensorkitError
from sensorkit.recording.outputs import atomic_output

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# no network, no first-run work, no sandbox (root in containers): a print job, nothing else
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")  # fmt: skip


def find_chromium() -> str | None:
    """The path of a Chromium-family browser, or None."""
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


def _run(html_text: str, args: list[str], what: str) -> None:
    browser = find_chromium()
    if browser is None:
        raise SensorkitError(f"{what} needs Chromium, which is not installed: on Debian or Ubuntu "
                             "'sudo apt-get install chromium'; or open the --report HTML in any browser and "
                             "print it")  # fmt: skip
    with tempfile.TemporaryDirectory() as d:
        page = Path(d) / "report.html"
        page.write_text(html_text)
        cmd = [browser, *FLAGS, f"--user-data-dir={d}/profile", *args, page.as_uri()]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            raise SensorkitError(f"{what}: Chromium did not finish within 2 minutes") from None
        if p.returncode != 0:
            last = (p.stderr.strip().splitlines() or ["no message"])[-1]
            raise SensorkitError(f"{what}: Chromium failed ({last})")


def print_pdf(html_text: str, out: str | os.PathLike) -> None:
    """The report printed to `out` (A4, no browser header or footer)."""
    with atomic_output(out) as tmp:
        _run(html_text, [f"--print-to-pdf={tmp}", "--no-pdf-header-footer"], "--pdf")
        if not Path(tmp).exists() or Path(tmp).stat().st_size == 0:
            raise SensorkitError("--pdf: Chromium wrote no PDF")


def screenshot(html_text: str, out: str | os.PathLike, width: int = 1100, height: int = 2400) -> None:
    """A PNG of the rendered report (for documentation and checks)."""
    with tempfile.TemporaryDirectory() as d, atomic_output(out) as tmp:
        shot = Path(d) / "shot.png"  # Chromium wants the .png name
        _run(html_text, [f"--screenshot={shot}", f"--window-size={width},{height}", "--hide-scrollbars"],
             "screenshot")  # fmt: skip
        if not shot.exists():
            raise SensorkitError("screenshot: Chromium wrote no image")
        shutil.move(shot, tmp)
