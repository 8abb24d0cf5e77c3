"""docs/DEPLOY.md's commands are commands of this release: every ``jifen-server`` and
``jifen-kiosk`` line in its code blocks parses with the real argument parsers (a flag
renamed or a subcommand dropped fails here, not at a city's first install)."""

import re
import shlex
from pathlib import Path

import pytest

from kiosk import cli as kiosk_cli
from server import cli as server_cli

DEPLOY = Path(__file__).resolve().parents[1] / "docs" / "DEPLOY.md"
PARSERS = {"jifen-server": server_cli.build_parser, "jifen-kiosk": kiosk_cli.build_parser}


def invocations(text: str) -> list[tuple[str, list[str]]]:
    found = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\$\([^)]*\)", "X", line.split("ExecStart=", 1)[-1])  # $(date …): one word
            found += _in_words(shlex.split(line, comments=True))
    return found


def _in_words(words: list[str]) -> list[tuple[str, list[str]]]:
    found = []
    for i, word in enumerate(words):
        if " " in word:  # sh -c '…': the quoted command line
            found += _in_words(shlex.split(word))
        elif (program := word.rsplit("/", 1)[-1]) in PARSERS and not _unit_name(words[:i]):
            args = []
            for arg in words[i + 1:]:
                if arg in ("&&", "||", ";", "|"):
                    break
                args.append(arg)
            found.append((program, args))
    return found


def _unit_name(before: list[str]) -> bool:
    """``systemctl stop jifen-server``, ``journalctl -u jifen-server``: the systemd unit."""
    return bool({"systemctl", "journalctl"} & set(before))


def test_the_deploy_guide_has_commands():
    programs = {program for program, _ in invocations(DEPLOY.read_text(encoding="utf-8"))}
    assert programs == set(PARSERS)


@pytest.mark.parametrize("program,args", invocations(DEPLOY.read_text(encoding="utf-8")),
                         ids=lambda v: v if isinstance(v, str) else " ".join(v)[:60])
def test_each_command_of_the_deploy_guide_parses(program, args):
    parsed = PARSERS[program]().parse_args(args)
    assert parsed.command or program == "jifen-kiosk" and not args
