"""Review evidence written for a person: who (name and card), which shop and kiosk by name,
when in local time, which events with kinds and points, the balance before and after — the
same lines from the use case, the API and ``jifen-server review show``, in zh or en."""

from server.cli import main
from server.reports.labels import local_text
from server.services.review import describe_item, resolve
from server.services.staff import SYSTEM
from server.store import catalog, ledger
from sync.ledger import resident_account
from tests.server.staff.conftest import SQ01_CARD


def test_an_overdraft_reads_as_a_story(ctx, items):
    out = describe_item(ctx, SYSTEM, items["SQ01"])
    item, text = out["item"], "\n".join(out["lines"])
    with ctx.store.read() as db:
        name = catalog.row_by_key(db, "residents", SQ01_CARD)["name"]
        shop = catalog.row_by_key(db, "shops", "S01")["name"]
        towel = catalog.row_by_key(db, "goods", "TOWEL")["name"]
        balance = ledger.account_total(db, resident_account(SQ01_CARD))
    subject = next(e for e in item["evidence"]["events"] if e["id"] == item["event"])
    assert out["lines"][0] == f"审核事项 {items['SQ01']}：透支（待处理）"
    assert f"居民：{name}（卡号 {SQ01_CARD}）" in text
    assert f"地点：{shop}，终端 {items['k1'].id}「test kiosk」" in text
    assert f"发生时间：{local_text(subject['at'])}" in text and "年" in local_text(subject["at"])
    total = subject["body"]["total"]
    assert f"兑换 {-total:+d} 分 — {shop}，终端 {items['k1'].id}" in text and f"{towel} × " in text
    assert f"余额：之前 {balance + total} 分，之后 {balance} 分" in text  # the only event since: before + (−total) = now
    assert "{" not in text and "False" not in text and str(subject["at"]) not in text


def test_english_and_the_resolution(ctx, items):
    resolve(ctx, SYSTEM, items["SQ01"], "accept", "居民已补交")
    lines = describe_item(ctx, SYSTEM, items["SQ01"], "en")["lines"]
    assert lines[0] == f"Review item {items['SQ01']}: overdraft (resolved)"
    assert any(ln.startswith("Resolution: accept by system at ") and ln.endswith("note: 居民已补交") for ln in lines)
    assert lines[1].startswith("Raised: 20") and any(ln.startswith("Balance: ") and ln.endswith(" after") for ln in lines)
    assert any(ln.startswith("Where: ") and f"kiosk {items['k1'].id}" in ln for ln in lines)


def test_api_and_cli_give_the_same_lines(client, login, settings, items, capsys):
    api = client.get(f"/api/reviews/{items['SQ01']}/evidence", headers=login("reconciler"))
    assert api.status_code == 200
    assert main(["review", "show", str(items["SQ01"]), "--data", str(settings.data_dir)]) == 0
    assert capsys.readouterr().out.splitlines() == api.json()["lines"]
    assert client.get(f"/api/reviews/{items['SQ02']}/evidence", headers=login("community_manager")).status_code == 403
