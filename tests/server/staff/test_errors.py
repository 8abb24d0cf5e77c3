"""The server's error tree (server/errors.py) is true to the code: every staff code is
documented, answers in the one error shape, and the kiosk protocol's table keeps only
what kiosks act on."""

import re
from pathlib import Path

import pytest

from server import errors
from server.errors import STAFF_ERRORS, NotFound, StaffError
from sync.protocol import ERRORS, ProtocolError

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("code", sorted(STAFF_ERRORS))
def test_every_staff_error_code_is_documented(code):
    status, action, _ = STAFF_ERRORS[code]
    assert re.search(rf"\| `{code}` \| {status} \| {action} \| Staff API only", DOC), f"{code} missing from docs/PROTOCOL.md § 5"


def test_staff_codes_are_not_in_the_kiosk_protocol_table():
    assert not {"unauthorized", "forbidden", "conflict", "invalid_input"} & set(ERRORS)


def test_every_error_class_in_the_module_is_drawn_in_its_tree():
    tree = errors.__doc__
    classes = [n for n, v in vars(errors).items() if isinstance(v, type) and issubclass(v, Exception) and v.__module__ == errors.__name__]
    assert classes and all(re.search(rf"\b{n}\b", tree) for n in classes), classes


def test_each_staff_error_uses_the_staff_table():
    for cls in StaffError.__subclasses__():
        assert cls.table is STAFF_ERRORS, cls
    with pytest.raises(ValueError):
        StaffError("fork", "a kiosk code is not a staff code")
    with pytest.raises(ValueError):
        ProtocolError("forbidden", "a staff code is not a kiosk code")


def test_not_found_names_what_and_key():
    exc = NotFound("review item", 7)
    assert (exc.status, exc.code, exc.detail, exc.message) == (404, "not_found", {"review_item": 7}, "review item 7 does not exist")


def test_an_unknown_shop_is_one_not_found_over_http(client, login):
    resp = client.post("/api/enroll-codes", json={"shop": "S99"}, headers=login("admin"))
    body = resp.json()["error"]
    assert resp.status_code == 404
    assert (body["code"], body["action"], body["detail"]) == ("not_found", "fix_request", {"shop": "S99"})
    assert "S99" in body["message"]
