"""``reproject --check`` on both backends: the ledger rebuilt from the signed log (on
PostgreSQL in a SQLite copy of one snapshot, ``server.store.snapshot``) is the stored one;
an edited posting, balance, cap counter, review item, event, stock row, letter or shift
count line is named by its table, the same on SQLite and PostgreSQL; ids the database
assigns (PostgreSQL's identity sequences, which a rolled-back write moves too) are not a
difference; and replacing the ledger is refused on PostgreSQL by name. In-process (the app
behind TestClient on the test's backend), and the ``jifen-server`` commands themselves
(``audit`` too, which catches the edited posting)."""

import json

import pytest
from litestar.testing import TestClient

from schema.wire import ShiftClose, StockCount
from server.app import create_app
from server.errors import Invalid
from server.store.db import MigrationRefused
from server.services import projector
from server.services.enroll import enroll_code
from server.services.staff import SYSTEM
from tests.e2e.conftest import cli
from tests.faults.backends import BACKENDS
from tests.server.conftest import CARD_A, CARD_B
from tests.server.kiosk_double import KioskDouble

#: the edits the check must name, by the table it names (each SQL runs on both backends)
EDITS = [
    ("postings", "UPDATE postings SET amount = amount + 1 WHERE id = (SELECT max(id) FROM postings)"),
    ("balances", "UPDATE balances SET points = points + 7 WHERE account LIKE 'resident:%'"),
    ("award_counts", "UPDATE award_counts SET n = n + 1"),
    ("review_items", "UPDATE review_items SET detail = '{}' WHERE kind = 'overdraft'"),
    ("events", "UPDATE events SET at = at + 1 WHERE kind = 'award'"),
    ("stock", "UPDATE stock SET qty = qty - 1 WHERE sku = 'SOAP' AND qty != 0"),
    ("voice_items", "UPDATE voice_items SET text = '路灯修好了'"),
    ("shift_counts", "UPDATE shift_counts SET counted = 9 WHERE sku = 'SOAP'"),
]


@pytest.fixture
def app(server_db, clock):
    with TestClient(create_app(server_db.settings(clock=clock))) as client:
        yield client


def kiosk(app, clock, seed: int, shop: str) -> KioskDouble:
    k = KioskDouble(app, seed, clock)
    assert k.enroll(enroll_code(app.app.state.ctx, SYSTEM, shop)["code"]).status_code == 200
    return k


def fill(app, clock, seeds: tuple[int, int] = (1, 2)) -> None:
    a, b = kiosk(app, clock, seeds[0], "S01"), kiosk(app, clock, seeds[1], "S02")
    assert a.push(a.batch(a.award(CARD_A, "ZYFW", 10), a.redeem(CARD_A, ("SOAP", 1, 30)))).status_code == 200  # an overdraft: reviewed
    assert b.push(b.batch(b.award(CARD_B, "TJJF", 8), b.voice(CARD_B))).status_code == 200  # a letter
    assert a.push(a.batch(a.stock_in(("SOAP", 12)), a.award(CARD_B, "LLHZ", 5), shift_close(a))).status_code == 200


def shift_close(k: KioskDouble) -> ShiftClose:
    """A shift report: its counted lines are stored by a trigger (``shift_counts``), written
    per dialect, so the rebuild in SQLite meets what PostgreSQL's trigger stored."""
    eid, kseq = k._next()
    return ShiftClose(id=eid, kseq=kseq, at=k.clock(), operator="op1", first_kseq=1, events=4, awarded=15, deducted=0,
                      redeemed=30, counts=[StockCount(sku="SOAP", expected=11, counted=10), StockCount(sku="SALT", expected=0, counted=None)])


def edit(server_db, sql: str) -> None:
    with server_db.connect() as db:
        assert db.execute(sql).rowcount >= 1, sql
        db.commit()


