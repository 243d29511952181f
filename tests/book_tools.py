"""What the site test and the PDF test both do: skip without a tool (or fail, when CI requires
it), and build the book from a test with its output kept in a log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def unavailable(message: str, required_by: str) -> None:
    """Skip with ``message``; fail instead when the environment variable ``required_by`` is 1
    (CI sets it: a missing tool must not turn a test into a silent skip)."""
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{message} ({required_by}=1, so this is a failure, not a skip)",
                    pytrace=False)
    pytest.skip(message)


def build_book(*options: str, log: Path, timeout: int) -> tuple[str, float]:
    """Run ``jupyter-book build . *options`` in the repository; its stdout and stderr go to
    ``log``. Fails the test (with the last 25 lines) unless it exits 0. Returns the log's text
    and the seconds it took."""
    exe = Path(sys.executable).with_name("jupyter-book")
    command = [str(exe) if exe.exists() else "jupyter-book", "build", ".", *options]
    log.parent.mkdir(exist_ok=True)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - start
    text = done.stdout + "\n----- stderr -----\n" + done.stderr
    log.write_text(text, encoding="utf-8")
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
    assert done.returncode == 0, (
        f"`{' '.join(command[1:])}` failed (exit {done.returncode}); full log in {log}\n{tail}")
    return text, seconds
