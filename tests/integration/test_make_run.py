"""``make run``: the links the server writes point at the port it listens on."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(folder: Path, *arguments: str, **environment: str) -> str:
    """Return what ``make -n run`` would do in ``folder`` (nothing is run)."""
    env = {k: v for k, v in os.environ.items() if k != "FIELDWORK_BASE_URL"} | environment
    command = ["make", "--no-print-directory", "-n", "run", *arguments]  # noqa: S607 - as users do
    result = subprocess.run(  # noqa: S603 - fixed arguments, the test's own
        command,
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def announced_links(output: str) -> str:
    """Return the base URL the run recipe announces (and exports to every process)."""
    line = next(line for line in output.splitlines() if "links in messages:" in line)
    return line.rsplit("links in messages: ", 1)[1].rstrip('"')


def checkout_without_env(tmp_path: Path) -> Path:
    """Return a folder that looks like the checkout but has a ``.env`` of its own."""
    for entry in ROOT.iterdir():
        if entry.name not in (".env", ".git"):
            (tmp_path / entry.name).symlink_to(entry)
    return tmp_path


def test_links_follow_the_port_when_no_base_url_is_set(tmp_path):
    folder = checkout_without_env(tmp_path)
    output = dry_run(folder, "PORT=8101")
    assert announced_links(output) == "http://127.0.0.1:8101"
    assert "--bind 127.0.0.1:8101" in output


def test_an_explicit_base_url_wins_over_the_port(tmp_path):
    folder = checkout_without_env(tmp_path)
    from_environment = dry_run(folder, "PORT=8101", FIELDWORK_BASE_URL="https://fw.example.cn")
    assert announced_links(from_environment) == "https://fw.example.cn"
    on_the_command_line = dry_run(folder, "PORT=8101", "FIELDWORK_BASE_URL=https://cli.example")
    assert announced_links(on_the_command_line) == "https://cli.example"


def test_a_base_url_in_dotenv_is_kept(tmp_path):
    folder = checkout_without_env(tmp_path)
    (folder / ".env").write_text(
        "FIELDWORK_SECRET_KEY=x\nFIELDWORK_BASE_URL='https://service.example.cn'\n",
        encoding="utf-8",
    )
    assert announced_links(dry_run(folder, "PORT=8101")) == "https://service.example.cn"
