"""``jifen-server audit`` at the city's scale: real kiosks enrolled through the server's
enrolment use case, 3.2 million events in batches those kiosks signed, stored as the push
path stores them (events, postings and stock moves as ``sync.ledger.derive`` gives them,
caches and chain heads to match), then the whole audit timed: signatures, chains,
effects re-derived from the signed bytes, caches, checkpoints and the staff-side state.
"""

import time
from pathlib import Path

from schema.wire import EnrollRequest, Void
from server.services import open_context
from server.services.audit import audit
from server.services.checkpoint import make_checkpoint
from server.services.enroll import enroll, enroll_code, proof_message
from server.services.staff import SYSTEM
from server.settings import Settings
from sync import codec, kinds
from sync.ledger import Target, derive
from sync.signing import SigningKey

from bench.data import HISTORY_SHOPS, T0, EventMaker, connect_durable, event_row, signed_batches
from bench.harness import Figure, Spread


def audit_figures(sizes, cards: list[str], server_data: Path, work: Path, log, kiosks: int = 100) -> list[Figure]:
    t = time.perf_counter()
    written = write_signed_history(server_data, sizes.board_events, cards, kiosks)
    log(f"  {written:,} events in signed batches of {kiosks} enrolled kiosks written in {time.perf_counter() - t:.1f}s")
    ctx = open_context(Settings(data_dir=server_data))
    try:
        t = time.perf_counter()
        make_checkpoint(ctx)
        sealed = time.perf_counter() - t
        times, report = [], None
        for _ in range(max(1, sizes.repeats - 1)):
            t = time.perf_counter()
            report = audit(ctx)
            times.append(time.perf_counter() - t)
    finally:
        ctx.close()
    s = Spread.of(times)
    log(f"  audit: {s.median:.1f}s over {report.events:,} events, {report.postings:,} postings, "
        f"{len(report.failures)} failures; first checkpoint {sealed:.1f}s")
    return [Figure(name="audit", title=f"jifen-server audit over {report.events:,} events ({report.batches:,} batches, "
                                        f"{report.postings:,} postings)", unit="s", value=s,
                   met=report.ok, notes=f"{len(report.failures)} failures; first checkpoint over it {sealed:.1f}s")]


def enroll_direct(server_data: Path, kiosks: int) -> dict[str, tuple[SigningKey, str]]:
    """Enrol ``kiosks`` kiosks (one per history shop in turn) through the server's enrolment
    use case, each with its own key: {kiosk id: (key, shop)}."""
    ctx = open_context(Settings(data_dir=server_data))
    keys = {}
    try:
        for k in range(kiosks):
            key = SigningKey(bytes([k % 250 + 1, k // 250 + 1]) * 16)
            code = enroll_code(ctx, SYSTEM, HISTORY_SHOPS[k % len(HISTORY_SHOPS)])["code"]
            body = codec.encode(EnrollRequest(v=1, code=code, public_key=key.public_hex, label=f"bench {k}",
                                              proof=key.sign("enroll", proof_message(code, key.public_hex))))
            reply = enroll(ctx, body)
            keys[reply.kiosk] = (key, reply.shop)
    finally:
        ctx.close()
    return keys


def write_signed_history(server_data: Path, n_events: int, cards: list[str], kiosks: int) -> int:
    """Enrol ``kiosks`` kiosks (one per shop in turn) and store ``n_events`` of their signed
    batches as push would have; returns the number of events written."""
    keys = enroll_direct(server_data, kiosks)
    conn = connect_durable(server_data / "server.db")
    per_kiosk = -(-n_events // kiosks)
    days = 1095
    total = 0
    balances: dict[str, int] = {}
    stock: dict[tuple[str, str], int] = {}
    for kiosk, (key, shop) in keys.items():
        maker = EventMaker(kiosk, cards, at=T0 - days * 86_400_000, gap_ms=max(1000, days * 86_400_000 // per_kiosk))
        events = maker.take(per_kiosk)
        targets, voided, void_of = {}, set(), {}
        conn.execute("BEGIN")
        prev_hash, next_kseq = None, 1
        for seq, (body, sig) in enumerate(signed_batches(key, kiosk, events), start=1):
            batch = codec.decode(body, kinds.batch_type())
            evs = list(batch.events)
            posts, moves = derive(evs, kiosk, shop, {e.target: targets[e.target] for e in evs
                                                     if isinstance(e, Void) and e.target in targets}, voided)
            for ev in evs:
                if isinstance(ev, Void):
                    if ev.target in voided and ev.target not in void_of:
                        void_of[ev.target] = ev.id
                    targets[ev.id] = Target(kinds.kind_of(ev).tag, kiosk, (), (), False)
                else:
                    targets[ev.id] = kinds.kind_of(ev).target_of(ev, kiosk, shop)
            prev_hash = codec.digest(body)
            conn.execute("INSERT INTO batches(kiosk, seq, hash, prev, body, signature, status, received_at, applied_at, feed)"
                         " VALUES (?,?,?,?,?,?,'applied',?,?,0)", [kiosk, seq, prev_hash, batch.prev, body, sig, batch.created, batch.created])
            conn.executemany("INSERT INTO events(id, kiosk, batch_seq, kseq, kind, at, received_at, resident, operator, shop, body)"
                             " VALUES (?,?,?,?,?,?,?,?,?,?,?)", [event_row(e, kiosk, seq, batch.created, shop) for e in evs])
            at = {e.id: e.at for e in evs}
            conn.executemany("INSERT INTO postings(event, account, amount, at) VALUES (?,?,?,?)",
                             [(p.event, p.account, p.amount, at[p.event]) for p in posts])
            conn.executemany("INSERT INTO stock_moves(event, shop, sku, delta) VALUES (?,?,?,?)",
                             [(m.event, m.shop, m.sku, m.delta) for m in moves])
            for p in posts:
                balances[p.account] = balances.get(p.account, 0) + p.amount
            for m in moves:
                stock[(m.shop, m.sku)] = stock.get((m.shop, m.sku), 0) + m.delta
            next_kseq = evs[-1].kseq + 1
            total += len(evs)
        conn.executemany("UPDATE events SET voided_by = ? WHERE id = ?", [(v, t) for t, v in void_of.items()])
        conn.execute("UPDATE kiosks SET next_seq = ?, last_hash = ?, next_kseq = ? WHERE id = ?", [seq + 1, prev_hash, next_kseq, kiosk])
        conn.execute("COMMIT")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO balances(account, points) VALUES (?, ?)"
                     " ON CONFLICT(account) DO UPDATE SET points = points + excluded.points", list(balances.items()))
    conn.executemany("INSERT INTO stock(shop, sku, qty) VALUES (?, ?, ?)"
                     " ON CONFLICT(shop, sku) DO UPDATE SET qty = qty + excluded.qty", [(s, k, q) for (s, k), q in stock.items()])
    conn.execute("COMMIT")
    conn.close()
    return total
