"""The project as a user installs it: two wheels (the product `wasmbed` from platform/, the
harness `wasmbed-hil` from the root) in a fresh virtual environment, away from the checkout.
Third-party dependencies come from this environment (a path entry, so the checkout's
editable installs stay invisible); our own code comes only from the wheels."""

from __future__ import annotations

import ast
import fcntl
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement

from wasmbed.paths import REPO
from wasmbed.processes import ManagedProcess

PRODUCT = REPO / "platform" / "wasmbed"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_product_never_imports_the_harness():
    offenders = [str(p.relative_to(REPO)) for p in sorted(PRODUCT.rglob("*.py"))
                 if {"harness", "scenarios", "robot"} & _imports(p)]
    assert not offenders, f"platform/wasmbed must not import the harness: {offenders}"


def _module_imports(path: Path, known: set[str]) -> set[str]:
    """The product's modules a module imports when it is loaded (not under TYPE_CHECKING,
    not inside functions); `from pkg import sub` depends on pkg.sub only."""
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                subs = {f"{node.module}.{a.name}" for a in node.names} & known
                found.update(subs or {node.module})
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                for field in ("body", "orelse", "finalbody", "handlers"):
                    inner = getattr(node, field, None)
                    if isinstance(inner, list):
                        visit(inner)

    visit(ast.parse(path.read_text(), str(path)).body)
    return found & known


def test_the_product_has_no_import_cycles():
    modules = {".".join(p.relative_to(PRODUCT.parent).with_suffix("").parts)
               .removesuffix(".__init__"): p for p in PRODUCT.rglob("*.py")}
    graph = {name: _module_imports(path, set(modules)) - {name}
             for name, path in modules.items()}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), list(graph[start])
        while todo:
            m = todo.pop()
            if m == goal:
                return True
            if m not in seen:
                seen.add(m)
                todo.extend(graph[m])
        return False

    cycles = sorted({tuple(sorted((a, b))) for a in graph for b in graph[a] if reaches(b, a)})
    assert not cycles, f"modules that import each other (directly or not): {cycles}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with both wheels installed; returns its python. One per run: xdist
    workers share it (the first builds it under a lock, the others wait and reuse it), where
    each worker that drew one of this module's tests had built its own (~10 s of CPU)."""
    if "PYTEST_XDIST_WORKER" in os.environ:
        root = tmp_path_factory.getbasetemp().parent / "wheels"  # this run's, every worker's
        root.mkdir(exist_ok=True)
    else:
        root = tmp_path_factory.mktemp("wheels")
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "installed").exists():
            _build_and_install(root)
            (root / "installed").touch()
    return root / "venv" / "bin" / "python"


def _build_and_install(root: Path) -> None:
    for partial in ("src", "dist", "venv"):  # what a worker's failed build left
        shutil.rmtree(root / partial, ignore_errors=True)
    wheels = root / "dist"
    # from copies of what each distribution is made of: pip builds in the source tree, and
    # the build must neither litter the checkout nor see anything else in it
    junk = shutil.ignore_patterns("__pycache__", "tests", "*.pyc")
    product, hil = root / "src" / "platform", root / "src" / "hil"
    shutil.copytree(PRODUCT, product / "wasmbed", ignore=junk)
    shutil.copy(REPO / "platform" / "pyproject.toml", product)
    shutil.copytree(REPO / "harness", hil / "harness", ignore=junk)
    shutil.copy(REPO / "pyproject.toml", hil)
    isolation = ["--no-build-isolation"] if _build_requirements_met(product, hil) else []
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                            *isolation, "-w", str(wheels), str(product), str(hil)],
                           capture_output=True, text=True, timeout=600)
    if built.returncode != 0 and "No matching distribution found for setuptools" in built.stderr:
        pytest.skip("the wheel build needs setuptools from PyPI (pip's build isolation)")
    assert built.returncode == 0, built.stdout + built.stderr
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True)
    # third-party packages from this environment, appended after the venv's own
    (Path(site.stdout.strip()) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", "--no-index", *map(str, sorted(wheels.glob("*.whl")))],
                   check=True, capture_output=True, text=True, timeout=300)


def _build_requirements_met(*projects: Path) -> bool:
    """Whether this environment has what each project's [build-system] requires (the
    [test] extra brings it). Then the wheels are built here: an isolated build installs
    setuptools into a new environment for each wheel, ~3 s of CPU apiece. pip does not
    check the requirements without isolation, hence this check; where they are not met,
    pip builds in isolation, as a user's `pip install .` does."""
    for project in projects:
        with open(project / "pyproject.toml", "rb") as f:
            for line in tomllib.load(f)["build-system"]["requires"]:
                req = Requirement(line)
                try:
                    if not req.specifier.contains(metadata.version(req.name)):
                        return False
                except metadata.PackageNotFoundError:
                    return False
    return True


