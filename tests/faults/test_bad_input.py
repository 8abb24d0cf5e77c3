"""Suite 3, bad input: whatever arrives — random bytes, truncated or huge bodies, deep
nesting, wrong types, unicode edge cases, absurd numbers, duplicate ids, duplicate keys —
validly signed by an enrolled kiosk where that matters, the answer is a signed, clear 4xx
(never a 500, never a hang), and the ledger is unchanged: only quarantine may grow.

Part one is hypothesis over the push and pull bodies; part two is schemathesis over the
server's own OpenAPI schema (Litestar's), with the request bodies described by the wire
structs' JSON schemas so that generated cases reach past the body parser.
"""

import json

import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schema.types import GENESIS
from schema.wire import Batch, EnrollRequest, PullRequest
from server.app import create_app
from server.services.audit import audit
from server.services.enroll import enroll_code
from server.services.staff import SYSTEM
from server.settings import Settings
from sync import codec
from sync.protocol import HEADER_KIOSK, HEADER_SIGNATURE, MAX_BATCH_EVENTS, MAX_BODY_BYTES
from tests.conftest import T0
from tests.faults.conftest import LONG
from tests.server.helpers import ledger_snapshot as _ledger_snapshot
from tests.server.kiosk_double import KioskDouble, verified

CARD = "5106810100001"
EXAMPLES = 1500 if LONG else 150
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture
def api(app_server):
    return app_server.client


@pytest.fixture
def kiosk(api, clock) -> KioskDouble:
    k = KioskDouble(api, 9, clock)
    assert k.enroll(enroll_code(api.app.state.ctx, SYSTEM, "S01")["code"]).status_code == 200
    return k


def ledger_snapshot(ctx) -> tuple:
    """Everything an applied batch would change; a fork's tamper alert is the one review
    item a refusal may add (it is what PROTOCOL.md promises)."""
    snap = list(_ledger_snapshot(ctx))
    snap[5] = [r for r in snap[5] if r[1] != "fork"]
    return tuple(snap)


def assert_clean_refusal(api, resp, before) -> None:
    """A signed 4xx in the one error shape, and nothing but quarantine changed."""
    ctx = api.app.state.ctx
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.content[:300])
    body = msgspec.json.decode(verified(resp, ctx.key.public_hex))
    assert set(body) == {"error", "request", "v"} and body["error"]["code"], body
    assert ledger_snapshot(ctx) == before


def assert_accepted_whole(api, resp) -> None:
    """A batch that stayed valid is applied (or held for a gap) whole, and audit agrees."""
    assert resp.status_code in (200, 202), resp.content[:300]
    assert msgspec.json.decode(resp.content)["status"] in ("applied", "held", "duplicate")
    report = audit(api.app.state.ctx)
    assert report.ok, report.failures


def encodable(batch: dict) -> bytes | None:
    try:
        return msgspec.json.encode(batch)
    except (UnicodeEncodeError, msgspec.EncodeError, OverflowError):
        return None  # not JSON at all (a lone surrogate, an int past 64 bits): random bytes cover it


def push_signed(k: KioskDouble, body: bytes):
    return k.push(body, k.key.sign("batch", body))


def valid_batch(k: KioskDouble) -> dict:
    """A batch the server would apply, as a dict to break."""
    ev = {"at": T0, "id": f"{k.id}-1", "kseq": 1, "note": "垃圾分类", "operator": "op1", "points": 2,
          "resident": CARD, "rule": "LJFL", "type": "award"}
    return {"created": T0, "events": [ev], "kiosk": k.id, "prev": GENESIS, "seq": 1, "v": 1}


# ---------------------------------------------------------------- hypothesis: bodies

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
edge_text = st.sampled_from(["", "\x00", "\ud800", "\u202e", "\ufeff", "😀" * 600, "a" * 501, "张*明", "\\", '"']) | st.text(max_size=40)
edge_numbers = st.sampled_from([-1, 0, 2**31, 2**53, 2**53 + 1, 2**63, 2**64, -(2**63) - 1, 10**30]) | st.integers()


@given(data=st.binary(max_size=2000))
@FUZZ
def test_random_bytes_signed_by_a_real_kiosk_are_refused(api, kiosk, data):
    before = ledger_snapshot(api.app.state.ctx)
    assert_clean_refusal(api, push_signed(kiosk, data), before)


