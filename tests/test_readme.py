"""The README's quick start stays true: two commands, and the Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
# A virtual environment first: system pips of Debian and Ubuntu refuse to install (PEP 668).
VENV = "python3 -m venv .venv && . .venv/bin/activate && "
QUICK_START = VENV + 'pip install torch==2.13.0 -e ".[all]" && bipe demo'
TEST_COMMAND = VENV + 'pip install torch==2.13.0 -e ".[dev]" && python -m pytest'


def test_quick_start_has_exactly_two_commands() -> None:
    section = README.read_text(encoding="utf-8").split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    assert [c.strip() for c in commands] == [QUICK_START, TEST_COMMAND]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert TEST_COMMAND in ci


def test_python_example_runs(capsys) -> None:
    block = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert block is not None and len(block.group(1).strip().splitlines()) == 5
    exec(compile(block.group(1), str(README), "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "[(0, 22), (22, 36), (36, 39)]"
    assert out[1] == "torch.Size([1, 15, 256]) torch.Size([1, 7])"
