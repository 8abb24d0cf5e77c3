"""The console's one translation table: every word a staff page shows, in Chinese (the
default: central staff's language) and English, and the errors of the staff use cases
(``server.errors``) in those words.

Keys are stable identifiers; messages use ``str.format`` fields. A missing field shows as
``{name}`` instead of crashing, and an unknown key shows itself (a test finds none in the
templates), so a page never turns into a traceback. In Chinese no English reaches the page:
a use case's English message is never shown, its code and detail are.
"""

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

TABLE: dict[str, dict[str, str]] = {
    # ---- shell
    "app_name": {"zh": "积分管理后台", "en": "Jifen staff console"},
    "nav_dashboard": {"zh": "总览", "en": "Dashboard"},
    "nav_residents": {"zh": "居民", "en": "Residents"},
    "nav_reviews": {"zh": "待审核", "en": "Review queue"},
    "signed_in_as": {"zh": "{username}（{role}）", "en": "{username} ({role})"},
    "sign_out": {"zh": "退出登录", "en": "Sign out"},
    "sign_out_everywhere": {"zh": "在所有设备上退出", "en": "Sign out everywhere"},
    "switch_lang": {"zh": "English", "en": "中文"},
    "role_admin": {"zh": "管理员", "en": "admin"},
    "role_reconciler": {"zh": "对账员", "en": "reconciler"},
    "role_community_manager": {"zh": "社区管理员", "en": "community manager"},
    "role_auditor": {"zh": "审计员", "en": "auditor"},
    "back": {"zh": "返回", "en": "Back"},
    "none": {"zh": "无", "en": "none"},
    "more": {"zh": "更多", "en": "More"},
    "first_page": {"zh": "回到最新", "en": "Newest"},
    "next_page": {"zh": "下一页", "en": "Next"},
    "points_n": {"zh": "{n} 分", "en": "{n} pts"},
    # ---- sign-in
    "signin_title": {"zh": "工作人员登录", "en": "Staff sign-in"},
    "username": {"zh": "用户名", "en": "Username"},
    "password": {"zh": "密码", "en": "Password"},
    "sign_in": {"zh": "登录", "en": "Sign in"},
    "signin_failed": {"zh": "用户名或密码不对，或账号已停用", "en": "Wrong username or password, or the account is disabled"},
    "signin_locked": {"zh": "登录失败次数太多，请 {seconds} 秒后再试", "en": "Too many failed sign-ins; try again in {seconds} s"},
    "signed_out": {"zh": "已退出登录", "en": "You are signed out"},
    "signed_out_everywhere": {"zh": "已在所有设备上退出登录（{n} 个会话）", "en": "Signed out everywhere ({n} sessions)"},
    "session_over": {"zh": "登录已过期或已退出，请重新登录", "en": "Your session ended; sign in again"},
    # ---- errors (server.errors codes and their detail)
    "error_title": {"zh": "无法完成", "en": "Could not do that"},
    "err_forbidden": {"zh": "你的角色或社区范围不允许这样做", "en": "Your role or community scope does not allow this"},
    "err_not_found": {"zh": "{what} {name} 不存在", "en": "{what} {name} does not exist"},
    "err_not_found_plain": {"zh": "找不到这个页面", "en": "There is no such page"},
    "err_conflict": {"zh": "数据已被别人先改动，请刷新后再看", "en": "Someone changed this first; reload and look again"},
    "err_review_resolved": {"zh": "审核事项 {review} 已由 {by} 处理，你的处理没有生效", "en": "Review item {review} was already resolved by {by}; yours was not applied"},
    "err_review_pending": {"zh": "审核事项 {review} 有 {by} 提出的处理等待第二人批准，请先批准或驳回", "en": "Review item {review} has a resolution by {by} awaiting a second person; approve or decline it first"},
    "err_invalid": {"zh": "输入的内容不能接受：{what}", "en": "That input is not acceptable: {what}"},
    "err_csrf": {"zh": "表单已失效（页面打开太久或来自别处），请刷新页面后再提交", "en": "This form expired or came from elsewhere; reload the page and submit again"},
    "err_internal": {"zh": "服务器出错了，什么也没有改动", "en": "The server failed; nothing was changed"},
    "what_resident": {"zh": "居民", "en": "Resident"},
    "what_review_item": {"zh": "审核事项", "en": "Review item"},
    "what_pending_resolution": {"zh": "待批准的处理", "en": "Pending resolution"},
    "what_staff": {"zh": "工作人员", "en": "Staff"},
    "what_community": {"zh": "社区", "en": "Community"},
    "what_shop": {"zh": "店铺", "en": "Shop"},
    "what_kiosk": {"zh": "终端", "en": "Kiosk"},
    "invalid_note": {"zh": "请写明原因（1 到 500 个字）", "en": "say why in a note of 1-500 characters"},
    "invalid_points": {"zh": "积分必须是不为零的整数", "en": "points must be a non-zero whole number"},
    "invalid_action": {"zh": "请选择一种处理方式", "en": "choose how to resolve"},
    "invalid_other": {"zh": "请检查填写的内容", "en": "check what was entered"},
    # ---- time
    "ago_at": {"zh": "{when}（{ago}）", "en": "{when} ({ago})"},
    # ---- dashboard
    "dash_title": {"zh": "总览", "en": "Dashboard"},
    "dash_reviews": {"zh": "待审核事项", "en": "Open review items"},
    "dash_reviews_none": {"zh": "没有待审核的事项", "en": "Nothing is waiting for review"},
    "dash_silent": {"zh": "超过 {hours} 小时没有联系的终端", "en": "Kiosks silent for more than {hours} hours"},
    "dash_silent_none": {"zh": "所有终端都在 {hours} 小时内联系过", "en": "Every kiosk was in touch within {hours} hours"},
    "dash_points": {"zh": "积分发放与兑换", "en": "Points issued and spent"},
    "dash_this_month": {"zh": "本月", "en": "This month"},
    "dash_last_month": {"zh": "上月", "en": "Last month"},
    "dash_issued": {"zh": "发放", "en": "Issued"},
    "dash_spent": {"zh": "兑换", "en": "Spent"},
    "dash_change": {"zh": "变化", "en": "Change"},
    "dash_checkpoint": {"zh": "账本检查点与核查", "en": "Checkpoint and audit"},
    "dash_last_checkpoint": {"zh": "最近检查点：第 {n} 号，{size} 批，{when}", "en": "Last checkpoint: no. {n}, {size} batches, {when}"},
    "dash_no_checkpoint": {"zh": "还没有检查点", "en": "No checkpoint yet"},
    "dash_audit_last": {"zh": "最近一次核查：{when}，{by}，", "en": "Last audit: {when}, by {by}:"},
    "dash_audit_never": {"zh": "还没有做过核查", "en": "No audit has been run yet"},
    "dash_audit_ok": {"zh": "通过", "en": "passed"},
    "dash_audit_failed": {"zh": "未通过（{n} 项问题）", "en": "FAILED ({n} problems)"},
    "dash_audit_run": {"zh": "立即核查", "en": "Run the audit now"},
    "dash_audit_running": {"zh": "正在核查…", "en": "Auditing…"},
    "kiosk_label": {"zh": "{kiosk}（{shop}）", "en": "{kiosk} ({shop})"},
    "last_contact": {"zh": "最后联系", "en": "Last contact"},
    # ---- residents
    "res_title": {"zh": "居民", "en": "Residents"},
    "res_search": {"zh": "姓名、拼音首字母、卡号或手机尾号", "en": "Name, pinyin initials, card or phone tail"},
    "res_search_button": {"zh": "查找", "en": "Search"},
    "res_search_hint": {"zh": "例如：张伟、zw、5101810000001、1234", "en": "e.g. 张伟, zw, 5101810000001, 1234"},
    "res_none": {"zh": "没有找到符合的居民", "en": "No resident matches"},
    "res_card": {"zh": "卡号", "en": "Card"},
    "res_name": {"zh": "姓名", "en": "Name"},
    "res_phone": {"zh": "手机", "en": "Phone"},
    "res_community": {"zh": "社区", "en": "Community"},
    "res_status": {"zh": "状态", "en": "Status"},
    "res_balance": {"zh": "积分余额", "en": "Balance"},
    "status_active": {"zh": "正常", "en": "active"},
    "status_retired": {"zh": "已注销", "en": "retired"},
    "status_revoked": {"zh": "已停用", "en": "revoked"},
    "res_history": {"zh": "积分去向（全部记录）", "en": "Where the points went (every entry)"},
    "res_history_none": {"zh": "还没有任何积分记录", "en": "No points entries yet"},
    "res_adds_up": {"zh": "以上 {n} 条记录合计 {total} 分，与余额一致", "en": "These {n} entries add up to {total}, the balance"},
    "res_adds_up_not": {"zh": "记录合计 {total} 分，与余额 {balance} 分不一致，请做核查", "en": "The entries add up to {total}, not the balance {balance}: run the audit"},
    "res_open_reviews": {"zh": "待审核事项", "en": "Open review items"},
    "col_when": {"zh": "时间", "en": "When"},
    "col_what": {"zh": "事项", "en": "What"},
    "col_where": {"zh": "地点", "en": "Where"},
    "col_who": {"zh": "经办人", "en": "By"},
    "col_points": {"zh": "积分", "en": "Points"},
    "col_balance": {"zh": "余额", "en": "Balance"},
    "col_receipt": {"zh": "小票码", "en": "Receipt"},
    "entry_award": {"zh": "{rule}", "en": "{rule}"},
    "entry_redeem": {"zh": "兑换 {items}", "en": "Redeemed {items}"},
    "entry_void": {"zh": "撤销 {target}：{reason}", "en": "Void of {target}: {reason}"},
    "entry_adjust": {"zh": "中心调整：{reason}", "en": "Central adjustment: {reason}"},
    "entry_charge": {"zh": "中心补回（{against}）：{reason}", "en": "Central credit ({against}): {reason}"},
    "against_shop": {"zh": "由店铺承担", "en": "charged to the shop"},
    "against_writeoff": {"zh": "项目核销", "en": "written off"},
    "entry_review": {"zh": "（审核事项 {review}{approved}）", "en": " (review item {review}{approved})"},
    "entry_approved_by": {"zh": "，{by} 批准", "en": ", approved by {by}"},
    "entry_voided": {"zh": "（已被撤销）", "en": " (voided)"},
    "where_central": {"zh": "中心", "en": "Central office"},
    "item_qty": {"zh": "{name}×{qty}", "en": "{name} ×{qty}"},
    # ---- review queue
    "rev_title": {"zh": "待审核事项", "en": "Review queue"},
    "rev_open": {"zh": "待处理", "en": "Open"},
    "rev_all": {"zh": "全部", "en": "All"},
    "rev_none": {"zh": "没有事项", "en": "No items"},
    "rev_item": {"zh": "审核事项 {id}", "en": "Review item {id}"},
    "rev_kind": {"zh": "类型", "en": "Kind"},
    "rev_raised": {"zh": "提出时间", "en": "Raised"},
    "rev_state": {"zh": "状态", "en": "State"},
    "rev_state_open": {"zh": "待处理", "en": "open"},
    "rev_state_resolved": {"zh": "已处理", "en": "resolved"},
    "rev_state_pending": {"zh": "等待第二人批准", "en": "awaiting a second person"},
    "rev_what_happened": {"zh": "发生了什么", "en": "What happened"},
    "rev_who": {"zh": "居民", "en": "Resident"},
    "rev_where": {"zh": "店铺与终端", "en": "Shop and kiosk"},
    "rev_when": {"zh": "时间", "en": "When"},
    "rev_recorded_at": {"zh": "终端记录于 {at}，服务器收到于 {received}", "en": "Recorded at the kiosk {at}, received {received}"},
    "rev_events": {"zh": "相关记录", "en": "The events"},
    "rev_balance": {"zh": "余额：这笔之前 {before} 分，之后 {after} 分，现在 {now} 分", "en": "Balance: {before} before, {after} after, {now} now"},
    "rev_balance_now": {"zh": "现在余额 {now} 分", "en": "Balance now {now}"},
    "rev_resolution": {"zh": "处理结果", "en": "Resolution"},
    "rev_resolved_by": {"zh": "{staff} 于 {at} 处理：{action}。{note}", "en": "Resolved by {staff} on {at}: {action}. {note}"},
    "rev_pending_by": {"zh": "{staff} 于 {at} 提出：{action} {points} 分（超出本事项的 {bound} 分，需第二人批准）。{note}", "en": "Proposed by {staff} on {at}: {action} {points} (beyond the item's {bound}: a second person approves). {note}"},
    "rev_resolve": {"zh": "处理", "en": "Resolve"},
    "rev_action": {"zh": "处理方式", "en": "How"},
    "rev_points": {"zh": "积分（调整可正可负）", "en": "Points (an adjustment may be negative)"},
    "rev_note": {"zh": "原因说明", "en": "Note: why"},
    "rev_continue": {"zh": "下一步：确认", "en": "Next: confirm"},
    "rev_confirm_title": {"zh": "请确认", "en": "Please confirm"},
    "rev_confirm_text": {"zh": "将对审核事项 {id} 执行：{action}{points}。原因：{note}", "en": "Review item {id} will be resolved: {action}{points}. Note: {note}"},
    "rev_confirm_points": {"zh": "，{points} 分", "en": ", {points} points"},
    "rev_confirm": {"zh": "确认处理", "en": "Confirm"},
    "rev_cancel": {"zh": "取消", "en": "Cancel"},
    "rev_done": {"zh": "审核事项 {id} 已处理", "en": "Review item {id} is resolved"},
    "rev_proposed": {"zh": "审核事项 {id} 的处理超出本事项金额，已提交等待第二人批准", "en": "Review item {id}: the resolution moves more than the item; it awaits a second person"},
    "rev_approve": {"zh": "批准", "en": "Approve"},
    "rev_decline": {"zh": "驳回", "en": "Decline"},
    "rev_approved": {"zh": "已批准，审核事项 {id} 已处理", "en": "Approved: review item {id} is resolved"},
    "rev_declined": {"zh": "已驳回，审核事项 {id} 重新待处理", "en": "Declined: review item {id} is open again"},
    "action_accept": {"zh": "维持原记录", "en": "accept as it is"},
    "action_adjust": {"zh": "调整积分", "en": "adjust the points"},
    "action_charge-shop": {"zh": "由店铺承担", "en": "charge the shop"},
    "action_write-off": {"zh": "项目核销", "en": "write off"},
    "kind_overdraft": {"zh": "积分透支", "en": "Overdraft"},
    "kind_cap_exceeded": {"zh": "超过次数上限", "en": "Cap exceeded"},
    "kind_rule_value_mismatch": {"zh": "积分与规则不符", "en": "Points differ from the rule"},
    "kind_price_mismatch": {"zh": "价格与目录不符", "en": "Price differs from the catalogue"},
    "kind_retired_reference": {"zh": "用了已停用的项目", "en": "Used something retired"},
    "kind_stock_negative": {"zh": "库存为负", "en": "Stock below zero"},
    "kind_clock_skew": {"zh": "终端时钟不准", "en": "Kiosk clock off"},
    "kind_fork": {"zh": "终端记录分叉", "en": "Kiosk chain forked"},
    "kind_gap_held": {"zh": "批次缺失", "en": "Batches missing"},
    "kind_quarantined": {"zh": "被拒收的上传", "en": "Refused uploads"},
    "kind_void_unknown_target": {"zh": "撤销的记录不存在", "en": "Void of an unknown event"},
    "detail_overdraft": {"zh": "兑换 {total} 分后余额为 {balance_after} 分", "en": "After redeeming {total} the balance was {balance_after}"},
    "detail_cap_exceeded": {"zh": "规则 {rule} 上限 {cap} 次，这是第 {count} 次（{period}）", "en": "Rule {rule} allows {cap}; this was number {count} ({period})"},
    "detail_rule_value_mismatch": {"zh": "规则 {rule} 记了 {recorded} 分，现行为 {current} 分", "en": "Rule {rule} recorded {recorded}, currently {current}"},
    "detail_price_mismatch": {"zh": "商品 {sku} 按 {recorded} 分兑换，目录价 {current} 分", "en": "Goods {sku} at {recorded}, catalogue {current}"},
    "detail_stock_negative": {"zh": "{shop} 的 {sku} 库存变为 {qty_after}", "en": "{sku} at {shop} fell to {qty_after}"},
    "ev_award": {"zh": "记分", "en": "Award"},
    "ev_redeem": {"zh": "兑换", "en": "Redemption"},
    "ev_void": {"zh": "撤销", "en": "Void"},
    "ev_stock_in": {"zh": "进货", "en": "Stock in"},
    "ev_adjust": {"zh": "中心调整", "en": "Adjustment"},
    "ev_charge": {"zh": "中心补回", "en": "Central credit"},
    "ev_stock_adjust": {"zh": "库存调整", "en": "Stock adjustment"},
    "operator_named": {"zh": "{name}（{id}）", "en": "{name} ({id})"},
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def resolve_lang(choice: str | None) -> str:
    """The language a cookie or link names, else Chinese."""
    return choice if choice in LANGS else DEFAULT_LANG


def t(key: str, lang: str = DEFAULT_LANG, **fields) -> str:
    """The message for ``key`` in ``lang``; an unknown key shows itself."""
    entry = TABLE.get(key)
    if entry is None:
        return key
    return entry.get(lang, entry["en"]).format_map(_Blank(fields))


def has(key: str) -> bool:
    return key in TABLE
