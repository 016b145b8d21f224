"""Headless Chromium for the report tests: render a local page with the network cut off,
collect its console messages and take a screenshot.

Chromium comes from the Debian package `chromium`. When it is missing, the tests skip
with the reason, unless installing is allowed (CI=1 or GTM_TEST_INSTALL_CHROMIUM=1)
and this is root with apt-get, in which case it is installed once per session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_FLAGS = ("CI", "GTM_TEST_INSTALL_CHROMIUM")


def find_chromium() -> str | None:
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


def _install_allowed() -> bool:
    return any(os.environ.get(flag, "").lower() not in ("", "0", "false", "no") for flag in INSTALL_FLAGS)


def ensure_chromium() -> str:
    """Chromium's path, installing it when allowed; otherwise skip the calling test."""
    found = find_chromium()
    if found:
        return found
    if not _install_allowed():
        pytest.skip(
            "Chromium is not installed: `apt-get install -y chromium`, or run with CI=1 or "
            "GTM_TEST_INSTALL_CHROMIUM=1 (as root with apt-get) to let the tests install it"
        )
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("Chromium is not installed and installing it needs root and apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            pytest.skip(f"Could not install Chromium ({' '.join(command)}): {done.stderr.strip()[-300:]}")
    found = find_chromium()
    if not found:
        pytest.skip("apt-get installed chromium but no chromium executable is on PATH")
    return found


@dataclass(frozen=True)
class Rendered:
    screenshot: Path
    console: list[str]  # every console message the page logged (errors, warnings, logs)
    stderr: str


def render(chromium: str, page: Path, screenshot: Path, profile_dir: Path, size: tuple[int, int] = (1280, 2000)) -> Rendered:
    """Open `page` headless with every host name unresolvable (so nothing can come from
    the network), and screenshot the top `size` of it."""
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
        f"--user-data-dir={profile_dir}", "--host-resolver-rules=MAP * ~NOTFOUND",
        "--enable-logging=stderr", "--v=0", f"--screenshot={screenshot}",
        f"--window-size={size[0]},{size[1]}", page.resolve().as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    if not screenshot.exists():
        raise AssertionError(f"Chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-2000:]}")
    return Rendered(screenshot, console, done.stderr)
