"""The extension as shipped: private by design in its manifest, one source for Chromium and
Firefox, and a store zip built by ``make extension`` (web-ext lint first)."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = json.loads((ROOT / "extension" / "manifest.json").read_text(encoding="utf-8"))


def test_nothing_is_readable_before_the_user_clicks() -> None:
    assert MANIFEST["manifest_version"] == 3
    assert set(MANIFEST["permissions"]) == {"activeTab", "scripting", "storage"}
    assert "host_permissions" not in MANIFEST  # asked for only by the opt-in automatic check
    assert "content_scripts" not in MANIFEST  # injected on a click, never on every page
    assert MANIFEST["action"]["default_popup"] == "popup.html"


def test_one_source_for_chromium_and_firefox() -> None:
    background = MANIFEST["background"]
    assert background["service_worker"] == background["scripts"][0] == "background.js"
    assert MANIFEST["browser_specific_settings"]["gecko"]["id"]
    for size, path in MANIFEST["icons"].items():
        assert (ROOT / "extension" / path).read_bytes().startswith(b"\x89PNG"), size


@pytest.mark.slow
def test_make_extension_lints_and_packs_a_store_zip(tmp_path: Path) -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    result = subprocess.run(
        ["make", "extension"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "errors          0" in result.stdout
    [package] = (ROOT / "dist").glob("redflags*.zip")
    names = set(zipfile.ZipFile(package).namelist())
    assert {"manifest.json", "background.js", "content.js", "popup.html", "lib.js"} <= names
    assert not any(n.startswith("tools/") for n in names)