def test_a_build_requirement_this_environment_lacks_means_an_isolated_build(tmp_path):
    def project(name: str, requires: str) -> Path:
        (tmp_path / name).mkdir()
        (tmp_path / name / "pyproject.toml").write_text(f"[build-system]\nrequires = {requires}\n")
        return tmp_path / name

    here = project("here", '["setuptools>=70.1"]')
    assert _build_requirements_met(here)
    assert not _build_requirements_met(here, project("newer", '["setuptools>=9999"]'))
    assert not _build_requirements_met(project("absent", '["no-such-backend-xyz"]'))


def test_the_wheels_hold_the_data_an_installed_product_needs(installed):
    wheel = next((installed.parents[2] / "dist").glob("wasmbed-0*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("wasmbed/sdk/wasmbed_app.h", "wasmbed/protocol/vectors.json",
                   "wasmbed/protocol/invalid_vectors.json", "wasmbed/examples/hello.wat",
                   "wasmbed/k8s/manifests/rbac.yaml", "wasmbed/k8s/manifests/crds/devices.yaml",
                   "wasmbed/bridge/relay.py", "wasmbed/api/routes/devices.py"):
        assert needed in names, f"{needed} is not in {wheel.name}"
    if (PRODUCT / "dashboard" / "index.html").exists():  # built by ./run when npm exists
        assert "wasmbed/dashboard/index.html" in names
    harness = next((installed.parents[2] / "dist").glob("wasmbed_hil-*.whl"))
    hnames = set(zipfile.ZipFile(harness).namelist())
    assert {"harness/faults/library.py", "harness/plugin.py", "harness/allure_categories.json",
            "harness/cli.py"} <= hnames
    assert not [n for n in hnames if n.startswith(("wasmbed/", "harness/tests/"))]


def test_every_module_imports_from_the_wheels(installed, tmp_path):
    script = """
import importlib, json, pkgutil, sys
out = {}
for top in ("wasmbed", "harness"):
    pkg = importlib.import_module(top)
    for mod in pkgutil.walk_packages(pkg.__path__, top + "."):
        if mod.name.endswith("__main__"):
            continue
        try:
            m = importlib.import_module(mod.name)
            out[mod.name] = getattr(m, "__file__", "")
        except Exception as exc:
            out[mod.name] = f"ERROR {type(exc).__name__}: {exc}"
print(json.dumps(out))
"""
    done = subprocess.run([str(installed), "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout)
    assert "wasmbed.bridge.relay" in modules and "harness.faults.library" in modules
    venv = str(installed.parents[1])
    broken = {k: v for k, v in modules.items() if v.startswith("ERROR")}
    assert not broken, broken
    outside = {k: v for k, v in modules.items() if not v.startswith(venv)}
    assert not outside, f"imported from outside the wheels: {outside}"


def test_wasmbed_up_runs_from_the_wheel(installed, tmp_path):
    ready = tmp_path / "up.ready"
    wasmbed = installed.parent / "wasmbed"
    proc = ManagedProcess("up", [str(wasmbed), "up", "--data-dir", str(tmp_path / "home"),
                                 "--api-port", "0", "--tls-port", "0",
                                 "--gateway-http-port", "0", "--ready-file", str(ready)],
                          tmp_path / "up.log", ready)
    try:
        info = proc.start()
        token = (tmp_path / "home" / "api" / "token").read_text().strip()
        with httpx.Client(base_url=info["api"], timeout=10) as http:
            assert http.get("/health").status_code == 200
            devices = http.get("/api/v1/devices", headers={"Authorization": f"Bearer {token}"})
            assert devices.status_code == 200, devices.text
            if (PRODUCT / "dashboard" / "index.html").exists():
                assert "<html" in http.get("/").text.lower()
    finally:
        proc.stop()
    manifests = subprocess.run([str(wasmbed), "manifests"], capture_output=True, text=True,
                               check=True).stdout.strip()
    assert (Path(manifests) / "crds" / "devices.yaml").is_file()
    assert manifests.startswith(str(installed.parents[1]))


def test_the_pytest_plugin_loads_from_the_wheel(installed, tmp_path):
    done = subprocess.run([str(installed), "-m", "pytest", "--help"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for option in ("--emulator", "--board", "--cluster", "--keep-on-failure"):
        assert option in done.stdout, f"{option} missing from pytest --help"
    hil = subprocess.run([str(installed.parent / "wasmbed-hil"), "--help"],
                         capture_output=True, text=True, timeout=60)
    assert hil.returncode == 0 and "robot" in hil.stdout, hil.stderr
