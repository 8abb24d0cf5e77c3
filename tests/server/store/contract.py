"""The server store's contract: what every backend must do, written against the store's
interface (``Store.read()`` / ``write()`` / ``write_grouped()`` / ``write_keyed()`` and the query functions of
``server.store``), never against its SQL.

``StoreContract`` is not collected itself: a backend's test module subclasses it and
provides a ``store`` fixture (a fresh, migrated, empty store), ``another_store`` (a second
store on the same database, as a second server process opens it) and ``integrity_error`` (what
its driver raises when a key is taken twice). ``test_sqlite_store.py`` runs it on SQLite;
a PostgreSQL backend runs the same tests by providing its own fixture.
"""

import json
import threading
import time

import pytest

from schema.types import CENTRAL_KIOSK, GENESIS
from server.store import catalog, chain, checkpoints, ledger, log
from server.store import staff as staffq
from sync.ledger import Posting, StockMove

T = 1_767_225_600_000


def seed_places(db) -> None:
    """One community with a shop, two residents and an enrolled kiosk K0001."""
    catalog.insert_row(db, "communities", {"id": "C1", "name": "East", "street": "S"})
    catalog.insert_row(db, "shops", {"id": "S1", "name": "Shop", "community": "C1", "kind": "shop"})
    for card in ("R1", "R2"):
        catalog.insert_row(db, "residents", {"card": card, "name": "N" + card, "phone": "13800000000",
                                              "community": "C1", "status": "active"})
    chain.insert_kiosk(db, "K0001", "S1", "till", "aa" * 32, T)


def event_row(eid: str, kseq: int, kind: str = "award", resident: str | None = "R1", at: int = T, body: dict | None = None,
              kiosk: str = "K0001", batch_seq: int = 1) -> dict:
    return {"id": eid, "kiosk": kiosk, "batch_seq": batch_seq, "kseq": kseq, "kind": kind, "at": at, "received_at": at + 5,
            "resident": resident, "operator": "op1", "shop": "S1",
            "body": json.dumps(body if body is not None else {"id": eid, "rule": "tidy"}).encode()}


def store_batch(db, seq: int, kiosk: str = "K0001", status: str = "applied") -> None:
    chain.insert_batch(db, kiosk, seq, f"h{seq}", f"h{seq - 1}", b"body%d" % seq, "sig", status, T + seq)


