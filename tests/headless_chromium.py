"""Debian's Chromium, headless: a page as the browser renders it (after its scripts ran), as HTML."""

from __future__ import annotations

import shutil
import subprocess
import tempfile

from warehouse.local_airflow import CHROMIUM_HEADLESS

FLAGS = (*CHROMIUM_HEADLESS, "--virtual-time-budget=5000")


def rendered_dom(url: str, timeout_s: int = 90) -> str:
    executable = shutil.which("chromium")
    assert executable, (
        "chromium is not installed (Debian: apt-get install chromium fonts-noto-cjk; .ci/run does)"
    )
    with tempfile.TemporaryDirectory(prefix="gridfusion-chromium-") as profile:
        done = subprocess.run(
            [executable, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    assert done.returncode == 0 and done.stdout.strip(), (
        f"chromium could not render {url}: {done.stderr[-2000:]}"
    )
    return done.stdout
