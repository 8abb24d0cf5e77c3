"""Suite 1, simulation: seeded runs of kiosks, a server and a hostile network (see
``simulator``). After healing and syncing everyone, every invariant in ``oracle`` holds.
A failure names its seed; ``JIFEN_SEED=n pytest tests/faults/test_simulation.py`` replays it
(on both backends). Every seed runs on SQLite; on PostgreSQL the first seed, every seed
with JIFEN_LONG=1."""

import shutil

import pytest

from tests.faults.backends import ServerDb
from tests.faults.conftest import LONG, on_both, seeds
from tests.faults.simulator import run

STEPS = 2000 if LONG else 500
SEEDS = seeds(short=4, long=40)


@pytest.mark.parametrize(("backend", "seed"), on_both(SEEDS, pg=lambda seed: seed == SEEDS[0]), indirect=["backend"])
def test_every_confirmed_event_lands_once_and_everyone_agrees(seed, tmp_path, server_db):
    problems, sim = run(seed, tmp_path / "kiosks", server_db, STEPS)
    print(f"seed {seed} on {server_db.backend}: {dict(sim.net.stats)}; {sum(len(k.confirmed) for k in sim.kiosks)} events confirmed")
    assert not problems, f"seed {seed} on {server_db.backend} (rerun with JIFEN_SEED={seed}):\n" + "\n".join(problems[:30])


def test_a_seed_replays_the_same_run(tmp_path, server_template):
    outcomes = []
    for i in range(2):
        data = tmp_path / f"server{i}"
        shutil.copytree(server_template, data)
        _, sim = run(7, tmp_path / f"kiosks{i}", ServerDb(data), 80)
        outcomes.append((dict(sim.net.stats), [k.confirmed for k in sim.kiosks], sim.log))
    assert outcomes[0] == outcomes[1]
