"""The one translation table of reports and review evidence: every column header, title,
enumerated value and phrase a person reads in a report or an evidence line, in Chinese
(the default) and English, and how each column's values are written for people.

Machine-readable JSON keeps its keys and raw values; CSV, xlsx, HTML and the CLI's table
take their headers and cell text from here. A column's *type* (``COLUMN_TYPES``) says how
its value reads: ``time`` (UTC ms → Asia/Shanghai local text, or a datetime in xlsx),
``age`` (seconds → "3 天 2 小时"), ``lag`` (ms → the same), ``bool`` (是/否) and
``enum:<table>`` (a word from ``VALUES``); anything else is a number or text as it is.
"""

from datetime import datetime

from sync.calendar import local_dt

LANGS = ("zh", "en")

#: report kind -> (Chinese, English) title
TITLES: dict[str, tuple[str, str]] = {
    "board": ("积分榜", "Monthly points board"),
    "settlement": ("超市结算", "Shop settlement"),
    "issued": ("积分发放与兑换", "Points issued and spent"),
    "trend": ("积分按月走势", "Points by month"),
    "coverage": ("登记覆盖", "Register coverage"),
    "kiosks": ("终端运行状况", "Kiosk fleet health"),
    "goods": ("兑换商品明细", "Goods handed out"),
    "voice": ("书记信箱与村民说事", "Letters and requests"),
}

#: what a report counts, said once for people
DEFINITIONS: dict[str, tuple[str, str]] = {
    "board": ("本月获得的积分：奖励减去扣分（已撤销的不计）；兑换和调整不计入。",
              "points earned in the month: awards minus deductions (voided ones removed); redemptions and corrections do not count"),
    "settlement": ("本月记入超市账户的积分：兑换 − 撤销 − 核销；合计等于账本。",
                   "points posted to the shop's account in the month: redeemed − voided − charged; the total is the ledger's"),
    "trend": ("截至所选月份的十二个月，按月、社区和规则统计。", "the twelve months up to the chosen one, by month, community and rule"),
    "voice": ("本月记录的来信和诉求，按社区和渠道统计：已办结数、从记录到办结的中位时长、评价为四星或五星的比例（占已评价的）。",
              "letters and requests recorded in the month, by community and channel: how many were done, the median time from recording to done, and the share of the rated given 4 or 5 stars"),
}

