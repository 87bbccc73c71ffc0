"""The project as a Python engineer installs it: a wheel that works outside the checkout, and every
third-party import declared in pyproject.toml."""

import ast
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("agent", "common", "knowledge", "models", "templates")


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    return {re.split(r"[<>=!~ \[;]", r, maxsplit=1)[0].lower().replace("_", "-") for r in reqs}


def _third_party_imports() -> set[str]:
    names = set()
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
    stdlib = set(sys.stdlib_module_names)
    return {n for n in names if n not in stdlib and n not in PACKAGES}


def test_every_third_party_import_is_a_declared_dependency():
    dists = metadata.packages_distributions()
    declared = _declared()
    missing = {}
    for module in sorted(_third_party_imports()):
        owners = {d.lower().replace("_", "-") for d in dists.get(module, [module])}
        if not owners & declared:
            missing[module] = sorted(owners)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_constraints_pin_every_declared_dependency_exactly():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    assert pins.get("torch") == "2.13.0"  # the CPU build on this machine's disk
    assert not _declared() - set(pins), "declared but not pinned in constraints.txt"


@pytest.mark.slow
def test_the_wheel_installs_and_answers_outside_the_checkout(tmp_path):
    wheels, source = tmp_path / "wheels", tmp_path / "source"
    # build from a copy: setuptools writes build/ into the tree, and a stale build/lib would leak
    # files the checkout no longer has into the wheel
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "out", "runs", "__pycache__", "*.egg-info", "tests"
        ),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "-w",
            str(wheels),
            str(source),
        ],
        check=True,
        timeout=300,
    )
    wheel = next(wheels.glob("restoration_explainer-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # the new venv sees the dependencies already installed here (no second torch download), but
    # the project itself comes only from the wheel: the checkout is not on its path
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "-q",
            "--no-deps",
            "--ignore-installed",
            "--disable-pip-version-check",
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "EXPLAINER_CARDS")}
    env.update(HOME=str(tmp_path), NO_COLOR="1")
    done = subprocess.run(
        [
            str(venv / "bin" / "explainer"),
            "ask",
            "How many stages does MSSNet run at each scale?",
            "--format",
            "json",
        ],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert '"mssnet"' in done.stdout
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import agent, models.training; print(agent.__file__)"],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(ROOT) not in where and "site-packages" in where
