"""Group commit: concurrent writers share one transaction, and each still succeeds or
fails alone (``Store.write_grouped``)."""

import threading

import pytest

from server.store import catalog, open_store


class Boom(Exception):
    pass


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "server.db")
    yield s
    s.close()


def put(key: str, fail: bool = False):
    def work(db):
        catalog.set_meta_value(db, key, "x")
        if fail:
            raise Boom(key)
        return key

    return work


def test_a_failing_job_is_rolled_back_alone_among_concurrent_ones(store):
    results, errors = {}, {}
    start = threading.Barrier(20)

    def run(i):
        start.wait()
        try:
            results[i] = store.write_grouped(put(f"k{i}", fail=i % 5 == 0))
        except Boom as exc:
            errors[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(errors) == [0, 5, 10, 15]
    assert results == {i: f"k{i}" for i in range(20) if i % 5}
    with store.read() as db:
        keys = {f"k{i}" for i in range(20) if catalog.meta_value(db, f"k{i}") is not None}
    assert keys == {f"k{i}" for i in range(20) if i % 5}


def test_a_result_is_returned_only_once_committed(store, tmp_path):
    assert store.write_grouped(put("one")) == "one"
    other = open_store(tmp_path / "server.db", migrate=False)  # another connection sees it
    try:
        with other.read() as db:
            assert catalog.meta_value(db, "one") == "x"
    finally:
        other.close()
