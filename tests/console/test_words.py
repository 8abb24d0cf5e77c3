"""The console's words: every key a template or page names is in the one table, in both
languages; times are written as people write them; a resident search is index seeks."""

import re
from pathlib import Path

from server.console import i18n
from server.console.web import error_text
from server.errors import Conflict, Forbidden, Invalid, LedgerBehind, NotFound, SignInLocked
from sync import humantime
from sync.calendar import parse_local

CONSOLE = Path(__file__).resolve().parents[2] / "server" / "console"


def test_every_key_the_console_names_is_in_the_table_in_both_languages():
    text = "".join(p.read_text(encoding="utf-8") for p in [*CONSOLE.rglob("*.html"), *CONSOLE.rglob("*.py")])
    named = set(re.findall(r"""\bt\(\s*['"]([a-z][a-z0-9_]*)['"]\s*[,)]""", text))
    named |= set(re.findall(r"""NavItem\(\s*['"]([a-z_]+)['"]""", text))
    assert named, "found no keys"
    missing = sorted(k for k in named if not i18n.has(k))
    assert not missing, f"keys the console names but the table lacks: {missing}"
    for key, entry in i18n.TABLE.items():
        assert set(entry) == set(i18n.LANGS), key
        assert entry["zh"] and entry["en"], key


def test_every_value_a_key_is_built_from_has_its_words():
    """Keys built from a value (``'kind_' ~ item.kind``): every value the product has."""
    from server.services import review
    from server.services.staff import ROLES
    from sync import kinds

    families = {
        "kind_": {"overdraft", "cap_exceeded", "rule_value_mismatch", "price_mismatch", "retired_reference",
                  "stock_negative", "clock_skew", "fork", "gap_held", "quarantined", "void_unknown_target",
                  "award_value_unknown", "operator_unknown", "operator_retired", "operator_other_shop", "void_unauthorised", "voice_rating_refused"},
        "action_": set(review.ACTIONS), "role_": set(ROLES), "status_": {"active", "retired", "revoked"},
        "rev_state_": {"open", "resolved", "pending"}, "against_": {"shop", "writeoff"}, "ev_": set(kinds.tags()),
    }
    missing = sorted(p + v for p, values in families.items() for v in values if not i18n.has(p + v))
    assert not missing, missing


#: what Chinese office staff say and read as written: file formats and encodings named as
#: their software names them, and the PIN printed on an operator's card
NAMES = re.compile(r"\b(CSV|Excel|UTF|GBK|PIN)\b")


def test_chinese_words_carry_no_english():
    latin = re.compile(r"[A-Za-z]{3,}")
    for key, entry in i18n.TABLE.items():
        if key != "switch_lang":
            words = NAMES.sub("", re.sub(r"\{[a-z_]+\}", "", entry["zh"]))
            assert not latin.search(words), (key, entry["zh"])


def test_refusals_are_written_from_their_code_never_their_english_message():
    for exc in (Forbidden("cm1 may not review.charge"), NotFound("resident", "5106810200001"),
                Conflict("review item 3 is already resolved", review=3, by="rex", state="resolved"),
                Invalid("a note of 1-500 characters says why", field="note"), SignInLocked("user", 61_000),
                LedgerBehind("charge-shop", 3, 5.0)):
        zh = error_text(exc, "zh")
        assert exc.message not in zh and not re.search(r"[A-Za-z]{4,}", zh.replace("rex", "")), zh
    assert error_text(NotFound("resident", "51"), "zh") == "居民 51 不存在"
    assert error_text(Conflict("x", review=3, by="rex", state="resolved"), "zh") == "审核事项 3 已由 rex 处理，你的处理没有生效"
    assert error_text(SignInLocked("user", 61_000), "zh") == "登录失败次数太多，请 62 秒后再试"
    assert error_text(LedgerBehind("write-off", 3, 5.0), "zh") == "中心账本还在入账，落后 3 批记录，这次处理没有生效，请稍后再试"
    assert error_text(NotFound("resident", "51"), "en") == "Resident 51 does not exist"


def test_times_are_written_in_shanghai_as_people_write_them():
    at = parse_local("2026-12-01 14:05")
    assert humantime.written(at, "zh") == "2026年12月1日 14:05"
    assert humantime.written(at, "en") == "1 Dec 2026 14:05"
    assert humantime.written(None) == "—"
    assert humantime.ago(at, at + 3 * 86_400_000 + 5_000, "zh") == "3 天前"
    assert humantime.ago(at, at + 86_400_000, "en") == "1 day ago"
    assert humantime.ago(at, at + 2 * 3_600_000, "en") == "2 hours ago"
    assert humantime.ago(at, at + 30_000, "zh") == "刚刚"
    assert humantime.ago(None, at, "zh") == "从未"
    assert humantime.month_written("2026-01", "zh") == "2026年1月"


def test_a_resident_search_is_index_seeks_not_scans(server_dir):
    from server.services import open_context
    from server.settings import Settings
    from server.store import catalog

    ctx = open_context(Settings(data_dir=server_dir))
    try:
        with ctx.store.read() as db:
            plans = []
            real = db.sql.query

            def explained(sql, params=()):
                plans.extend(r[3] for r in db.sql.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall())
                return real(sql, params)

            db.sql.query = explained
            for text in ("张", "zw", "5106810100001", "2819"):
                catalog.residents_found(db, text, ["SQ01"], 50)
    finally:
        ctx.close()
    assert plans and not [p for p in plans if p.startswith("SCAN")], plans
    assert {"residents_name", "residents_initials", "residents_phone_tail"} <= {w for p in plans for w in p.split()}
