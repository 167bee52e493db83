"""Done-when of issue 15: screenshots of report.html for a performance run and for an accuracy run,
taken in headless Chromium, kept in the tests' artifacts (``$EDGEPERF_TEST_ARTIFACTS``, default
``tests/artifacts/``).

The pages are those ``edgeperf run`` writes for the resnet50 stand-in. The checks are that the
browser renders each page to a PNG of the requested size that is not blank, and that the accuracy
page's headline (what the screenshot shows) is the accuracy card, not "no result".
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
ARTIFACTS = Path(os.environ.get("EDGEPERF_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)"),
]


def _screenshot(page: Path, png: Path, tmp_path: Path) -> np.ndarray:
    png.parent.mkdir(parents=True, exist_ok=True)
    # --no-sandbox: CI runs as root; a private profile keeps runs independent
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--window-size=1100,1500",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        f"--screenshot={png}",
        page.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and png.is_file(), proc.stderr[-2000:]
    import cv2

    image = cv2.imread(str(png))
    assert image is not None and image.shape[:2] == (1500, 1100)
    return image


@pytest.mark.parametrize("kind", ["performance", "accuracy"])
def test_report_html_screenshot(kind, cli, models, imagenet_dir, fast_conf, tmp_path):
    out = tmp_path / kind
    r = cli(
        "run",
        "resnet50",
        "--scenario",
        "Offline",
        "--mode",
        kind,
        "--model",
        models["resnet50-label1"],
        "--dataset",
        imagenet_dir,
        "--user-conf",
        fast_conf,
        "--output",
        out,
    )
    assert r.exit_code == 0, r.output
    page = (out / "report.html").read_text()
    if kind == "accuracy":
        assert 'id="accuracy"' in page and "no result" not in page
    else:
        assert 'id="result"' in page and ("VALID" in page)
    image = _screenshot(out / "report.html", ARTIFACTS / f"report-{kind}.png", tmp_path)
    # not blank: the page has text and coloured badges, so many distinct colours
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 50
