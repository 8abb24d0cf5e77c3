"""The public pages' one translation table: every word a resident reads on them, in
Chinese (the default: residents' language) and English, and the errors they can meet.

Keys are stable identifiers; messages use ``str.format`` fields. The languages, the
cookie's choice and the lookup are the console's (``server.console.i18n``): a missing
field shows as ``{name}`` and an unknown key shows itself, so a page never turns into a
traceback."""

from server.console.i18n import DEFAULT_LANG, LANGS, message, resolve_lang

__all__ = ["DEFAULT_LANG", "LANGS", "TABLE", "has", "resolve_lang", "t"]

TABLE: dict[str, dict[str, str]] = {
    # ---- shell
    "site_name": {"zh": "积分公示", "en": "Points board"},
    "site_tagline": {"zh": "社区文明积分 · 按月评比 · 张榜公示", "en": "Community good-conduct points, ranked monthly, published"},
    "switch_lang": {"zh": "English", "en": "中文"},
    "home": {"zh": "公示首页", "en": "All boards"},
    # ---- index
    "index_title": {"zh": "各社区积分榜", "en": "Community boards"},
    "index_intro": {"zh": "选择社区和月份，查看当月积分排名。姓名已隐去中间的字，括号内是积分卡号的后四位。",
                    "en": "Pick a community and a month to see its ranking. Names are masked; the brackets hold the last four of the card number."},
    "index_none": {"zh": "还没有公示任何积分榜。", "en": "No board has been published yet."},
    "col_community": {"zh": "社区", "en": "Community"},
    "col_months": {"zh": "已公示月份", "en": "Published months"},
    # ---- one board
    "board_title": {"zh": "{community}{month}积分榜", "en": "{community} board, {month}"},
    "board_facts": {"zh": "共 {ranked} 人上榜，公示前 {shown} 名 · 公示时间 {published}",
                    "en": "{ranked} residents ranked, top {shown} shown · published {published}"},
    "board_empty": {"zh": "本月还没有居民得分。", "en": "No resident earned points this month."},
    "board_rule": {"zh": "按当月获得的积分排名（加分减去扣分，兑换不计），同分同名次。",
                   "en": "Ranked by points earned in the month (awards less deductions; redemptions do not count); equal points share a rank."},
    "col_rank": {"zh": "名次", "en": "Rank"},
    "col_name": {"zh": "姓名（卡号后四位）", "en": "Name (card's last four)"},
    "col_points": {"zh": "当月积分", "en": "Points"},
    "other_months": {"zh": "其他月份", "en": "Other months"},
    "print_hint": {"zh": "用浏览器的“打印”可打印成 A4 张贴。", "en": "Use the browser's Print to post it on A4."},
    # ---- errors
    "error_title": {"zh": "无法显示", "en": "Cannot show this"},
    "err_no_board": {"zh": "{community}{month}的积分榜还没有公示。", "en": "The {month} board of {community} has not been published."},
    "err_no_community": {"zh": "没有编号为 {community} 的社区。", "en": "There is no community {community}."},
    "err_month": {"zh": "月份“{month}”写法不对，应写成 年-月，例如 2026-01。", "en": "The month “{month}” is not valid; write it as YYYY-MM, e.g. 2026-01."},
    "err_community": {"zh": "社区编号“{community}”写法不对。", "en": "The community id “{community}” is not valid."},
    "err_invalid": {"zh": "网址里的内容不对，请从公示首页重新进入。", "en": "Something in the address is not valid; start again from the boards page."},
    "err_limited": {"zh": "访问太频繁了，请 {seconds} 秒后再试。", "en": "Too many requests; try again in {seconds} s."},
    "err_not_found": {"zh": "找不到这个页面。", "en": "There is no such page."},
    "err_internal": {"zh": "服务器出错了，请稍后再试。", "en": "The server failed; try again later."},
}


def t(key: str, lang: str = DEFAULT_LANG, **fields) -> str:
    """The message for ``key`` in ``lang``; an unknown key shows itself."""
    return message(TABLE, key, lang, **fields)


def has(key: str) -> bool:
    return key in TABLE
