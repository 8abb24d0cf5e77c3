"""The register import as central staff use it: a CSV from Chinese spreadsheet software
(GBK/GB18030 or UTF-8, Chinese headers), previewed with line numbers and reasons, then
committed exactly as previewed, all or nothing; nothing stored garbled."""

import re

import pytest

from server.cli import main
from server.errors import Conflict, Invalid
from server.services import register
from server.services.manage import put_resident
from server.services.staff import SYSTEM
from server.store import catalog
from tests.server.helpers import table_count
from tests.server.staff.conftest import SQ01_CARD

ZH_REGISTER = (
    "卡号,姓名,手机,社区\r\n"
    "5106810199101,欧阳娜娜,13811112222,SQ01\r\n"
    "5106810199102,𠮷野家,138-1111-3333,SQ01\r\n"  # a GB18030-only character (not in GBK)
    "BAD!,张三,13811114444,SQ01\r\n"
    f"{SQ01_CARD},改名者,13900000000,SQ01\r\n"
)


def resident(ctx, card):
    with ctx.store.read() as db:
        return catalog.row_by_key(db, "residents", card)


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8", "utf-8-sig"])
def test_preview_then_commit_in_any_encoding_spreadsheets_write(ctx, encoding):
    content = ZH_REGISTER.encode(encoding)
    before = resident(ctx, SQ01_CARD)
    pre = register.preview(ctx, SYSTEM, content)
    assert pre["encoding"] == ("gb18030" if encoding == "gb18030" else "utf-8")
    assert pre["counts"] == {"added": 2, "changed": 1, "unchanged": 0, "refused": 1}
    assert [(r["line"], r["name"]) for r in pre["added"]] == [(2, "欧阳娜娜"), (3, "𠮷野家")]
    assert pre["added"][1]["phone"] == "13811113333"
    (changed,) = pre["changed"]
    assert changed["line"] == 5 and changed["before"]["name"] == before["name"] and changed["after"]["name"] == "改名者"
    (refused,) = pre["refused"]
    assert (refused["line"], refused["code"], refused["reason"]) == (4, "bad_card", "卡号须为 4-32 位字母或数字")
    assert resident(ctx, "5106810199101") is None and resident(ctx, SQ01_CARD) == before  # a preview changes nothing
    out = register.commit(ctx, SYSTEM, content, pre["token"])
    assert (out["added"], out["updated"], len(out["refused"])) == (2, 1, 1)
    assert resident(ctx, "5106810199101")["name"] == "欧阳娜娜" and resident(ctx, "5106810199102")["name"] == "𠮷野家"
    assert resident(ctx, SQ01_CARD)["name"] == "改名者"


def test_english_headers_and_reasons(ctx):
    pre = register.preview(ctx, SYSTEM, b"Card,Name,Phone\n5106810199103,Li Na,1381111\nBAD!,x,1\n", "SQ02", lang="en")
    assert pre["counts"]["added"] == 1 and pre["refused"][0]["reason"] == "card must be 4-32 letters or digits"


def test_commit_refuses_when_anything_changed_since_the_preview(ctx):
    content = ZH_REGISTER.encode("gb18030")
    pre = register.preview(ctx, SYSTEM, content)
    put_resident(ctx, SYSTEM, SQ01_CARD, "别人改了", "13700000000", "SQ01")  # someone edits a resident the file changes
    n = table_count(ctx, "residents")
    with pytest.raises(Conflict, match="changed since the preview"):
        register.commit(ctx, SYSTEM, content, pre["token"])
    assert table_count(ctx, "residents") == n and resident(ctx, "5106810199101") is None  # nothing half-imported
    other = ZH_REGISTER.replace("欧阳娜娜", "欧阳娜").encode("gb18030")  # a different file under the old token
    with pytest.raises(Conflict):
        register.commit(ctx, SYSTEM, other, pre["token"])
    with pytest.raises(Conflict):
        register.commit(ctx, SYSTEM, content, register.preview(ctx, SYSTEM, content, community="SQ01")["token"], "SQ02")


