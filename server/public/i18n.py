"""The public pages' one translation table: every word a resident reads on them, in
Chinese (the default: residents' language) and English, and the errors they can meet.

Keys are stable identifiers; messages use ``str.format`` fields. The languages, the
cookie's choice and the lookup are the console's (``server.console.i18n``): a missing
field shows as ``{name}`` and an unknown key shows itself, so a page never turns into a
traceback."""

from server.console.i18n import DEFAULT_LANG, LANGS, message, resolve_lang
from server.console.i18n import TABLE as CONSOLE_TABLE

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
    # ---- the receipt check
    "check_title": {"zh": "凭条查验", "en": "Check a receipt"},
    "check_intro": {"zh": "扫描凭条上的二维码，或把凭条最后一行粘贴到下面，查验凭条是否真实、是否已入账。",
                    "en": "Scan the receipt's QR code, or paste its last line below, to check it is genuine and recorded."},
    "check_paste": {"zh": "凭条最后一行（查验码）", "en": "The receipt's last line (check code)"},
    "check_submit": {"zh": "查验", "en": "Check"},
    "check_ok": {"zh": "查验通过：本凭条由积分机 {kiosk} 签名，内容未被改动。", "en": "Verified: signed by kiosk {kiosk}, unaltered."},
    "check_revoked": {"zh": "注意：这台积分机已被停用。", "en": "Note: this kiosk has since been revoked."},
    "kind_award": {"zh": "积分", "en": "Points"},
    "kind_redeem": {"zh": "兑换", "en": "Redemption"},
    "kind_void": {"zh": "撤销", "en": "Void"},
    "kind_stock_in": {"zh": "进货", "en": "Delivery"},
    "kind_shift_close": {"zh": "交班", "en": "Shift close"},
    "row_event": {"zh": "单号", "en": "Entry"},
    "row_kind": {"zh": "类别", "en": "Kind"},
    "row_when": {"zh": "时间", "en": "When"},
    "row_card": {"zh": "积分卡", "en": "Card"},
    "row_points": {"zh": "积分", "en": "Points"},
    "row_status": {"zh": "状态", "en": "Status"},
    "row_balance": {"zh": "当前积分余额", "en": "Current balance"},
    "points_add": {"zh": "加 {n} 分", "en": "+{n} points"},
    "points_deduct": {"zh": "扣 {n} 分", "en": "−{n} points"},
    "status_recorded": {"zh": "已入账", "en": "Recorded"},
    "status_voided": {"zh": "已撤销", "en": "Voided"},
    "status_review": {"zh": "审核中", "en": "Under review"},
    "status_unsynced": {"zh": "尚未同步到服务器（积分机联网后会自动上传）", "en": "Not yet synced (the kiosk uploads it once online)"},
    "status_differs": {"zh": "服务器记录的这一单与凭条不一致，请联系工作人员", "en": "The server's entry differs from this receipt; ask staff"},
    "proof_title": {"zh": "公开账本证明", "en": "Proof in the public log"},
    "proof_ok": {"zh": "本单所在批次已写入服务器签名的第 {checkpoint} 号检查点（共 {size} 批），包含证明已验证。",
                 "en": "Its batch is in the server's signed checkpoint {checkpoint} ({size} batches); the inclusion proof verified."},
    "proof_none": {"zh": "本单所在批次还没有写入签名检查点，稍后再查。", "en": "Its batch is not in a signed checkpoint yet; check again later."},
    "proof_position": {"zh": "批次 {kiosk}/{seq}，第 {index} 号叶子", "en": "Batch {kiosk}/{seq}, leaf {index}"},
    "proof_leaf": {"zh": "叶子", "en": "Leaf"},
    "proof_path": {"zh": "证明路径", "en": "Audit path"},
    "proof_root": {"zh": "树根", "en": "Root"},
    "proof_note": {"zh": "签名检查点", "en": "Signed checkpoint"},
    "err_receipt_encoding": {"zh": "这不是一张凭条的查验码：请检查是否抄错或缺了字。", "en": "This is not a receipt's check code: check it was copied whole."},
    "err_receipt_event": {"zh": "凭条内容有误，无法查验。", "en": "The receipt's content is not valid."},
    "err_receipt_unknown_kiosk": {"zh": "没有编号为 {kiosk} 的积分机：这张凭条不是本系统开出的。", "en": "No kiosk {kiosk}: this receipt is not from this programme."},
    "err_receipt_signature": {"zh": "查验不通过：凭条签名不符，内容可能被改动过或是伪造的。", "en": "Refused: the signature does not match; the receipt was altered or forged."},
    "err_receipt_key_window": {"zh": "查验不通过：签名所用的密钥当时不属于这台积分机。", "en": "Refused: signed by a key the kiosk did not hold then."},
    # ---- letters and requests (书记信箱, 村民说事)
    "voice_index_title": {"zh": "书记信箱 · 村民说事 办理公示", "en": "Letters and requests: how they were handled"},
    "voice_index_intro": {"zh": "居民写给书记的信和在服务站提出的诉求，每一步办理都在这里公示；姓名已隐去中间的字，括号内是卡号后四位。凭回执上的查询码可查看办理经过，办结后凭登记手机号的后四位可评价一次（也可到服务站刷卡评价）。", "en": "Every step in handling residents' letters and requests is published here; names are masked, the brackets hold the card's last four. The slip's tracking code shows one item, and a done one may be rated once with the last four digits of your registered phone (or with your card at a service station)."},
    "voice_code_label": {"zh": "查询码", "en": "Tracking code"},
    "voice_look_up": {"zh": "查询", "en": "Look up"},
    "voice_log": {"zh": "办理经过", "en": "Handling log"},
    "voice_month_title": {"zh": "{community}{month}书记信箱与村民说事", "en": "{community}, {month}: letters and requests"},
    "voice_month_none": {"zh": "本月没有来信或诉求。", "en": "No letters or requests this month."},
    "voice_month_rule": {"zh": "按记录月份统计；办结用时是从记录到办结的中位数；满意率是评价为四星或五星的占已评价的比例。", "en": "Counted by the month recorded; time to done is the median from recording to done; the share is of rated items given 4 or 5 stars."},
    "voice_channel": {"zh": "渠道", "en": "Channel"},
    "voice_category": {"zh": "类别", "en": "Category"},
    "voice_status": {"zh": "进度", "en": "Status"},
    "voice_reply": {"zh": "答复", "en": "Reply"},
    "voice_when": {"zh": "时间", "en": "When"},
    "voice_step": {"zh": "办理", "en": "Step"},
    "voice_received": {"zh": "收到", "en": "Received"},
    "voice_handled": {"zh": "已办结", "en": "Done"},
    "voice_median": {"zh": "办结用时", "en": "Time to done"},
    "voice_rated": {"zh": "已评价", "en": "Rated"},
    "voice_share": {"zh": "满意率", "en": "Rated 4-5"},
    "voice_days": {"zh": "{n} 天", "en": "{n} days"},
    "voice_status_open": {"zh": "已受理", "en": "Received"},
    "voice_status_assigned": {"zh": "办理中", "en": "Being handled"},
    "voice_status_replied": {"zh": "已答复", "en": "Replied"},
    "voice_status_done": {"zh": "已办结", "en": "Done"},
    "voice_step_received": {"zh": "收到", "en": "Received"},
    "voice_step_assigned": {"zh": "交办", "en": "Assigned"},
    "voice_step_replied": {"zh": "答复", "en": "Replied"},
    "voice_step_done": {"zh": "办结", "en": "Done"},
    "voice_step_rated": {"zh": "居民评价", "en": "Rated by the resident"},
    "voice_rate_ask": {"zh": "办理结果满意吗？请评价（每件只能评价一次）：", "en": "Are you satisfied with the result? Rate it (once):"},
    "voice_rate": {"zh": "提交评价", "en": "Rate"},
    "voice_phone_tail": {"zh": "登记手机号的后四位", "en": "Last four digits of your registered phone"},
    "voice_rate_station": {"zh": "这件不能在网上评价，请到服务站评价（刷卡评价）。", "en": "This one cannot be rated online; please rate it at a service station (with your card)."},
    "voice_thanks": {"zh": "谢谢您的评价。", "en": "Thank you for rating."},
    "err_voice_rated": {"zh": "这件已经评价过了，每件只能评价一次。", "en": "This one is already rated; each is rated once."},
    "err_voice_not_done": {"zh": "这件还没有办结，办结后才能评价。", "en": "This one is not done yet; it can be rated once done."},
    "err_voice_code": {"zh": "查询码“{code}”不对，请核对回执上的每一位数字。", "en": "The tracking code “{code}” is not valid; check each digit on the slip."},
    "err_no_voice": {"zh": "没有查询码为 {code} 的来信或诉求。", "en": "There is no letter or request {code}."},
    "err_stars": {"zh": "请选择一到五颗星。", "en": "Choose one to five stars."},
    "err_phone_tail": {"zh": "请填写登记手机号的后四位数字。", "en": "Enter the last four digits of your registered phone."},
    "err_phone_wrong": {"zh": "手机号后四位不对，没有评价。还可以再试 {tries_left} 次，之后只能到服务站评价。", "en": "The phone's last four digits do not match; nothing was rated. {tries_left} tries left, then only at a service station."},
    "err_rate_locked": {"zh": "手机号后四位输错次数太多，这件不能在网上评价了，请到服务站评价。", "en": "Too many wrong phone digits: this one can no longer be rated online; please rate it at a service station."},
    "err_rate_no_phone": {"zh": "没有登记手机号，不能在网上评价，请到服务站评价。", "en": "No phone on file, so it cannot be rated online; please rate it at a service station."},
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


# the channels' and categories' names are the console's: one set of words for one list
TABLE.update({k: v for k, v in CONSOLE_TABLE.items() if k.startswith(("voice_cat_", "voice_channel_"))})

def t(key: str, lang: str = DEFAULT_LANG, **fields) -> str:
    """The message for ``key`` in ``lang``; an unknown key shows itself."""
    return message(TABLE, key, lang, **fields)


def has(key: str) -> bool:
    return key in TABLE