#: column -> (Chinese, English); ``report.column`` overrides a column in one report
COLUMNS: dict[str, tuple[str, str]] = {
    "community": ("社区编号", "Community"),
    "community_name": ("社区", "Community name"),
    "rank": ("名次", "Rank"),
    "name": ("姓名", "Name"),
    "points": ("积分", "Points"),
    "shop": ("超市编号", "Shop"),
    "shop_name": ("超市", "Shop name"),
    "redemptions": ("兑换笔数", "Redemptions"),
    "redeemed": ("兑换积分", "Redeemed"),
    "voided": ("撤销积分", "Voided"),
    "charged": ("核销积分", "Charged"),
    "other": ("其他", "Other"),
    "total": ("合计", "Total"),
    "goods_qty": ("商品件数", "Goods (items)"),
    "month": ("月份", "Month"),
    "flow": ("类别", "Flow"),
    "rule": ("规则编号", "Rule"),
    "rule_name": ("规则", "Rule name"),
    "events": ("笔数", "Events"),
    "earned": ("获得", "Earned"),
    "deducted": ("扣分", "Deducted"),
    "spent": ("兑换", "Spent"),
    "corrected": ("调整", "Corrected"),
    "street": ("街道", "Street"),
    "residents": ("登记居民", "Residents"),
    "active": ("在册", "Active"),
    "retired": ("已注销", "Retired"),
    "seen_this_month": ("本月到访", "Seen this month"),
    "kiosk": ("终端", "Kiosk"),
    "label": ("终端名称", "Label"),
    "status": ("状态", "Status"),
    "revoked": ("已吊销", "Revoked"),
    # the names of report totals that are no column
    "ranked": ("上榜人数", "Ranked"),
    "kiosks": ("终端数", "Kiosks"),
    "not_ok": ("批次链异常", "Chain not OK"),
    "chain": ("批次链", "Chain"),
    "last_contact_at": ("最后联系", "Last contact"),
    "silent_s": ("未联系时长", "Silent for"),
    "last_push_at": ("最后上传", "Last push"),
    "push_age_s": ("距上次上传", "Since last push"),
    "last_pull_at": ("最后同步", "Last pull"),
    "pull_age_s": ("距上次同步", "Since last pull"),
    "last_batch_lag_ms": ("同步延迟", "Sync lag"),
    "clock_skew_ms": ("时钟偏差(毫秒)", "Clock skew (ms)"),
    "applied_batches": ("已入账批次", "Applied batches"),
    "held_batches": ("待处理批次", "Pending batches"),
    "batches_in_month": ("本月批次", "Batches this month"),
    "quarantined": ("隔离请求", "Quarantined"),
    "forks": ("分叉", "Forks"),
    "open_reviews": ("待审核", "Open reviews"),
    "sku": ("商品编号", "SKU"),
    "channel": ("渠道", "Channel"),
    "received": ("收到", "Received"),
    "handled": ("已办结", "Done"),
    "median_handle_s": ("办结中位时长", "Median time to done"),
    "rated": ("已评价", "Rated"),
    "rated_4_5": ("四星及以上", "Rated 4-5"),
    "share_4_5": ("满意率(%)", "Rated 4-5 (%)"),
    "qty": ("数量", "Quantity"),
    "coverage.name": ("社区", "Community name"),
    "kiosks": ("终端数", "Kiosks"),
    "not_ok": ("批次链异常", "Chain not ok"),
    "ranked": ("上榜人数", "Ranked"),
    "detail.balance_after": ("兑换后余额", "balance after"),
    "detail.recorded": ("记录值", "recorded"),
    "detail.current": ("现行值", "current"),
    "detail.period": ("期间", "period"),
    "detail.count": ("次数", "count"),
    "detail.cap": ("上限", "cap"),
    "detail.qty_after": ("之后库存", "stock after"),
    "detail.skew_ms": ("偏差(毫秒)", "skew (ms)"),
}

COLUMN_TYPES: dict[str, str] = {
    "last_push_at": "time", "last_pull_at": "time", "last_contact_at": "time",
    "silent_s": "age", "push_age_s": "age", "pull_age_s": "age", "last_batch_lag_ms": "lag",
    "revoked": "bool",
    "status": "enum:status", "chain": "enum:chain", "flow": "enum:flow", "channel": "enum:channel",
    "median_handle_s": "age",
}

