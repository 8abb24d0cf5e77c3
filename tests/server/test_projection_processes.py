"""Two projectors on one SQLite file, as a ``jifen-server project`` process beside another
(or a staff action projecting its central batch): each has its own store and writer
connection, so only SQLite's ``BEGIN IMMEDIATE`` and the cursor check of
``projector.project_pending`` keep them apart. Small chunks make them interleave; every
batch is still projected exactly once and the ledger is the fold of the log."""

import threading

import pytest

from schema.wire import ProjectedRec
from server.services import open_context, projector
from server.services.audit import audit
from server.settings import Settings
from server.store import catalog
from server.store import log as logstore
from sync import codec
from tests.server.conftest import CARD_A, CARD_B


@pytest.fixture
def settings(server_dir, clock) -> Settings:
    """Acknowledging only: the test's projectors do the rest, three events a chunk."""
    return Settings(data_dir=server_dir, clock=clock, projection="separate", projection_chunk_events=3)


def test_two_projectors_on_one_file_project_every_batch_once(enrolled, ctx, settings, tmp_path):
    kiosks = [enrolled(1, "S01"), enrolled(2, "S02")]
    with ctx.store.read() as db:
        base = logstore.head(db)  # the demo's own central batches, projected as staff made them
        assert logstore.projected(db) == base
    pushed = 0
    for i in range(12):
        for k in kiosks:
            assert k.push(k.batch(k.award(CARD_A if i % 2 else CARD_B, "ZYFW", 10), k.award(CARD_A, "LLHZ", 5))).status_code == 200
            pushed += 2
    with ctx.store.read() as db:
        assert logstore.projected(db) == base and logstore.head(db) == base + 24  # acknowledged, not projected

    other = open_context(settings)  # a second process's context: its own connections to the file
    try:
        errors: list[BaseException] = []
        done: list[int] = []

        def run(c) -> None:
            try:
                done.append(projector.project_pending(c))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(c,)) for c in (ctx, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert sum(done) == pushed  # between them, each event once
    finally:
        other.close()

    with ctx.store.read() as db:
        assert logstore.projected(db) == logstore.head(db)
        n, distinct = db.sql.execute("SELECT count(*), count(DISTINCT id) FROM events WHERE kiosk != 'C'").fetchone()
        assert n == distinct == pushed
        for k in kiosks:  # each kiosk's confirmation names its last batch
            rec = codec.decode(bytes(catalog.feed_data(db, "projected", k.id)), ProjectedRec)
            assert (rec.seq, rec.log) == (12, base + 24)
    assert projector.rebuild(ctx, tmp_path / "scratch.db").ok
    report = audit(ctx)
    assert report.ok, report.failures
