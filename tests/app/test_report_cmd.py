"""`genulab report` end to end: a session folder -> PDF with the off-screen 3D snapshots."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import SAMPLES

pytestmark = pytest.mark.skipif(shutil.which("pdfimages") is None, reason="poppler-utils not installed")


def test_report_command_with_snapshots(tmp_path):
    folder = SAMPLES / "GL-0001" / "pre"
    if not folder.is_dir():
        pytest.skip("sample sessions not generated")
    from app.cli import main
    pdf = tmp_path / "pre.pdf"
    assert main(["report", str(folder), "--pdf", str(pdf), "--lab", "CLI Lab"]) == 0
    images = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True).stdout
    rows = [l for l in images.splitlines()[2:] if l.strip()]
    assert len(rows) >= 2, "the valgus pages must carry the frontal 3D snapshots"
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "CLI Lab" in text and "frontal view at peak valgus" in text


def test_report_command_bad_source(tmp_path, capsys):
    from app.cli import main
    assert main(["report", str(tmp_path / "nope"), "--pdf", str(tmp_path / "x.pdf")]) == 2
    assert "no such store or session folder" in capsys.readouterr().err