@given(cut=st.integers(min_value=0, max_value=400))
@FUZZ
def test_truncated_batches_are_refused(api, kiosk, cut):
    body = codec.encode(valid_batch(kiosk))
    before = ledger_snapshot(api.app.state.ctx)
    assert_clean_refusal(api, push_signed(kiosk, body[: min(cut, len(body) - 1)]), before)


@given(path=st.lists(st.sampled_from(["created", "events", "kiosk", "prev", "seq", "v", "0", "at", "id", "kseq", "note",
                                      "operator", "points", "resident", "rule", "type", "extra"]), min_size=1, max_size=3),
       value=json_values | edge_text | edge_numbers)
@FUZZ
def test_a_batch_with_one_field_broken_is_refused_or_applied_whole(api, kiosk, path, value):
    batch = valid_batch(kiosk)
    node = batch
    for key in path[:-1]:
        nxt = node[0] if isinstance(node, list) and node else (node.get(key) if isinstance(node, dict) else None)
        if not isinstance(nxt, (dict, list)):
            break
        node = nxt
    if isinstance(node, list):
        node = node[0]
    node[path[-1]] = value
    body = encodable(batch)
    if body is None:
        return
    before = ledger_snapshot(api.app.state.ctx)
    resp = push_signed(kiosk, body)
    if resp.status_code < 300:  # the change kept it valid (another note, a later seq): taken whole
        assert_accepted_whole(api, resp)
        return
    assert_clean_refusal(api, resp, before)


@given(text=edge_text, points=edge_numbers)
@FUZZ
def test_unicode_and_number_edges_are_refused_or_applied_whole(api, kiosk, text, points):
    batch = valid_batch(kiosk)
    batch["events"][0]["note"] = text
    batch["events"][0]["points"] = points
    body = encodable(batch)
    if body is None:
        return
    before = ledger_snapshot(api.app.state.ctx)
    resp = push_signed(kiosk, body)
    if resp.status_code < 300:
        assert 0 <= points <= 1_000_000 and len(text) <= 500
        assert_accepted_whole(api, resp)
        return
    assert_clean_refusal(api, resp, before)


def test_duplicate_event_ids_inside_one_batch_are_refused(api, kiosk):
    batch = valid_batch(kiosk)
    batch["events"].append(dict(batch["events"][0]))
    before = ledger_snapshot(api.app.state.ctx)
    resp = push_signed(kiosk, codec.encode(batch))
    assert_clean_refusal(api, resp, before)
    assert resp.json()["error"]["code"] == "invalid_batch"


@pytest.mark.parametrize("edit", [
    (b'"points":2', b'"points":2000,"points":2'),  # which one counts? it depends on the reader
    (b'"seq":1', b'"seq":1,"seq":1'),
    (b'{"created"', b'{ "created"'),
    (b'"note":"\xe5\x9e\x83', b'"note":"\\u5783'),
])
def test_a_batch_not_in_canonical_form_is_refused(api, kiosk, edit):
    """Found by this suite: a signed batch with a duplicate key was applied, though two
    JSON readers can disagree about what it says (msgspec keeps the last value)."""
    body = codec.encode(valid_batch(kiosk))
    assert edit[0] in body
    body = body.replace(*edit, 1)
    before = ledger_snapshot(api.app.state.ctx)
    resp = push_signed(kiosk, body)
    assert_clean_refusal(api, resp, before)
    assert resp.json()["error"]["code"] == "malformed_request"


@pytest.mark.parametrize("depth", [100, 10_000, 1_000_000])
def test_deep_nesting_is_refused_without_a_crash(api, kiosk, depth):
    body = b"[" * depth + b"]" * depth
    before = ledger_snapshot(api.app.state.ctx)
    assert_clean_refusal(api, push_signed(kiosk, body), before)
    nested = valid_batch(kiosk)
    nested["events"][0]["note"] = json.loads("[" * 100 + "]" * 100)
    assert_clean_refusal(api, push_signed(kiosk, msgspec.json.encode(nested)), before)


def test_a_body_over_the_limit_is_refused_before_it_is_read_whole(api, kiosk):
    body = b" " * (MAX_BODY_BYTES + 1)
    before = ledger_snapshot(api.app.state.ctx)
    resp = push_signed(kiosk, body)
    assert_clean_refusal(api, resp, before)
    assert resp.json()["error"]["code"] == "body_too_large"