def test_a_failure_mid_commit_applies_nothing(ctx, settings):
    import sqlite3

    content = ZH_REGISTER.encode("utf-8")
    pre = register.preview(ctx, SYSTEM, content)
    conn = sqlite3.connect(settings.db_path)  # the second resident's insert fails, as a crash would
    conn.execute("CREATE TRIGGER no_second BEFORE INSERT ON residents WHEN NEW.card = '5106810199102' "
                 "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    conn.commit()
    with pytest.raises(sqlite3.IntegrityError):
        register.commit(ctx, SYSTEM, content, pre["token"])
    conn.execute("DROP TRIGGER no_second")
    conn.commit()
    conn.close()
    assert resident(ctx, "5106810199101") is None and resident(ctx, SQ01_CARD)["name"] != "改名者"


@pytest.mark.parametrize("content, words", [
    (b"\xff\xfec\x00a\x00r\x00d\x00", "UTF-16"),  # Excel's "Unicode text"
    (b"c\x00a\x00r\x00d\x00,\x00", "U+0000"),  # UTF-16 without its mark: NULs
    (b"card,name,phone,community\n5106810199104,\x81\x30,13811112222,SQ01\n", "neither UTF-8 nor GBK"),  # truncated GB18030
    ("card,name,phone,community\n5106810199104,\ue000王,13811112222,SQ01\n".encode(), "U+E000"),  # private use
    ("card,name,phone,community\n5106810199104,王\ufffd,13811112222,SQ01\n".encode(), "U+FFFD"),
    (b"", "empty"),
])
def test_text_that_does_not_decode_cleanly_is_refused_whole(ctx, content, words):
    n = table_count(ctx, "residents")
    with pytest.raises(Invalid, match=re.escape(words)):
        register.preview(ctx, SYSTEM, content)
    with pytest.raises(Invalid):
        register.import_residents(ctx, SYSTEM, content)
    assert table_count(ctx, "residents") == n


def test_gbk_over_the_api_is_stored_right_not_garbled(client, login, ctx):
    h = login("admin")
    content = "卡号,姓名,手机,社区\n5106810199105,诸葛亮,13811112222,SQ03\n".encode("gbk")
    resp = client.post("/api/residents/import", content=content, headers=h)
    assert resp.status_code == 200, resp.text
    assert resident(ctx, "5106810199105")["name"] == "诸葛亮"


def test_api_preview_and_commit_with_a_multipart_upload(client, login, ctx):
    h = login("admin")
    content = ZH_REGISTER.encode("gb18030")
    pre = client.post("/api/residents/import/preview", files={"file": ("名册.csv", content, "text/csv")}, headers=h)
    assert pre.status_code == 200, pre.text
    body = pre.json()
    assert body["counts"]["added"] == 2 and body["refused"][0]["line"] == 4 and "卡号" in body["refused"][0]["reason"]
    bad = client.post(f"/api/residents/import/commit?token={'0' * 64}", content=content, headers=h)
    assert bad.status_code == 409 and resident(ctx, "5106810199101") is None
    ok = client.post(f"/api/residents/import/commit?token={body['token']}", files={"file": ("名册.csv", content)}, headers=h)
    assert ok.status_code == 200 and ok.json()["added"] == 2
    assert resident(ctx, "5106810199102")["name"] == "𠮷野家"
    assert client.post(f"/api/residents/import/commit?token={body['token']}", content=content, headers=h).status_code == 409


def test_too_large_files_and_fields_are_a_clear_4xx(client, login, ctx):
    h = login("admin")
    long_field = b"card,name,phone,community\n5106810199106," + b"x" * 1000 + b",13811112222,SQ01\n5106810199109,x,13811112222,SQ01\n"
    resp = client.post("/api/residents/import/preview", content=long_field, headers=h)
    assert resp.status_code == 200 and resp.json()["refused"][0]["code"] == "field_too_long"
    huge_field = b"card,name,phone,community\n5106810199106," + b"x" * 200_000 + b",13811112222,SQ01\n"
    for path in ("/api/residents/import/preview", "/api/residents/import"):
        resp = client.post(path, content=huge_field, headers=h)
        assert resp.status_code == 422 and "line 2 holds a value longer than 200" in resp.json()["error"]["message"], resp.text
    assert resident(ctx, "5106810199106") is None
    too_big = b"card,name,phone,community\n" + b"5106810199107,x,13811112222,SQ01\n" * 70_000
    resp = client.post("/api/residents/import/preview", content=too_big, headers=h)
    assert resp.status_code == 422 and "at most" in resp.json()["error"]["message"]


def test_cli_preview_then_commit(settings, ctx, tmp_path, capsys):
    f = tmp_path / "名册.csv"
    f.write_bytes(ZH_REGISTER.encode("gb18030"))
    data = ["--data", str(settings.data_dir)]
    assert main(["residents", "import", str(f), "--preview", *data]) == 0
    out = capsys.readouterr().out
    assert "+ line 2" in out and "! line 4" in out and "卡号须为" in out and "2 to add, 1 to change" in out
    token = out.split("--commit ")[1].split()[0]
    assert resident(ctx, "5106810199101") is None
    assert main(["residents", "import", str(f), "--commit", "f" * 64, *data]) == 3
    assert main(["residents", "import", str(f), "--commit", token, *data]) == 0
    assert "2 added, 1 updated" in capsys.readouterr().out
    assert resident(ctx, "5106810199101")["name"] == "欧阳娜娜"
