"""Headless Chromium (Debian's package) for the tests marked ``browser``: load a page with every host name
unresolvable (localhost excepted), dump its DOM or take a screenshot, and count the coloured pixels in it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(args: list[str], url: str, tmp: Path) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage",
           "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # no network, but localhost
           f"--user-data-dir={tmp}", "--window-size=1400,1000", "--virtual-time-budget=10000", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def dom(url: str, tmp: Path) -> str:
    proc = chromium(["--dump-dom"], url, tmp)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def coloured_pixels(png: Path, left: int = 300, top: int = 80) -> int:
    """Saturated pixels right of ``left`` and below ``top`` (plotted series; text and tables are grey)."""
    from PIL import Image

    img = Image.open(png).convert("RGB")
    w, h = img.size
    count = 0
    for x in range(left, w - 20, 2):
        for y in range(top, h - 20, 2):
            r, g, b = img.getpixel((x, y))
            if max(r, g, b) - min(r, g, b) > 80:
                count += 1
    return count
