"""DESIGN.md's structure: one-way layers and light imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHECKER = REPO.parent / "shared" / "tools" / "check_layers.py"


def test_no_import_points_up_the_layer_order_and_no_circle() -> None:
    if not CHECKER.is_file():
        pytest.fail(f"{CHECKER} is missing: clone Kilo beside ../shared", pytrace=False)
    done = subprocess.run(
        [sys.executable, str(CHECKER), "--circles", str(REPO / "src" / "kilo")],
        capture_output=True,
        text=True,
    )
    expected = "0 import(s) point up, 0 circle(s)"
    assert done.returncode == 0 and done.stdout.strip() == expected, done.stdout


@pytest.mark.parametrize(
    "module", ["kilo.config", "kilo.features", "kilo.data", "kilo.metrics", "kilo.blend"]
)
def test_light_modules_do_not_import_heavy_libraries(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'ccxt', 'torch', 'stable_baselines3', 'lightgbm'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", f"{module} imports {done.stdout.strip()}"


def test_no_module_of_the_package_imports_freqtrade() -> None:
    """freqtrade is GPL-3: only integrations/freqtrade/ imports it, at freqtrade's run time."""
    import ast

    offenders = []
    for path in (REPO / "src" / "kilo").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "freqtrade"]
    assert offenders == []
    assert "freqtrade" in (REPO / "integrations" / "freqtrade" / "KiloStrategy.py").read_text()


def test_the_lock_pins_every_package_a_manifest_records_as_installed() -> None:
    """Installed from requirements.lock (as .ci/run and the README do), the versions a
    model set's manifest records are the lock's."""
    import re
    from importlib import metadata

    from kilo.registry.manifest import PACKAGES

    lock = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        found = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)", line)
        if found:
            lock[found.group(1).lower().replace("_", "-")] = found.group(2)
    pinned = [name for name in PACKAGES if name != "kilo"]
    assert all(name in lock for name in pinned), sorted(set(pinned) - set(lock))
    installed = {name: metadata.version(name) for name in pinned}
    differing = {n: (lock[n], v) for n, v in installed.items() if lock[n] != v}
    assert not differing, (
        f"installed differ from requirements.lock (pip install -r it): {differing}"
    )