class StoreContract:
    integrity_error: type[BaseException] = Exception

    # ------------------------------------------------------------ transactions

    def test_a_write_commits_on_exit_and_reads_see_it(self, store):
        with store.write() as db:
            catalog.set_meta_value(db, "k", "v")
        with store.read() as db:
            assert catalog.meta_value(db, "k") == "v"

    def test_a_write_that_raises_keeps_nothing(self, store):
        with pytest.raises(RuntimeError), store.write() as db:
            catalog.set_meta_value(db, "k", "v")
            raise RuntimeError("boom")
        with store.read() as db:
            assert catalog.meta_value(db, "k") is None

    def test_a_grouped_job_that_raises_is_rolled_back_alone(self, store):
        def good(db):
            catalog.set_meta_value(db, "good", "1")
            return "done"

        def bad(db):
            catalog.set_meta_value(db, "bad", "1")
            raise ValueError("no")

        assert store.write_grouped(good) == "done"
        with pytest.raises(ValueError):
            store.write_grouped(bad)
        with store.read() as db:
            assert (catalog.meta_value(db, "good"), catalog.meta_value(db, "bad")) == ("1", None)

    def test_a_read_inside_a_write_sees_the_write(self, store):
        with store.write() as db:
            catalog.set_meta_value(db, "k", "mine")
            with store.read() as inner:
                assert catalog.meta_value(inner, "k") == "mine"

    # ------------------------------------------------------------ meta

    def test_meta_values_are_absent_set_and_overwritten(self, store):
        with store.write() as db:
            assert catalog.meta_value(db, "watch_seen") is None
            catalog.set_meta_value(db, "watch_seen", "3")
            catalog.set_meta_value(db, "watch_seen", "7")
        with store.read() as db:
            assert catalog.meta_value(db, "watch_seen") == "7"

    def test_schema_version_is_recorded(self, store):
        assert store.schema_version() > 0

    # ------------------------------------------------------------ reference rows

    def test_rows_are_inserted_updated_listed_and_matched(self, store):
        with store.write() as db:
            seed_places(db)
            catalog.update_row(db, "residents", {"card": "R2", "name": "Renamed", "phone": "13911112222",
                                                 "community": "C1", "status": "retired"})
        with store.read() as db:
            assert catalog.row_by_key(db, "residents", "R2")["name"] == "Renamed"
            assert catalog.row_by_key(db, "residents", "R9") is None
            assert [r["card"] for r in catalog.list_rows(db, "residents")] == ["R1", "R2"]
            assert catalog.resident_statuses(db, ["R1", "R2", "R9"]) == {"R1": "active", "R2": "retired"}
            assert [r["card"] for r in catalog.residents_matching(db, "R1", None, 10)] == ["R2"]
            assert catalog.residents_matching(db, "", ["C9"], 10) == []
            assert [r["card"] for r in catalog.residents_matching(db, "", ["C1"], 1)] == ["R1"]
            assert catalog.existing_keys(db, "shops") == {"S1"}

    def test_insert_missing_leaves_existing_rows_alone(self, store):
        with store.write() as db:
            seed_places(db)
            rows = [{"card": "R1", "name": "Other", "phone": "1", "community": "C1", "status": "active"},
                    {"card": "R3", "name": "New", "phone": "1", "community": "C1", "status": "active"}]
            assert catalog.insert_missing(db, "residents", rows) == 1
        with store.read() as db:
            assert catalog.row_by_key(db, "residents", "R1")["name"] == "NR1"

    # ------------------------------------------------------------ kiosks and chain state

    def test_a_new_kiosk_starts_at_genesis(self, store):
        with store.write() as db:
            seed_places(db)
        with store.read() as db:
            k = chain.kiosk_by_id(db, "K0001")
            assert (k["next_seq"], k["last_hash"], k["next_kseq"], k["status"]) == (1, GENESIS, 1, "active")
            assert chain.kiosk_by_public_key(db, "aa" * 32)["id"] == "K0001"
            assert chain.next_kiosk_id(db) == "K0002"
            assert chain.key_history(db, "K0001") == [(1, "aa" * 32)]

    def test_chain_state_advances_and_keys_rotate(self, store):
        with store.write() as db:
            seed_places(db)
            chain.advance_kiosk_chain(db, "K0001", 3, "h2", 11, T + 9)
            chain.set_kiosk_key(db, "K0001", "bb" * 32, 3, T + 10)
        with store.read() as db:
            k = chain.kiosk_by_id(db, "K0001")
            assert (k["next_seq"], k["last_hash"], k["next_kseq"], k["last_push_at"]) == (3, "h2", 11, T + 9)
            assert k["public_key"] == "bb" * 32
            assert chain.key_history(db, "K0001") == [(1, "aa" * 32), (3, "bb" * 32)]
            assert chain.key_known(db, "aa" * 32) == "K0001"
            assert chain.with_keys(db, k)["keys"] == [(1, "aa" * 32), (3, "bb" * 32)]

    def test_pull_and_status_are_recorded_on_the_kiosk(self, store):
        with store.write() as db:
            seed_places(db)
            chain.record_pull(db, "K0001", T + 1, -250)
            chain.set_kiosk_status(db, "K0001", "revoked")
        with store.read() as db:
            k = chain.kiosk_by_id(db, "K0001")
            assert (k["last_pull_at"], k["clock_skew_ms"], k["status"]) == (T + 1, -250, "revoked")

    def test_an_enrol_code_is_used_once_recorded(self, store):
        with store.write() as db:
            seed_places(db)
            chain.insert_enroll_code(db, "c0de", "S1", T, T + 60_000)
            chain.use_enroll_code(db, "c0de", T + 1, "K0001")
        with store.read() as db:
            code = chain.enroll_code_by_hash(db, "c0de")
            assert (code["shop"], code["used_at"], code["kiosk"]) == ("S1", T + 1, "K0001")
            assert chain.enroll_code_by_hash(db, "other") is None

    # ------------------------------------------------------------ batches

    def test_a_batch_is_stored_and_looked_up(self, store):
        with store.write() as db:
            seed_places(db)
            store_batch(db, 1)
            store_batch(db, 2, status="held")
        with store.read() as db:
            b = chain.batch_at(db, "K0001", 1)
            assert (bytes(b["body"]), b["status"], b["hash"], b["prev"]) == (b"body1", "applied", "h1", "h0")
            assert chain.batch_at(db, "K0001", 3) is None
            assert chain.max_stored_seq(db, "K0001") == 2
            assert checkpoints.stored_batch(db, "K0001", 2) == (b"body2", "held")
            assert [(r["kiosk"], r["seq"]) for r in chain.batches_in_order(db)] == [("K0001", 1), ("K0001", 2)]

    def test_a_duplicate_batch_is_refused_and_the_first_kept(self, store):
        with store.write() as db:
            seed_places(db)
            store_batch(db, 1)
        with pytest.raises(self.integrity_error), store.write() as db:
            chain.insert_batch(db, "K0001", 1, "other", "h0", b"other", "sig", "applied", T)
        with store.read() as db:
            assert bytes(chain.batch_at(db, "K0001", 1)["body"]) == b"body1"

    def test_two_stores_on_one_database_write_one_at_a_time(self, store, another_store):
        """Two server processes on one database: a write that checks for a batch and stores
        it is not interleaved with the other process's, so the second finds the first's
        batch instead of storing it again (the (kiosk, seq) key is never what decides)."""
        with store.write() as db:
            seed_places(db)
        checked, found = threading.Event(), []

        def first():
            with store.write() as db:
                assert chain.batch_at(db, "K0001", 1) is None
                checked.set()
                time.sleep(0.3)  # the other store's write starts meanwhile, and must wait
                store_batch(db, 1)

        def second():
            checked.wait(10)
            with another_store.write() as db:
                found.append(chain.batch_at(db, "K0001", 1))
                if found[-1] is None:
                    store_batch(db, 1)

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert found and found[0] is not None and bytes(found[0]["body"]) == b"body1"

    def test_two_stores_write_one_kiosks_keyed_writes_one_at_a_time(self, store, another_store):
        """``write_keyed``: two processes pushing the same kiosk's batch at once — the second
        keyed write of that kiosk starts after the first's commit, finds its batch and stores
        nothing (on PostgreSQL the kiosk's chain lock; on SQLite the one writer)."""
        with store.write() as db:
            seed_places(db)
        checked, found = threading.Event(), []

        def place(db):
            assert chain.batch_at(db, "K0001", 1) is None
            checked.set()
            time.sleep(0.3)  # the other store's keyed write starts meanwhile, and must wait
            store_batch(db, 1)
            return "stored"

        def again(db):
            found.append(chain.batch_at(db, "K0001", 1))
            if found[-1] is None:
                store_batch(db, 1)

        results = []
        threads = [threading.Thread(target=lambda: results.append(store.write_keyed("K0001", place))),
                   threading.Thread(target=lambda: (checked.wait(10), another_store.write_keyed("K0001", again)))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert results == ["stored"]
        assert found and found[0] is not None and bytes(found[0]["body"]) == b"body1"

    def test_a_keyed_job_that_raises_is_rolled_back_alone(self, store):
        with store.write() as db:
            seed_places(db)

        def bad(db):
            store_batch(db, 2)
            raise ValueError("refused")

        assert store.write_keyed("K0001", lambda db: store_batch(db, 1) or "done") == "done"
        with pytest.raises(ValueError):
            store.write_keyed("K0001", bad)
        with store.read() as db:
            assert chain.batch_at(db, "K0001", 1) is not None and chain.batch_at(db, "K0001", 2) is None

    def test_a_lone_store_is_granted_the_projector_lease_round_after_round(self, store):
        """The projector's lease (``Store.projector_lease``) is held for a round and given
        back: with no other process projecting, every round gets it."""
        for _ in range(2):
            with store.projector_lease("ledger") as held:
                assert held
            with store.projector_lease("ledger", wait=1.0) as held:
                assert held

    def test_a_held_batch_is_applied_or_deleted(self, store):
        with store.write() as db:
            seed_places(db)
            store_batch(db, 1, status="held")
            store_batch(db, 2, status="held")
            chain.mark_batch_applied(db, "K0001", 1, T + 50)
            chain.delete_held_batch(db, "K0001", 1)  # applied: stays
            chain.delete_held_batch(db, "K0001", 2)
        with store.read() as db:
            b = chain.batch_at(db, "K0001", 1)
            assert (b["status"], b["applied_at"]) == ("applied", T + 50)
            assert chain.batch_at(db, "K0001", 2) is None

    def test_held_gaps_name_kiosks_waiting_too_long(self, store):
        with store.write() as db:
            seed_places(db)
            store_batch(db, 3, status="held")
            store_batch(db, 4, status="held")
        with store.read() as db:
            assert chain.held_gaps(db, T + 3) == [("K0001", 3, 2, T + 3, 1, "S1")]
            assert chain.held_gaps(db, T + 2) == []

    def test_the_central_chain_head_follows_its_batches_and_events(self, store):
        with store.write() as db:
            assert chain.central_head(db) == (1, GENESIS, 1)
            chain.insert_batch(db, CENTRAL_KIOSK, 1, "c1", GENESIS, b"{}", "sig", "applied", T)
            ledger.insert_events(db, [event_row("C-1", 1, kind="adjust", kiosk=CENTRAL_KIOSK)])
        with store.read() as db:
            assert chain.central_head(db) == (2, "c1", 2)

    # ------------------------------------------------------------ quarantine

    def test_quarantined_requests_are_kept_grouped_and_summarised(self, store):
        with store.write() as db:
            seed_places(db)
            first = chain.insert_quarantine(db, "K0001", T, "bad_signature", "first", b"xyz", "sig", {"h": "1"})
            chain.insert_quarantine(db, "K0001", T + 1, "bad_signature", "second", b"x", None, {})
            chain.insert_quarantine(db, "K0001", T + 2, "fork", "forks raise their own item", b"x", None, {})
        with store.read() as db:
            assert [r["code"] for r in chain.quarantine_rows(db, "K0001")] == ["bad_signature", "bad_signature", "fork"]
            assert chain.quarantine_summary(db, first) == {"id": first, "kiosk": "K0001", "received_at": T,
                                                          "code": "bad_signature", "message": "first", "size": 3}
            assert chain.quarantine_groups_after(db, 0) == [("K0001", "bad_signature", first, first + 1, 2, T, "S1")]
            assert chain.quarantine_groups_after(db, first + 1) == []
            assert chain.quarantine_message(db, first + 1) == "second"

    # ------------------------------------------------------------ events, postings, balances

    def test_events_are_stored_found_and_voided(self, store):
        with store.write() as db:
            seed_places(db)
            store_batch(db, 1)
            ledger.insert_events(db, [event_row("K0001-1", 1), event_row("K0001-2", 2, kind="void", body={"target": "K0001-1"})])
            ledger.insert_postings(db, [Posting("K0001-1", "resident:R1", 10), Posting("K0001-1", "programme:issued", -10)],
                                   {"K0001-1": T})
            ledger.mark_voided(db, "K0001-1", "K0001-2")
            ledger.mark_voided(db, "K0001-1", "K0001-9")  # voided once: the first void stands
        with store.read() as db:
            assert ledger.known_event_ids(db, ["K0001-1", "K0001-7"]) == {"K0001-1"}
            assert {r["id"] for r in ledger.events_by_id(db, ["K0001-1", "K0001-2", "nope"])} == {"K0001-1", "K0001-2"}
            target = ledger.void_targets(db, ["K0001-1"])["K0001-1"]
            assert (target.kind, target.kiosk, target.voided) == ("award", "K0001", True)
            assert target.postings == (("resident:R1", 10), ("programme:issued", -10))
            assert ledger.events_by_id(db, ["K0001-1"])[0]["voided_by"] == "K0001-2"

    def test_lookups_by_many_keys_cross_the_chunk_size(self, store):
        ids = [f"K0001-{i}" for i in range(1, 1202)]
        with store.write() as db:
            seed_places(db)
            store_batch(db, 1)
            ledger.insert_events(db, [event_row(eid, i) for i, eid in enumerate(ids, start=1)])
        with store.read() as db:
            assert ledger.known_event_ids(db, [*ids, "K0001-0"]) == set(ids)
            assert len(ledger.events_by_id(db, ids)) == len(ids)

    def test_a_residents_events_between_two_times(self, store):
        with store.write() as db:
            seed_places(db)
            store_batch(db, 1)
            ledger.insert_events(db, [
                event_row("K0001-1", 1, at=T, body={"rule": "tidy"}),
                event_row("K0001-2", 2, at=T + 10, body={"rule": "quiet"}),
                event_row("K0001-3", 3, at=T + 20, kind="redeem", body={"items": []}),
                event_row("K0001-4", 4, at=T + 30, resident="R2"),
            ])
        with store.read() as db:
            assert [e["id"] for e in ledger.resident_events_between(db, "R1", T, T + 20, 10)] == ["K0001-1", "K0001-2", "K0001-3"]
            assert [e["id"] for e in ledger.resident_events_between(db, "R1", T, T + 20, 2)] == ["K0001-1", "K0001-2"]
            assert [e["id"] for e in ledger.resident_events_between(db, "R1", T, T + 30, 10, kind_and_rule=("award", "quiet"))] == ["K0001-2"]

    def test_balances_are_the_fold_of_the_postings(self, store):
        postings = [Posting("K0001-1", "resident:R1", 10), Posting("K0001-1", "programme:issued", -10),
                    Posting("K0001-2", "resident:R1", -4), Posting("K0001-2", "shop:S1", 4)]
        with store.write() as db:
            seed_places(db)
            store_batch(db, 1)
            ledger.insert_events(db, [event_row("K0001-1", 1), event_row("K0001-2", 2, kind="redeem", at=T + 1)])
            ledger.insert_postings(db, postings[:2], {"K0001-1": T})
            ledger.insert_postings(db, postings[2:], {"K0001-2": T + 1})
        with store.read() as db:
            fold: dict[str, int] = {}
            for p in ledger.all_postings(db):
                fold[p.account] = fold.get(p.account, 0) + p.amount
            assert list(ledger.all_postings(db)) == postings
            assert ledger.balance_cache(db) == fold == {"resident:R1": 6, "programme:issued": -10, "shop:S1": 4}
            assert ledger.balances_of(db, ["resident:R1", "resident:R2"]) == {"resident:R1": 6}
            assert ledger.account_total(db, "resident:R1") == 6
            assert ledger.account_total(db, "resident:R2") == 0
            assert ledger.unbalanced_events(db) == []
            assert [(r["event"], r["amount"]) for r in ledger.recent_postings(db, "resident:R1", 1)] == [("K0001-2", -4)]
            assert ledger.event_ids_by_batch(db) == {("K0001", 1): ["K0001-1", "K0001-2"]}

    def test_an_unbalanced_event_is_found(self, store):
        with store.write() as db:
            seed_places(db)
            store_batch(db, 1)
            ledger.insert_events(db, [event_row("K0001-1", 1)])
            ledger.insert_postings(db, [Posting("K0001-1", "resident:R1", 10)], {"K0001-1": T})
        with store.read() as db:
            assert [tuple(r) for r in ledger.unbalanced_events(db)] == [("K0001-1", 10)]

    def test_stock_is_the_fold_of_the_stock_moves(self, store):
        with store.write() as db:
            seed_places(db)
            store_batch(db, 1)
            ledger.insert_events(db, [event_row("K0001-1", 1, kind="stock"), event_row("K0001-2", 2, kind="redeem")])
            ledger.insert_stock_moves(db, [StockMove("K0001-1", "S1", "soap", 10), StockMove("K0001-1", "S1", "rice", 3)])
            ledger.insert_stock_moves(db, [StockMove("K0001-2", "S1", "soap", -2)])
        with store.read() as db:
            assert ledger.stock_cache(db) == ledger.stock_fold(db) == {("S1", "soap"): 8, ("S1", "rice"): 3}
            assert ledger.stock_of(db, [("S1", "soap"), ("S1", "tea")]) == {("S1", "soap"): 8}
            assert checkpoints.batch_effects(db, "K0001", 1)[1] == [("K0001-1", "S1", "soap", 10), ("K0001-1", "S1", "rice", 3),
                                                                   ("K0001-2", "S1", "soap", -2)]

    def test_award_counts_are_set_and_read_back(self, store):
        keys = [("R1", "tidy", f"d{i}") for i in range(700)]
        with store.write() as db:
            ledger.set_award_counts(db, {k: 1 for k in keys})
            ledger.set_award_counts(db, {keys[0]: 3})
        with store.read() as db:
            got = ledger.award_counts_of(db, [*keys, ("R2", "tidy", "d0")])
            assert len(got) == 700 and got[keys[0]] == 3 and got[keys[1]] == 1

    # ------------------------------------------------------------ the pull feed

    def test_the_feed_moves_a_row_only_when_its_bytes_change(self, store):
        with store.write() as db:
            assert catalog.feed_high_water(db) == 0
            assert catalog.put_feed(db, "good", "soap", "", b"v1") is True
            assert catalog.put_feed(db, "good", "soap", "", b"v1") is False
            assert catalog.put_feed(db, "good", "rice", "", b"r1") is True
            assert catalog.put_feed(db, "good", "soap", "", b"v2") is True
        with store.read() as db:
            assert catalog.feed_data(db, "good", "soap") == b"v2"
            assert catalog.feed_data(db, "good", "tea") is None
            assert [(k, key, seq) for k, key, seq, _ in catalog.changes_since(db, 0, "S1", 10)] == [("good", "rice", 2), ("good", "soap", 3)]
            assert catalog.feed_high_water(db) == 3

    def test_changes_since_is_in_seq_order_after_the_cursor_and_scoped(self, store):
        with store.write() as db:
            catalog.put_feed(db, "operator", "op1", "S1", b"1")
            catalog.put_feed(db, "operator", "op2", "S2", b"2")
            catalog.put_feed(db, "rule", "tidy", "", b"3")
            assert catalog.put_feed_many(db, "good", [("a", "", b"4"), ("b", "", b"5")]) == 2
        with store.read() as db:
            rows = catalog.changes_since(db, 0, "S1", 100)
            seqs = [r[2] for r in rows]
            assert seqs == sorted(seqs)
            assert ("operator", "op2") not in [(r[0], r[1]) for r in rows]
            assert [(r[0], r[1]) for r in rows][:2] == [("operator", "op1"), ("rule", "tidy")]
            assert catalog.changes_since(db, seqs[-1], "S1", 100) == []
            assert len(catalog.changes_since(db, 0, "S1", 2)) == 2
            assert [r[2] for r in catalog.changes_since(db, seqs[0], "S1", 100)] == seqs[1:]

    def test_put_feed_many_keeps_unchanged_rows_in_place(self, store):
        with store.write() as db:
            catalog.put_feed_many(db, "resident", [("R1", "", b"1"), ("R2", "", b"2")])
            assert catalog.put_feed_many(db, "resident", [("R1", "", b"1"), ("R2", "", b"2b")]) == 1
        with store.read() as db:
            assert [(r[1], r[2]) for r in catalog.changes_since(db, 0, "", 10)] == [("R1", 1), ("R2", 3)]

    def test_a_row_changing_scope_leaves_a_deletion_row_below_it(self, store):
        with store.write() as db:
            catalog.put_feed(db, "board", "SQ3/2026-01", "county:A", b"b1")
            catalog.put_feed(db, "rule", "tidy", "", b"r")
            assert catalog.put_feed_many(db, "board", [("SQ3/2026-01", "county:B", b"b1")]) == 1
            assert catalog.put_left(db, "resident", [("R1", "S1")]) == 1
            catalog.touch_feed(db, "rule", ["tidy"])
            assert catalog.feed_high_water(db) == 6
        with store.read() as db:  # the deletion row reaches county A's kiosks, the row county B's
            assert catalog.changes_since(db, 0, "S1", 10, county="A") == [
                ("board", "SQ3/2026-01", 3, None), ("resident", "R1", 5, None), ("rule", "tidy", 6, b"r")]
            assert catalog.changes_since(db, 0, "S2", 10, county="B") == [("board", "SQ3/2026-01", 4, b"b1"), ("rule", "tidy", 6, b"r")]
            assert catalog.changes_since(db, 3, "S1", 1, county="A") == [("resident", "R1", 5, None)]
            assert catalog.feed_keys_in(db, "board", "county:B") == ["SQ3/2026-01"]
        with store.write() as db:  # back again: the deletion row under B moves up, the row above it
            catalog.put_feed(db, "board", "SQ3/2026-01", "county:A", b"b1")
        with store.read() as db:
            assert [r[1:] for r in catalog.changes_since(db, 6, "S1", 10, county="A")] == [("SQ3/2026-01", 8, b"b1")]
            assert [r[1:] for r in catalog.changes_since(db, 6, "S2", 10, county="B")] == [("SQ3/2026-01", 7, None)]

    # ------------------------------------------------------------ review items

    def test_review_items_are_listed_and_resolved_once(self, store):
        with store.write() as db:
            seed_places(db)
            first = ledger.insert_review(db, "overdraft", T, "K0001", "K0001-1", "R1", "S1", {"balance": -5})
            second = ledger.insert_review(db, "clock_skew", T + 1, "K0001", None, None, "S1", {"skew_ms": 9})
            assert ledger.review_exists_since(db, "K0001", "clock_skew", T)
            assert not ledger.review_exists_since(db, "K0001", "clock_skew", T + 2)
        with store.write() as db:
            assert staffq.close_review(db, first) is True
            assert staffq.close_review(db, first) is False
            staffq.insert_resolution(db, first, "write-off", "alice", T + 5, "why", 5, "C-1")
        with pytest.raises(self.integrity_error), store.write() as db:
            staffq.insert_resolution(db, first, "accept", "bob", T + 6, "again", None, None)
        with store.read() as db:
            assert [i["id"] for i in ledger.list_reviews(db)] == [first, second]
            assert [i["id"] for i in ledger.list_reviews(db, open_only=True)] == [second]
            item = staffq.review_by_id(db, first)
            assert (item["status"], item["detail"], item["resident"]) == ("resolved", {"balance": -5}, "R1")
            done = staffq.resolution_of(db, first)
            assert (done["staff"], done["action"], done["points"], done["event"]) == ("alice", "write-off", 5, "C-1")
            assert staffq.resolution_of(db, second) is None
            assert staffq.review_by_id(db, 999) is None

    # ------------------------------------------------------------ staff, tokens, audit

    def test_staff_accounts_and_their_communities(self, store):
        with store.write() as db:
            seed_places(db)
            catalog.insert_row(db, "communities", {"id": "C2", "name": "West", "street": "S"})
            staffq.insert_staff(db, "alice", "community_manager", "hash1", T, ["C2", "C1"])
            staffq.insert_staff(db, "admin", "admin", "hash0", T, [])
            staffq.set_password_hash(db, "alice", "hash2")
            staffq.set_staff_status(db, "admin", "disabled")
        with store.read() as db:
            alice = staffq.staff_by_name(db, "alice")
            assert (alice["role"], alice["password_hash"], alice["communities"]) == ("community_manager", "hash2", ["C1", "C2"])
            assert staffq.staff_by_name(db, "nobody") is None
            assert [(s["username"], s["status"]) for s in staffq.list_staff(db)] == [("admin", "disabled"), ("alice", "active")]
            assert staffq.staff_count(db) == 2

    def test_a_token_is_revoked_once(self, store):
        with store.write() as db:
            staffq.insert_staff(db, "alice", "admin", "h", T, [])
            staffq.insert_token(db, "t1", "alice", T, T + 1000)
            staffq.insert_token(db, "t2", "alice", T, T + 1000)
            assert staffq.revoke_token(db, "t1", T + 1) == 1
            assert staffq.revoke_token(db, "t1", T + 2) == 0
            assert staffq.revoke_tokens_of(db, "alice", T + 3) == 1
        with store.read() as db:
            assert staffq.token_by_hash(db, "t1")["revoked_at"] == T + 1
            assert staffq.token_by_hash(db, "t2")["revoked_at"] == T + 3
            assert staffq.token_by_hash(db, "t3") is None

    def test_audit_rows_are_appended_and_filtered(self, store):
        with store.write() as db:
            a = staffq.append_audit(db, T, "alice", "resident_put", "R1", {"outcome": "added"})
            b = staffq.append_audit(db, T + 1, "bob", "kiosk_revoke", "K0001", {"was": "active"})
            staffq.append_audit(db, T + 2, "alice", "kiosk_revoke", "K0002", {})
        with store.read() as db:
            assert [r["id"] for r in staffq.audit_rows(db)] == [a, b, b + 1]
            assert staffq.audit_rows(db, staff="alice", action="resident_put")[0]["detail"] == {"outcome": "added"}
            assert [r["subject"] for r in staffq.audit_rows(db, action="kiosk_revoke")] == ["K0001", "K0002"]
            assert [r["id"] for r in staffq.audit_rows(db, since_id=a, limit=1)] == [b]

    def test_rule_changes_wait_until_due(self, store):
        with store.write() as db:
            now = staffq.insert_rule_change(db, "tidy", T, {"points": 3}, "alice", T)
            later = staffq.insert_rule_change(db, "tidy", T + 100, {"points": 4}, "alice", T)
            assert [c["id"] for c in staffq.due_rule_changes(db, T)] == [now]
            staffq.mark_rule_change_applied(db, now, T)
            assert staffq.due_rule_changes(db, T + 100)[0]["fields"] == {"points": 4}
        with store.read() as db:
            assert [c["id"] for c in staffq.rule_changes_of(db, "tidy")] == [now, later]

    # ------------------------------------------------------------ checkpoints

    def test_the_checkpoint_log_grows_over_applied_batches(self, store):
        with store.write() as db:
            seed_places(db)
            store_batch(db, 1)
            store_batch(db, 2)
            store_batch(db, 3, status="held")
            positions = [log.append(db, "K0001", seq, T) for seq in (1, 2)]
            assert checkpoints.unlogged_batches(db) == []  # acknowledged, not yet projected: not sealed yet
            assert log.mark_projected(db, positions) == 2 and log.mark_projected(db, positions) == 0
            assert checkpoints.log_head(db) == (0, GENESIS)
            assert [tuple(r) for r in checkpoints.unlogged_batches(db)] == [("K0001", 1, "h1"), ("K0001", 2, "h2")]
            checkpoints.append_log(db, 1, "K0001", 1, "leaf1", "head1")
        with store.read() as db:
            assert checkpoints.log_head(db) == (1, "head1")
            assert [tuple(r) for r in checkpoints.unlogged_batches(db, 5)] == [("K0001", 2, "h2")]
            assert [tuple(r) for r in checkpoints.log_rows(db)] == [(1, "K0001", 1, "leaf1", "head1")]

    def test_signed_checkpoints_are_kept_in_order(self, store):
        with store.write() as db:
            assert checkpoints.latest_checkpoint(db) is None
            checkpoints.insert_checkpoint(db, 1, 4, "head4", T, b"note1", "sig1")
            checkpoints.insert_checkpoint(db, 2, 9, "head9", T + 1, b"note2", "sig2")
        with store.read() as db:
            latest = checkpoints.latest_checkpoint(db)
            assert (latest["n"], latest["size"], latest["head"], bytes(latest["body"])) == (2, 9, "head9", b"note2")
            assert [c["n"] for c in checkpoints.all_checkpoints(db)] == [1, 2]
