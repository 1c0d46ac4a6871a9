"""The clinic report: one self-contained HTML file that renders in headless Chromium."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sensorkit.cli import main
from sensorkit.report.pdf import FLAGS, find_chromium

ROOT = Path(__file__).resolve().parents[1]
BEFORE, AFTER = ROOT / "recordings" / "before.xdf", ROOT / "recordings" / "after.xdf"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["compare", str(BEFORE), str(AFTER), "--report", str(out), "-q"]) == 0
    return out


def test_the_report_is_self_contained(report):
    page = report.read_text()
    assert "<script" not in page and "<link" not in page and "<img" not in page and "@import" not in page
    # nothing fetched from anywhere: no src or href, no url() outside the SVG's own fragments
    assert not re.search(r"\s(src|href)\s*=", page)
    assert not re.search(r"url\((?!#)", page)


def test_every_figure_is_embedded(report):
    page = report.read_text()
    figures = page.count('<div class="figure">')
    assert figures == 6  # two blocks: latency, activation order, pelvic drop each
    assert page.count("<svg") == figures and page.count("</svg>") == figures
    assert "patient P001" in page and "improved" in page and "Method" in page
    assert "band-passed (30-450 Hz" in page  # the onset band, as the detector has it
    assert "switches on" in page and "(95 % CI" in page


def test_a_single_session_gets_its_own_report(tmp_path, capsys):
    out = tmp_path / "one.html"
    assert main(["analyze", str(BEFORE), "--report", str(out), "-q"]) == 0
    page = out.read_text()
    assert "class='bad'>delayed" in page and page.count("<svg") == 6 and ">improved<" not in page


def test_reports_are_never_written_over_inputs_or_existing_files(tmp_path, capsys):
    out = tmp_path / "r.html"
    out.write_text("precious")
    assert main(["compare", str(BEFORE), str(AFTER), "--report", str(out), "-q"]) == 1
    assert out.read_text() == "precious"


@pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed (apt-get install chromium)")
def test_the_report_renders_in_headless_chromium_without_errors(report, tmp_path):
    browser = find_chromium()
    p = subprocess.run([browser, *FLAGS, f"--user-data-dir={tmp_path}/profile", "--enable-logging=stderr", "--v=0",
                        "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.count("<svg") == 6  # every figure parsed into the page
    assert "CONSOLE" not in p.stderr and "Uncaught" not in p.stderr


@pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed (apt-get install chromium)")
def test_pdf_printing(tmp_path, capsys):
    pdf = tmp_path / "r.pdf"
    assert main(["compare", str(BEFORE), str(AFTER), "--pdf", str(pdf), "-q"]) == 0
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 20000


def test_without_chromium_pdf_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert main(["compare", str(BEFORE), str(AFTER), "--pdf", str(tmp_path / "r.pdf"), "-q"]) == 1
    assert "apt-get install chromium" in capsys.readouterr().err
    assert not (tmp_path / "r.pdf").exists()