#: enumerated values: table -> value -> (Chinese, English)
VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "bool": {"True": ("是", "yes"), "False": ("否", "no")},
    "status": {"active": ("在用", "active"), "revoked": ("已吊销", "revoked"), "retired": ("已停用", "retired"),
               "open": ("待处理", "open"), "resolved": ("已处理", "resolved")},
    "channel": {"letter": ("书记信箱", "letter to the secretary"), "request": ("村民说事", "resident's request")},
    "chain": {"ok": ("正常", "ok"), "gap": ("有缺口", "gap"), "fork": ("分叉", "fork")},
    "flow": {"earned": ("获得", "earned"), "deducted": ("扣分", "deducted"), "spent": ("兑换", "spent"),
             "corrected": ("调整", "corrected")},
    "event": {"award": ("奖励", "award"), "redeem": ("兑换", "redemption"), "void": ("撤销", "void"),
              "stock_in": ("入库", "goods received"), "adjust": ("调整", "adjustment"), "charge": ("核销", "charge"),
              "stock_adjust": ("库存调整", "stock correction"),
              "voice": ("来信诉求", "letter or request"), "voice_rating": ("办理评价", "rating"),
              "task_claim": ("认领志愿服务", "volunteer task claimed"), "task_done": ("志愿服务完成", "volunteer task done")},
    "action": {"accept": ("接受", "accept"), "adjust": ("调整积分", "adjust"), "charge-shop": ("由超市承担", "charge the shop"),
               "write-off": ("核销", "write off")},
    "review": {"overdraft": ("透支", "overdraft"), "stock_negative": ("库存为负", "stock below zero"),
               "cap_exceeded": ("超过次数上限", "cap exceeded"), "price_mismatch": ("价格不符", "price mismatch"),
               "rule_value_mismatch": ("分值与规则不符", "points differ from the rule"),
               "retired_reference": ("引用已停用项", "retired reference"), "fork": ("批次链分叉", "chain fork"),
               "clock_skew": ("终端时钟偏差", "kiosk clock wrong"), "gap_held": ("批次缺口久未补齐", "gap held too long"),
               "quarantined": ("请求被隔离", "requests quarantined"),
               "void_unknown_target": ("撤销的记录不存在", "void of an unknown event"),
               "award_value_unknown": ("分值不是规则有过的分值", "points the rule never had"),
               "operator_unknown": ("店员不存在", "unknown operator"), "operator_retired": ("店员已停用", "retired operator"),
               "operator_other_shop": ("其他店铺的店员", "another shop's operator"),
               "void_unauthorised": ("撤销未经主管授权", "void without a supervisor"),
               "voice_rating_refused": ("评价未计入", "rating not counted"),
               "task_refused": ("志愿服务未计入", "volunteer task not counted")},
}

#: phrases of evidence lines, totals and the CLI; ``{}`` fields filled by ``str.format``
PHRASES: dict[str, tuple[str, str]] = {
    "none": ("无", "none"),
    "totals": ("合计", "Totals"),
    "second": ("{n} 秒", "{n} s"),
    "minute": ("{n} 分钟", "{n} min"),
    "hour": ("{h} 小时 {m} 分钟", "{h} h {m} min"),
    "day": ("{d} 天 {h} 小时", "{d} d {h} h"),
    "ev.item": ("审核事项 {id}：{kind}（{status}）", "Review item {id}: {kind} ({status})"),
    "ev.raised": ("提出时间：{at}", "Raised: {at}"),
    "ev.who": ("居民：{name}（卡号 {card}）", "Resident: {name} (card {card})"),
    "ev.where": ("地点：{shop}，终端 {kiosk}「{label}」", "Where: {shop}, kiosk {kiosk} \u201c{label}\u201d"),
    "ev.when": ("发生时间：{at}（服务器收到：{received}）", "When: {at} (received by the server: {received})"),
    "ev.event": ("{at} {kind} {points} 分 — {shop}，终端 {kiosk}，操作员 {operator}{voided}",
                 "{at} {kind} {points} points — {shop}, kiosk {kiosk}, operator {operator}{voided}"),
    "ev.voided": ("（已撤销）", " (voided)"),
    "ev.goods": ("{name} × {qty}", "{name} × {qty}"),
    "ev.balance": ("余额：之前 {before} 分，之后 {after} 分", "Balance: {before} points before, {after} after"),
    "ev.balance_now": ("当前余额：{now} 分", "Balance now: {now} points"),
    "ev.detail": ("详情：{text}", "Detail: {text}"),
    "ev.resolution": ("处理：{action}，{staff}，{at}，备注：{note}", "Resolution: {action} by {staff} at {at}, note: {note}"),
    "ev.pending": ("待第二人批准：{action} {points} 分（{staff} 提出）", "Awaiting a second person: {action} of {points} points (proposed by {staff})"),
}


def lang_of(lang: str | None) -> int:
    """The column of a (Chinese, English) pair for ``lang``; anything but ``en`` is Chinese."""
    return 1 if lang == "en" else 0


def word(table: str, value, lang: str = "zh") -> str:
    """An enumerated value in ``lang``; an unknown value stays as it is."""
    pair = VALUES.get(table, {}).get(str(value))
    return pair[lang_of(lang)] if pair else str(value)