def check(app, tmp_path) -> projector.Rebuild:
    return projector.rebuild(app.app.state.ctx, tmp_path / "scratch.db")


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_the_ledger_rebuilt_from_the_log_is_the_stored_one(app, clock, server_db, tmp_path):
    fill(app, clock)
    out = check(app, tmp_path)
    assert out.ok, out.differences
    assert out.events >= 6 and not list(tmp_path.glob("scratch*"))  # the copies are gone


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
@pytest.mark.parametrize("table, sql", EDITS)
def test_the_check_names_an_edited_ledger_table(app, clock, server_db, tmp_path, table, sql):
    fill(app, clock)
    edit(server_db, sql)
    out = check(app, tmp_path)
    assert not out.ok and out.differences[0]["table"] == table, out.differences
    assert not list(tmp_path.glob("scratch*"))


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_a_ledger_behind_the_log_is_named_as_such(server_db, clock, tmp_path):
    """Acknowledged and not yet projected (``projection = separate``, no projector running):
    the stored ledger lacks what the rebuild holds, and the check says why first."""
    with TestClient(create_app(server_db.settings(clock=clock, projection="separate"))) as app:
        fill(app, clock)
        out = check(app, tmp_path)
    assert not out.ok and out.differences[0]["table"] == "ingest_log", out.differences
    assert "behind the log" in out.differences[0]["note"]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_gaps_in_postgresql_identity_ids_are_no_difference(app, clock, server_db, tmp_path):
    """A rolled-back write moves an identity sequence: later rows' ids have a gap the
    rebuild's have not. Compared by value in id order, the ledger is still the same."""
    fill(app, clock)
    for table, column in (("postings", "id"), ("stock_moves", "rowid"), ("review_items", "id")):
        server_db.one(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), (SELECT max({column}) FROM {table}) + 100)")
    fill(app, clock, (3, 4))  # two more kiosks' postings, stock moves and an overdraft, past the gap
    assert server_db.one("SELECT max(id) - count(*) FROM postings")[0] >= 100
    out = check(app, tmp_path)
    assert out.ok, out.differences


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_replacing_the_ledger_is_refused_on_postgresql_by_name(app, clock, server_db, tmp_path):
    fill(app, clock)
    edit(server_db, EDITS[1][1])
    with pytest.raises(Invalid) as refused:
        projector.rebuild(app.app.state.ctx, tmp_path / "scratch.db", replace=True)
    assert "--check" in refused.value.message and "PostgreSQL" in refused.value.message
    assert server_db.one("SELECT count(*) FROM balances WHERE points != 0")[0] > 0  # nothing touched
    assert not check(app, tmp_path).ok  # still the edited ledger: named again


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_jifen_server_audit_and_reproject_check_on_both_backends(app, clock, server_db):
    fill(app, clock)
    run = lambda *args: cli("jifen-server", "reproject", *args, "--data", str(server_db.data), check=False)  # noqa: E731
    audit = lambda: cli("jifen-server", "audit", "--data", str(server_db.data), check=False)  # noqa: E731
    assert audit().returncode == 0
    passed = run("--check", "--json")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert json.loads(passed.stdout) | {"events": 0} == {"ok": True, "events": 0, "differences": 0, "first": []}
    edit(server_db, EDITS[0][1])
    failed = run("--check")
    assert failed.returncode == 1 and "rows differ; first in postings" in failed.stdout, failed.stdout + failed.stderr
    failed = audit()  # the edited posting no longer sums to zero with its event's others
    assert failed.returncode == 1 and "audit FAILED" in failed.stdout, failed.stdout + failed.stderr
    if server_db.backend == "postgresql":
        refused = run()
        assert refused.returncode == 2 and "reproject --check" in refused.stderr, refused.stdout + refused.stderr
    else:
        assert run().returncode == 0  # the stored ledger takes the rebuilt rows
        assert run("--check").returncode == 0
    assert not list(server_db.data.glob("reproject-scratch*"))


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_database_at_another_schema_version_is_refused_and_no_copy_is_left(app, clock, server_db, tmp_path):
    fill(app, clock)
    edit(server_db, "UPDATE meta SET value = '9999' WHERE key = 'schema_version'")  # as a newer jifen-server left it
    with pytest.raises(MigrationRefused, match="schema version 9999"):
        check(app, tmp_path)
    assert not list(tmp_path.glob("scratch*"))
