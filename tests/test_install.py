"""The package installs on its own (issue 14): `pip install .` from a clean copy of the
repository into a fresh virtual environment brings only numpy; then `mcv check`, `mcv derive`
and `from mcv import check_gradient` work from another directory, with no sympy installed.

It needs the package index (as the README's first command does); it is one test file, so
with pytest-xdist it runs beside the others."""

import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_pip_install_from_a_clean_copy_needs_only_numpy(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", "_build", ".git", "test-artifacts", ".hypothesis", "__pycache__", "*.egg-info",
        "chapters"))
    # A venv without pip of its own (ensurepip alone takes seconds): this environment's pip
    # installs into it (pip --python, pip >= 22.3).
    venv.create(tmp_path / "venv", with_pip=False)
    bin_dir = tmp_path / "venv" / "bin"
    pip = [sys.executable, "-m", "pip", "--python", str(bin_dir / "python")]
    install = subprocess.run([*pip, "install", "-q", str(source)],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def run(*command):
        return subprocess.run(command, cwd=elsewhere, capture_output=True, text=True,
                              timeout=120)

    listed = run(*pip, "list", "--format=freeze").stdout.lower()
    assert "numpy==" in listed and "sympy" not in listed and "matplotlib" not in listed
    imported = run(str(bin_dir / "python"), "-c",
                   "from mcv import check_gradient, assert_gradient; import mcv; "
                   "print(mcv.__version__)")
    assert imported.returncode == 0 and imported.stdout.strip(), imported.stderr
    frobenius = ["--loss", "np.sum((W @ u - v)**2)", "--shape", "W=3x4", "--shape", "u=4",
                 "--shape", "v=3", "--wrt", "W"]
    checked = run(str(bin_dir / "mcv"), "check", *frobenius,
                  "--claim", "2 * np.outer(W @ u - v, u)")
    assert checked.returncode == 0 and "verified" in checked.stdout, checked.stderr
    derived = run(str(bin_dir / "python"), "-m", "mcv", "derive", *frobenius)
    assert derived.returncode == 0, derived.stderr
    assert "2 (W u − v) uᵀ" in derived.stdout
    assert "sympy is not installed" in derived.stdout  # the exact proof is skipped, said so
    version = run(str(bin_dir / "mcv"), "--version")
    assert version.returncode == 0 and version.stdout.startswith("mcv ")