def phrase(key: str, lang: str = "zh", **fields) -> str:
    return PHRASES[key][lang_of(lang)].format(**fields)


def title(kind: str, lang: str = "zh") -> str:
    return TITLES.get(kind, (kind, kind))[lang_of(lang)]


def header(kind: str, column: str, lang: str = "zh") -> str:
    pair = COLUMNS.get(f"{kind}.{column}") or COLUMNS.get(column)
    return pair[lang_of(lang)] if pair else column


def headers(kind: str, columns: list[str], lang: str = "zh") -> dict[str, str]:
    return {c: header(kind, c, lang) for c in columns}


def local_text(ms: int | None, lang: str = "zh") -> str:
    """A stored UTC time as people write it in Asia/Shanghai: ``2026年12月1日 14:05``."""
    if ms is None:
        return ""
    dt = local_dt(ms)
    return f"{dt.year}年{dt.month}月{dt.day}日 {dt:%H:%M}" if lang_of(lang) == 0 else f"{dt:%Y-%m-%d %H:%M}"


def local_naive(ms: int) -> datetime:
    """The Asia/Shanghai wall time of ``ms`` without a zone: what a spreadsheet cell holds."""
    return local_dt(ms).replace(tzinfo=None)


def duration(seconds: int | None, lang: str = "zh") -> str:
    if seconds is None:
        return ""
    s = max(int(seconds), 0)
    if s < 60:
        return phrase("second", lang, n=s)
    if s < 3600:
        return phrase("minute", lang, n=s // 60)
    if s < 86_400:
        return phrase("hour", lang, h=s // 3600, m=s % 3600 // 60)
    return phrase("day", lang, d=s // 86_400, h=s % 86_400 // 3600)


def cell(kind: str, column: str, value, lang: str = "zh", typed: bool = False):
    """One value as a person reads it. ``typed`` (xlsx): numbers stay numbers and times
    become datetimes; otherwise everything is text (None is empty)."""
    if value is None:
        return None if typed else ""
    t = COLUMN_TYPES.get(column, "")
    if t == "time":
        return local_naive(value) if typed else local_text(value, lang)
    if t == "age":
        return duration(value, lang)
    if t == "lag":
        return duration(value // 1000, lang)
    if t == "bool" or isinstance(value, bool):
        return word("bool", bool(value), lang)
    if t.startswith("enum:"):
        return word(t[5:], value, lang)
    if typed and isinstance(value, int | float):
        return value
    return str(value)


#: why a register row (or a resident edit) is refused: code -> (Chinese, English), fields by ``str.format``
REFUSALS: dict[str, tuple[str, str]] = {
    "bad_card": ("卡号须为 4-32 位字母或数字", "card must be 4-32 letters or digits"),
    "bad_name": ("姓名须为 1-100 个字", "name must be 1-100 characters"),
    "name_characters": ("姓名第 {pos} 个字符 U+{code} 是控制字符、方向控制符或不可见字符", "name holds {kind} U+{code} at character {pos}"),
    "bad_phone": ("手机须为 7-15 位数字", "phone must be 7-15 digits"),
    "bad_status": ("状态须为在册或注销（active / retired）", "status must be active or retired"),
    "no_community": ("社区 {community} 不存在", "community {community} does not exist"),
    "not_your_community": ("社区 {community} 不归您管理", "community {community} is not yours to manage"),
    "card_elsewhere": ("居民 {card} 不存在", "resident {card} does not exist"),  # the answer a read gives: never that it exists elsewhere
    "duplicate": ("卡号 {card} 已出现在第 {line} 行", "card {card} already appears on line {line}"),
    "extra_values": ("数值比表头的列多", "more values than header columns"),
    "field_too_long": ("有一项超过 {limit} 个字", "a value is longer than {limit} characters"),
}


def refusal(code: str, fields: dict | None = None, lang: str = "zh") -> str:
    return REFUSALS[code][lang_of(lang)].format(**(fields or {}))
