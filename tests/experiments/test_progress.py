"""Status lines go to stderr only when it is a terminal: a pipe or a file gets none."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from experiments.progress import status_printer

ROOT = Path(__file__).resolve().parents[2]


def test_no_status_on_a_pipe_or_file():
    buf = io.StringIO()
    status_printer(buf)("working")
    assert buf.getvalue() == ""


def test_compare_segmenters_shows_progress_on_a_terminal_only(tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("One. Two.\n" * 10, encoding="utf-8")
    cmd = [sys.executable, "-m", "experiments.cli", "compare-segmenters", str(text), "-s", "punct"]
    piped = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert piped.returncode == 0 and piped.stderr == ""
    leader, follower = pty.openpty()
    with_tty = subprocess.run(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=follower, text=True, timeout=60
    )
    os.close(follower)
    seen = os.read(leader, 4096).decode()
    os.close(leader)
    assert with_tty.returncode == 0 and "segmenting" in seen and "with punct (1/2)" in seen
    assert "segmenting" not in with_tty.stdout
