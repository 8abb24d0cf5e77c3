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


# ---------------------------------------------------------------- the province's files

DEPLOY_DIR = DEPLOY.parent / "deploy"


def named_files() -> set[str]:
    """The files under docs/deploy/ that DEPLOY.md names (``deploy/NAME``)."""
    return set(re.findall(r"\bdeploy/([\w@.-]+[\w])", DEPLOY.read_text(encoding="utf-8")))


def test_every_file_the_guide_names_exists_and_every_file_is_named():
    named = named_files()
    assert named, "DEPLOY.md names no file under docs/deploy/"
    assert {n for n in named if not (DEPLOY_DIR / n).is_file()} == set()
    assert {p.name for p in DEPLOY_DIR.iterdir()} - named == set(), "a file under docs/deploy/ DEPLOY.md does not mention"


def unit_commands() -> dict[str, list[str]]:
    """unit file -> the words of its ExecStart, systemd's instance specifier ``%i`` as an
    instance name would fill it (a port)."""
    found = {}
    for unit in sorted(DEPLOY_DIR.glob("*.service")):
        lines = [line for line in unit.read_text(encoding="utf-8").splitlines() if line.startswith("ExecStart=")]
        assert len(lines) == 1, f"{unit.name}: one ExecStart"
        found[unit.name] = shlex.split(lines[0].removeprefix("ExecStart=").replace("%i", "8471"))
    return found


def test_the_units_run_real_jifen_server_commands():
    commands = unit_commands()
    assert set(commands) == {"jifen-server@.service", "jifen-projector.service"}
    seen = set()
    for unit, words in commands.items():
        assert words[0] == "/opt/jifen/bin/jifen-server", unit
        parsed = server_cli.build_parser().parse_args(words[1:])
        seen.add(parsed.command)
        assert str(parsed.data) == "/var/lib/jifen/server", unit
        assert parsed.database is None, f"{unit}: the database comes from server.env (JIFEN_DATABASE), one place to repoint"
        if parsed.command == "serve":  # what `serve` refuses to start without (server.cli.serve)
            assert not parsed.insecure_http and (parsed.cert and parsed.key or server_cli.is_loopback(parsed.host)), unit
    assert seen == {"serve", "project"}


def test_the_proxy_speaks_to_the_processes_as_they_serve():
    """HTTPS to servers on other machines (they serve TLS themselves), to the ports the
    guide's instances use."""
    words = unit_commands()["jifen-server@.service"]
    assert "--cert" in words and "proxy_pass https://jifen;" in nginx() and "proxy_ssl_verify on;" in nginx()
    ports = set(re.findall(r"^\s*server [\d.]+:(\d+)", nginx(), re.M))
    assert ports and {f"jifen-server@{p}" for p in ports} <= set(re.findall(r"jifen-server@\d+", DEPLOY.read_text(encoding="utf-8")))


def env_file() -> dict[str, str]:
    """server.env's assignments; those in comments too (they name settings as well)."""
    values = {}
    for line in (DEPLOY_DIR / "server.env").read_text(encoding="utf-8").splitlines():
        if m := re.match(r"^#?\s*(JIFEN_[A-Z_]+)=(.*)$", line):
            values[m.group(1)] = m.group(2)
    return values


def test_server_env_names_only_settings_and_holds_no_secret():
    from psycopg.conninfo import conninfo_to_dict

    from server.settings import ENV, Settings
    lines = (DEPLOY_DIR / "server.env").read_text(encoding="utf-8").splitlines()
    set_here = {line.split("=", 1)[0]: line.split("=", 1)[1] for line in lines if line and not line.startswith("#")}
    known = {var for var, _ in ENV.values()}
    assert set(env_file()) - known == set(), "server.env names a variable Settings.from_env does not read"
    settings = Settings.from_env(set_here)  # every value parses as its setting's
    assert settings.projection == "separate" and settings.database
    assert "password" not in conninfo_to_dict(settings.database)
    assert {"JIFEN_METRICS_TOKEN", "JIFEN_ADMIN_PASSWORD"} & set(set_here) == set(), "secrets belong in secrets.env"
    proxy = re.search(r"\| `proxy` \(([\d.]+)\)", DEPLOY.read_text(encoding="utf-8")).group(1)
    assert settings.forwarded_allow_ips == proxy, "JIFEN_FORWARDED_ALLOW_IPS names the proxy of DEPLOY.md's table"


def nginx() -> str:
    return (DEPLOY_DIR / "jifen-nginx.conf").read_text(encoding="utf-8")


def test_the_proxy_passes_a_whole_batch_and_checks_a_real_health_route():
    from sync.protocol import MAX_BODY_BYTES
    size = re.search(r"client_max_body_size (\d+)m;", nginx())
    assert size and int(size.group(1)) * 1024 * 1024 >= MAX_BODY_BYTES
    assert "location = /v1/health" in nginx()
    assert re.search(r'@get\("/health"', (DEPLOY.parents[1] / "server" / "app.py").read_text(encoding="utf-8"))
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx()


def test_postgresql_has_room_for_every_process_and_commits_synchronously():
    from server.store.postgres import POOL_SIZE
    conf = {}
    for line in (DEPLOY_DIR / "postgresql-jifen.conf").read_text(encoding="utf-8").splitlines():
        if m := re.match(r"^(\w+)\s*=\s*('[^']*'|\S+)", line):
            conf[m.group(1)] = m.group(2).strip("'")
    assert conf["synchronous_commit"] == "on" and conf["wal_level"] == "replica"
    names = re.fullmatch(r"FIRST 1 \((.*)\)", conf["synchronous_standby_names"]).group(1).split(", ")
    assert set(names) == {"pg1", "pg2"}, "both database machines, so either may be the primary"
    processes = len(re.findall(r"^\s*server [\d.]+:\d+", nginx(), re.M)) + 2  # the serve processes, two projectors
    assert int(conf["max_connections"]) >= processes * (POOL_SIZE + 2), "a writer, the pool and the lease per process"
    hba = [line.split() for line in (DEPLOY_DIR / "pg_hba-jifen.conf").read_text(encoding="utf-8").splitlines()
           if line.strip() and not line.startswith("#")]
    assert all(len(f) == 5 and f[0] in ("host", "hostssl") for f in hba)
    assert {f[1] for f in hba} == {"jifen", "replication"}


def test_every_postgresql_parameter_is_a_real_one():
    """The names in postgresql-jifen.conf, checked against PostgreSQL's own list
    (``postgres --describe-config``), so a misspelled one fails here, not at start-up."""
    from tests import pgcluster
    bindir = pgcluster.find_bin()
    if bindir is None:
        pgcluster.unavailable("postgres not found in /usr/lib/postgresql/*/bin or PATH")
    import os
    import subprocess
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    out = subprocess.run([*run_as, str(bindir / "postgres"), "--describe-config"], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    real = {line.split("\t", 1)[0] for line in out.splitlines()}
    used = {m.group(1) for line in (DEPLOY_DIR / "postgresql-jifen.conf").read_text(encoding="utf-8").splitlines()
            if (m := re.match(r"^(\w+)\s*=", line))}
    assert used and used - real == set()