def test_too_many_events_is_refused(api, kiosk):
    batch = valid_batch(kiosk)
    ev = batch["events"][0]
    batch["events"] = [dict(ev, id=f"{kiosk.id}-{i}", kseq=i) for i in range(1, MAX_BATCH_EVENTS + 2)]
    before = ledger_snapshot(api.app.state.ctx)
    resp = push_signed(kiosk, codec.encode(batch))
    assert_clean_refusal(api, resp, before)
    assert resp.json()["error"]["code"] == "batch_too_large"


@given(data=st.binary(max_size=500) | json_values.map(msgspec.json.encode))
@FUZZ
def test_garbage_pulls_and_enrolments_are_refused(api, kiosk, data):
    before = ledger_snapshot(api.app.state.ctx)
    pull = api.post("/v1/pull", content=data, headers={HEADER_KIOSK: kiosk.id, HEADER_SIGNATURE: kiosk.key.sign("pull", data)})
    assert_clean_refusal(api, pull, before)
    assert_clean_refusal(api, api.post("/v1/enroll", content=data), before)


# ---------------------------------------------------------------- schemathesis: the OpenAPI schema


def _schema_with_bodies() -> dict:
    """Litestar's schema of the app, with each kiosk endpoint's body and headers described
    (the handlers read raw bytes, so Litestar cannot see their shape)."""
    import tempfile

    raw = create_app(Settings(data_dir=tempfile.mkdtemp())).openapi_schema.to_schema()
    _, components = msgspec.json.schema_components([EnrollRequest, Batch, PullRequest], ref_template="#/components/schemas/{name}")
    raw.setdefault("components", {}).setdefault("schemas", {}).update(components)
    types = {"/v1/enroll": EnrollRequest, "/v1/push": Batch, "/v1/pull": PullRequest}
    for path, type_ in types.items():
        op = raw["paths"][path]["post"]
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{type_.__name__}"}}}}
        if path != "/v1/enroll":
            op["parameters"] = [{"name": h, "in": "header", "required": False, "schema": {"type": "string"}} for h in (HEADER_KIOSK, HEADER_SIGNATURE)]
    return raw


SCHEMA = schemathesis.openapi.from_dict(_schema_with_bodies())


OPERATIONS = [(path, method.upper()) for path, ops in SCHEMA.raw_schema["paths"].items() for method in ops
              if method in ("get", "post", "put", "patch", "delete")]


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_schemathesis_cases_get_clear_answers(api, kiosk, path, method):
    """Every operation the app publishes, kiosk-facing or staff-facing: no 5xx, and a
    refusal changes nothing."""
    op = SCHEMA[path][method]
    ctx = api.app.state.ctx
    seen: list[int] = []

    @given(case=op.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case):
        kw = case.as_transport_kwargs(base_url="http://testserver.local")
        body = b"" if kw.get("json") is None and "data" not in kw else (kw.get("data") or msgspec.json.encode(kw.get("json")))
        if isinstance(body, str):
            body = body.encode()
        headers = {k: v for k, v in kw["headers"].items() if k.lower() not in ("content-length", "connection", "accept-encoding")}
        try:
            [h.encode("latin-1") for h in headers.values()]
        except UnicodeEncodeError:
            return  # not sendable over HTTP at all
        if path in ("/v1/push", "/v1/pull") and len(body) % 2 == 0:
            # half the cases come from the enrolled kiosk, signed properly
            headers[HEADER_KIOSK] = kiosk.id
            headers[HEADER_SIGNATURE] = kiosk.key.sign("batch" if path == "/v1/push" else "pull", body)
        before = ledger_snapshot(ctx)
        url = kw["url"].removeprefix("http://testserver.local")
        resp = api.request(kw["method"], url, params=kw.get("params"), content=body or None, headers=headers)
        seen.append(resp.status_code)
        assert resp.status_code < 500, (resp.status_code, resp.content[:300], url, body[:300])
        if path.startswith("/v1/"):
            verified(resp, ctx.key.public_hex)
            if resp.status_code >= 400:
                assert_clean_refusal(api, resp, before)
        elif resp.status_code >= 400:
            assert ledger_snapshot(ctx) == before

    check()
    assert seen
