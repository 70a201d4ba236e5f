"""Open the HTML report in headless Chromium: it renders, every figure decodes, the screenshot is not blank.

Needs the Debian package ``chromium`` (``apt-get install -y --no-install-recommends chromium``); skipped
cleanly without it. The page's own inline script writes the image check into ``#render-check``, which
``--dump-dom`` shows.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.chromium,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="headless chromium not installed (/usr/bin/chromium)")]

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--disable-extensions", "--mute-audio"]


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    cmd = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_html_renders_with_every_image_loaded(report, tmp_path):
    url = report.html.resolve().as_uri()
    r = _chromium(tmp_path, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", "--dump-dom", url)
    assert r.returncode == 0, r.stderr[-2000:]
    m = re.search(r'<footer id="render-check"([^>]*)>([^<]*)</footer>', r.stdout)
    assert m, "the page did not render its footer: " + r.stdout[-500:]
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', m.group(1)))
    n = len(report.figures)
    assert attrs["status"] == "done", m.group(0)  # the inline check ran after load
    assert attrs["images-total"] == attrs["images-loaded"] == attrs["figures"] == str(n), m.group(0)
    assert attrs["images-broken"] == "0" and attrs["errors"] == "0", m.group(0)
    console = [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert not [ln for ln in console if "error" in ln.lower()], console


def test_screenshot_is_not_blank(report, tmp_path):
    from PIL import Image

    shot = tmp_path / "shot.png"
    r = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,4000", "--virtual-time-budget=10000",
                  report.html.resolve().as_uri())
    assert r.returncode == 0 and shot.is_file(), r.stderr[-2000:]
    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape == (4000, 1280, 3)
    packed = (img[..., 0].astype(np.int32) << 16) | (img[..., 1].astype(np.int32) << 8) | img[..., 2]
    colours, counts = np.unique(packed, return_counts=True)
    assert len(colours) > 200, "too few colours: text and plots did not render"
    assert counts.max() / counts.sum() < 0.9, "one colour covers the page"
    for band in np.array_split(img, 4, axis=0):  # content all the way down, not just a header
        assert band.std() > 10
