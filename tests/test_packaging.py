"""The built wheel carries its rules and page-type model: installed into a fresh virtual
environment, away from this checkout, it analyses a page."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

PAGE = (
    "<html><body><h1>Stem cell therapy for knee pain</h1><p>Our clinic cures arthritis with "
    "stem cells. Packages from $5,000. Book your consultation today.</p></body></html>"
)
SCRIPT = """
import json, sys
import app
from app.engine.analyzer import Engine
from app.extract.document import extract_html
from app.settings import Settings
settings = Settings()
report = Engine.from_settings(settings).analyze([extract_html(sys.argv[1].encode(), "p")], "p")
print(json.dumps({"app": app.__file__, "rules": str(settings.rules_dir),
                  "verdict": report.verdict, "findings": [f.rule_id for f in report.findings]}))
"""


def test_an_installed_wheel_analyses_a_page(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("redflags-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "app/_shipped/rules/claims.yaml" in names
    for part in ("model.json", "features.txt", "weights.npy", "meta.json"):
        assert f"app/_shipped/models/pagetype/{part}" in names

    # A fresh venv without pip; the dependencies come from this venv's site-packages through a
    # .pth file, which does not pull in this checkout (the editable install's own .pth is not
    # read from a directory a .pth added).
    fresh = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(fresh)], check=True)
    python = fresh / "bin" / "python"
    target = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (target / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    # Nothing from the caller may point back at a checkout: no settings, no PYTHONPATH.
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("REDFLAGS_") and k != "PYTHONPATH"
    }
    env.update(HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    result = subprocess.run(
        [python, "-c", SCRIPT, PAGE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["app"].startswith(str(target))  # the installed copy, not this checkout
    assert out["rules"].startswith(str(target))
    assert "cure-promise" in out["findings"]
    assert out["verdict"] in ("high_risk", "caution")
    # The built pipeline went to the user's cache, the package folder left as installed.
    assert (tmp_path / "cache" / "redflags" / "pipeline" / "en" / "meta.json").is_file()
