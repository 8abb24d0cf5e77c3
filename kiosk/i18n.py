"""The one translation table: every word the kiosk shows an operator, in Chinese (the
default, the operators' language) and English.

Keys are stable identifiers (also used as error keys and in ``--json`` output); messages
use ``str.format`` fields. A missing field shows as ``{name}`` instead of crashing, so a
message can never turn into a traceback at the counter.
"""

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

TABLE: dict[str, dict[str, str]] = {
    # ---- errors while recording
    "error": {"zh": "出错了", "en": "Something went wrong"},
    "not_enrolled": {"zh": "本机尚未注册，请先运行 enroll", "en": "This kiosk is not enrolled yet; run enroll first"},
    "already_enrolled": {"zh": "本机已注册为 {kiosk}", "en": "This kiosk is already enrolled as {kiosk}"},
    "insecure_server": {"zh": "{url} 不加密，居民信息会明文经过网络；请改用加密地址，或确认后加 --insecure-http", "en": "{url} is not encrypted (http): residents' data would cross the network in clear text; use https, or pass --insecure-http to allow it"},
    "certificate_unavailable": {"zh": "取不到服务器 {url} 的证书，请检查网络和地址", "en": "Could not fetch the certificate of {url} ({why})"},
    "kiosk_revoked": {"zh": "本机已被中心停用，不能再记录或兑换，请联系管理员重新注册", "en": "Central staff revoked this kiosk: it can no longer record or redeem; contact them to re-enrol"},
    "invalid_input": {"zh": "{what} 无效：{value}", "en": "Invalid {what}: {value}"},
    # the ``what`` of invalid_input, shown in the message's language (t() looks these up)
    "field_card": {"zh": "卡号", "en": "card"},
    "field_note": {"zh": "备注", "en": "note"},
    "field_operator": {"zh": "工号", "en": "operator"},
    "field_quantity": {"zh": "数量", "en": "quantity"},
    "field_reason": {"zh": "原因", "en": "reason"},
    "field_rule": {"zh": "规则", "en": "rule"},
    "field_total": {"zh": "合计积分", "en": "total"},
    "field_items": {"zh": "商品种数", "en": "items"},
    "field_printer": {"zh": "打印机设置", "en": "printer"},
    "unknown_resident": {"zh": "找不到居民卡号 {card}", "en": "No resident with card {card}"},
    "resident_retired": {"zh": "居民 {card} 已注销", "en": "Resident {card} is retired"},
    # a code still invalid after sync.codes.normalise: what a valid one looks like
    "bad_code_card": {"zh": "卡号无效：{value}。卡号是 4 到 32 位数字或字母，例如 5101810000001", "en": "Not a card number: {value}. A card number is 4 to 32 digits or letters, e.g. 5101810000001"},
    "bad_code_sku": {"zh": "商品编码无效：{value}。编码是 1 到 32 位字母、数字或 _ . -，以字母或数字开头，例如 OIL", "en": "Not a goods code: {value}. A goods code is 1 to 32 letters, digits, _ . or -, starting with a letter or digit, e.g. OIL"},
    "bad_code_rule": {"zh": "规则编码无效：{value}。编码是 1 到 32 位字母、数字或 _ . -，以字母或数字开头，例如 V01", "en": "Not a rule code: {value}. A rule code is 1 to 32 letters, digits, _ . or -, starting with a letter or digit, e.g. V01"},
    "bad_code_operator": {"zh": "工号无效：{value}。工号是 1 到 32 位字母、数字或 _ . -，例如 op1", "en": "Not an operator id: {value}. An operator id is 1 to 32 letters, digits, _ . or -, e.g. op1"},
    "bad_code_enrol": {"zh": "注册码无效：{value}。注册码是三组各 4 位的字母和数字，例如 ABCD-EFGH-JKLM", "en": "Not an enrolment code: {value}. It is 12 letters and digits in three groups of four, e.g. ABCD-EFGH-JKLM"},
    "unknown_rule": {"zh": "找不到积分规则 {rule}", "en": "No points rule {rule}"},
    "rule_retired": {"zh": "积分规则 {rule} 已停用", "en": "Points rule {rule} is retired"},
    "unknown_sku": {"zh": "找不到商品 {sku}", "en": "No goods with SKU {sku}"},
    "sku_retired": {"zh": "商品 {sku} 已下架", "en": "Goods {sku} are retired"},
    "unknown_operator": {"zh": "找不到操作员 {operator}", "en": "No operator {operator} at this shop"},
    "operator_retired": {"zh": "操作员 {operator} 已停用", "en": "Operator {operator} is retired"},
    "insufficient_stock": {"zh": "商品 {sku} 库存不足：现有 {available}，需要 {wanted}", "en": "Not enough {sku} in stock: {available} available, {wanted} wanted"},
    "insufficient_balance": {"zh": "积分不足：可用 {available} 分，需要 {total} 分", "en": "Not enough points: {available} available, {total} needed"},
    "lease_expired": {"zh": "离线授权已过期，请先联网同步后再兑换", "en": "The offline lease has expired: sync with the server before redeeming"},
    "cap_reached_day": {"zh": "规则 {rule} 每人每天最多记 {cap} 次，今天已记满", "en": "Rule {rule} allows {cap} a day per resident; already reached today"},
    "cap_reached_month": {"zh": "规则 {rule} 每人每月最多记 {cap} 次，本月已记满", "en": "Rule {rule} allows {cap} a month per resident; already reached this month"},
    "offline_cap": {"zh": "离线时每人每天最多兑换 {cap} 分（今天已兑换 {used} 分，本次 {total} 分）", "en": "While offline a resident may redeem at most {cap} points a day ({used} already today, {total} now)"},
    "void_unknown": {"zh": "本机没有记录 {event}", "en": "This kiosk recorded no event {event}"},
    "void_of_void": {"zh": "{event} 本身是撤销记录，不能再撤销", "en": "{event} is itself a void and cannot be voided"},
    "void_repeated": {"zh": "{event} 已经撤销过了", "en": "{event} is already voided"},
    "chain_broken": {"zh": "本地记录在第 {kseq} 条被改动过，已停止同步，请联系管理员", "en": "The local record was altered at event {kseq}; syncing has stopped, contact central staff"},
    "sync_stopped": {"zh": "同步已停止，请联系管理员", "en": "Syncing stopped: {reason}"},
    "offline": {"zh": "连不上服务器，记录照常保存，稍后再同步", "en": "Server unreachable ({why}); recording continues, sync later"},
    "rejected": {"zh": "服务器拒绝了这次请求，请联系管理员", "en": "Server refused: {code} {message}"},
    # ---- the disk and the database (kiosk.store): nothing of a refused write is kept
    "storage_failed": {"zh": "本机数据无法读写，这一笔没有记录；之前的记录完好，请联系管理员", "en": "The kiosk's data could not be read or written: this was not recorded; earlier records are intact. Contact central staff"},
    "disk_full": {"zh": "本机磁盘已满，这一笔没有记录；之前的记录完好，请清理磁盘或联系管理员", "en": "The kiosk's disk is full: this was not recorded; earlier records are intact. Free some space or contact central staff"},
    "disk_read_only": {"zh": "本机数据文件只读，不能写入，这一笔没有记录；之前的记录完好，请联系管理员", "en": "The kiosk's data is read-only: this was not recorded; earlier records are intact. Contact central staff"},
    "database_locked": {"zh": "本机数据库正被其他程序占用，这一笔没有记录，请稍后再试", "en": "Another program is holding the kiosk's database: this was not recorded; try again shortly"},
    "database_damaged": {"zh": "本机数据库文件已损坏，不能读写，请联系管理员", "en": "The kiosk's database file is damaged and cannot be used: contact central staff"},
    "internal_error": {"zh": "程序出错了，详情已写入本机日志，请联系管理员", "en": "Something went wrong; the details are in the kiosk's log. Contact central staff"},
    # ---- the receipt printer (kiosk.printer): the record and the saved receipt are kept
    "printer_unreachable": {"zh": "打印机连不上（请检查电源和连线）；记录已保存，凭条已存在本机，接好后按 F4 重打", "en": "The printer cannot be reached (check its power and cable); the record and the receipt are saved, press F4 to reprint"},
    "printer_no_paper": {"zh": "打印机没纸了；记录已保存，凭条已存在本机，换纸后按 F4 重打", "en": "The printer is out of paper; the record and the receipt are saved, press F4 to reprint"},
    "printer_failed": {"zh": "凭条没有打印出来；记录已保存，凭条已存在本机，按 F4 重打", "en": "The receipt did not print; the record and the receipt are saved, press F4 to reprint"},
    "receipt_printed": {"zh": "凭条已打印，并已保存在本机", "en": "Receipt printed and saved: {path}"},
    "receipt_printing": {"zh": "正在打印凭条…", "en": "Printing the receipt…"},
    "key_reprint": {"zh": "重打", "en": "Reprint"},
    "receipt_pending": {"zh": "【待同步】本机离线时记录，联网后上传中心", "en": "[Pending sync] recorded offline; goes to the server once online"},
    # ---- sync outcomes
    "sync_ok": {"zh": "同步完成：上传 {pushed} 批，下载 {pulled} 条", "en": "Synced: {pushed} batches up, {pulled} changes down"},
    "sync_retry": {"zh": "服务器暂时不能处理，稍后自动重试", "en": "The server cannot take it now ({code}); will retry later"},
    "sync_fix_request": {"zh": "服务器认为请求有误，请联系管理员", "en": "The request was refused ({code}: {message}); contact central staff"},
    "sync_resign_failed": {"zh": "重新签名后仍被服务器拒绝，请联系管理员", "en": "Refused again after re-signing ({code}); contact central staff"},
    "sync_held_loop": {"zh": "服务器缺少之前的批次且未能补齐，稍后重试", "en": "The server is missing earlier batches and they could not be filled; will retry"},
    "upgrade_needed": {"zh": "软件版本过旧，请升级本机软件", "en": "This kiosk's software is too old: upgrade it"},
    # ---- CLI words
    "usage_error": {"zh": "命令写法不对（缺少或写错了参数），请加 --help 查看用法", "en": "{message}; see --help"},
    "recorded": {"zh": "已记录 {id}", "en": "Recorded {id}"},
    "key_rotated": {"zh": "本机 {kiosk} 已换用新密钥（从第 {from_seq} 批起），指纹 {fingerprint}", "en": "Kiosk {kiosk} now signs with a new key (from batch {from_seq}); fingerprint {fingerprint}"},
    "rekey_wrong_kiosk": {"zh": "这个注册码属于 {other}，不是本机 {kiosk}", "en": "This code re-keys {other}, not this kiosk {kiosk}"},
    "key_missing": {"zh": "本机密钥文件 {path} 不见了，请联系管理员重新注册", "en": "This kiosk's key file {path} is missing; ask central staff to re-enrol it"},
    "schema_too_new": {"zh": "本机数据库由更新版本的程序写入（数据库版本 {current}，本程序只认到 {supported}），请升级本程序", "en": "The kiosk database was written by a newer release (schema {current}; this kiosk knows up to {supported}): upgrade this kiosk"},
    "enrolled": {"zh": "注册成功：本机 {kiosk}，站点 {shop_name}（{shop}），服务器指纹 {fingerprint}", "en": "Enrolled as {kiosk} at {shop_name} ({shop}); server fingerprint {fingerprint}"},
    "balance_line": {"zh": "居民 {card}：已确认 {confirmed} 分，待同步 {pending} 分，可用 {available} 分", "en": "Resident {card}: confirmed {confirmed}, pending {pending}, available {available}"},
    "status_kiosk": {"zh": "本机 {kiosk}，站点 {shop_name}（{shop}）", "en": "Kiosk {kiosk} at {shop_name} ({shop})"},
    "status_pending": {"zh": "待同步记录 {pending} 条", "en": "{pending} events not yet synced"},
    "status_last": {"zh": "上次上传 {push}，上次下载 {pull}", "en": "Last push {push}, last pull {pull}"},
    "status_online": {"zh": "服务器在线", "en": "Server reachable"},
    "status_offline": {"zh": "服务器离线", "en": "Server unreachable"},
    "status_lease": {"zh": "离线授权剩余 {hours} 小时", "en": "Offline lease: {hours} hours left"},
    "never": {"zh": "从未", "en": "never"},
    "no_history": {"zh": "本机没有该居民的记录", "en": "No records of this resident at this kiosk"},
    "pending_mark": {"zh": "待同步", "en": "pending"},
    "voided_mark": {"zh": "已撤销", "en": "voided"},
    # ---- the Textual app (kiosk/app.py, kiosk/screens/)
    "app_title": {"zh": "积分兑换站", "en": "Points kiosk"},
    "key_sync": {"zh": "同步", "en": "Sync"},
    "key_lang": {"zh": "English", "en": "中文"},
    "key_back": {"zh": "返回", "en": "Back"},
    "key_signout": {"zh": "退出登录", "en": "Sign out"},
    "key_award": {"zh": "加扣分", "en": "Award"},
    "key_redeem": {"zh": "兑换", "en": "Redeem"},
    "key_void": {"zh": "撤销", "en": "Void"},
    "key_shift": {"zh": "交班", "en": "Shift"},
    "key_stock": {"zh": "进货", "en": "Stock in"},
    "key_confirm": {"zh": "确认", "en": "Confirm"},
    "key_done": {"zh": "完成", "en": "Done"},
    "key_remove": {"zh": "删除", "en": "Remove"},
    "key_more": {"zh": "加一", "en": "+1"},
    "key_less": {"zh": "减一", "en": "-1"},
    "key_quit": {"zh": "关闭", "en": "Quit"},
    "confirm_quit_unsynced": {"zh": "还有 {n} 条记录没有同步到中心（已保存在本机，下次联网时上传）。确定关闭吗？", "en": "{n} records are not yet synced to the server (they are saved on this kiosk and go up the next time it is online). Quit anyway?"},
    "quit_hint": {"zh": "要关闭本程序，请按 Ctrl+Q", "en": "To quit, press Ctrl+Q"},
    "key_find": {"zh": "查找", "en": "Find"},
    "yes": {"zh": "确认（回车）", "en": "Confirm (Enter)"},
    "no": {"zh": "取消（Esc）", "en": "Cancel (Esc)"},
    "st_online": {"zh": "在线", "en": "online"},
    "st_offline": {"zh": "离线", "en": "offline"},
    "st_syncing": {"zh": "同步中…", "en": "syncing…"},
    "st_unsynced": {"zh": "未同步 {n} 条", "en": "{n} unsynced"},
    "st_last": {"zh": "上次同步 {ago}", "en": "last sync {ago}"},
    "ago_now": {"zh": "刚刚", "en": "just now"},
    "ago_min": {"zh": "{n} 分钟前", "en": "{n} min ago"},
    "ago_hour": {"zh": "{n} 小时前", "en": "{n} h ago"},
    "ago_day": {"zh": "{n} 天前", "en": "{n} days ago"},
    "warn_offline_long": {"zh": "已离线较久：离线兑换有每日上限，请尽快联网", "en": "Offline for long: offline redemptions are capped daily; reconnect soon"},
    "warn_revoked": {"zh": "本机已被停用，不能记录", "en": "Kiosk revoked: recording stopped"},
    "warn_checkpoint": {"zh": "服务器账本与本机保存的核对点不一致，请联系管理员（记录和同步照常）", "en": "The server's ledger no longer matches a checkpoint kept here: tell central staff (recording and sync go on) {alert}"},
    "warn_stopped": {"zh": "同步已停止，请联系管理员", "en": "Sync stopped ({reason}): contact central staff"},
    "warn_lease": {"zh": "离线授权已过期：联网同步前不能兑换", "en": "Offline lease expired: no redemptions until synced"},
    "sync_busy": {"zh": "正在同步，请稍候", "en": "Already syncing, please wait"},
    "sync_started": {"zh": "开始同步…", "en": "Syncing now…"},
    "sync_internal": {"zh": "同步出错了，详情已写入本机日志", "en": "Sync failed; the details are in the kiosk's log"},
    "signin_title": {"zh": "操作员登录", "en": "Operator sign-in"},
    "signin_hint": {"zh": "输入工号和密码，按回车登录", "en": "Enter your operator id and PIN, then Enter"},
    "signin_id": {"zh": "工号", "en": "Operator id"},
    "signin_pin": {"zh": "密码", "en": "PIN"},
    "signin_wrong": {"zh": "工号或密码不对（还可再试 {left} 次）", "en": "Wrong operator id or PIN ({left} tries left)"},
    "signin_locked": {"zh": "工号 {operator} 已锁定，请 {minutes} 分钟后再试", "en": "Operator {operator} is locked out; try again in {minutes} min"},
    "signin_not_supervisor": {"zh": "{operator} 不是主管，不能授权撤销", "en": "{operator} is not a supervisor and cannot authorise a void"},
    "signin_other_shop": {"zh": "{operator} 不是本站点的操作员", "en": "{operator} does not work at this shop"},
    "signed_in_as": {"zh": "操作员：{name}（{id}）", "en": "Operator: {name} ({id})"},
    "find_title": {"zh": "查找居民", "en": "Find a resident"},
    "find_prompt": {"zh": "刷卡，或输入姓名 / 拼音首字母 / 手机尾号，按回车", "en": "Scan a card, or type a name / pinyin initials / phone tail, then Enter"},
    "find_none": {"zh": "没有找到：{text}", "en": "Nobody found for: {text}"},
    "find_many": {"zh": "找到 {n} 人：用方向键选择，回车打开", "en": "{n} found: pick with the arrow keys, Enter to open"},
    "find_cut": {"zh": "找到 {n} 人，显示前 {shown} 人，请输入更多字", "en": "{n} found, showing the first {shown}: type more to narrow it down"},
    "find_cut_many": {"zh": "找到超过 {n} 人，显示前 {shown} 人，请输入更多字", "en": "More than {n} found, showing the first {shown}: type more to narrow it down"},
    "col_card": {"zh": "卡号", "en": "Card"},
    "col_name": {"zh": "姓名", "en": "Name"},
    "col_phone": {"zh": "手机尾号", "en": "Phone"},
    "col_community": {"zh": "社区", "en": "Community"},
    "col_status": {"zh": "状态", "en": "Status"},
    "col_time": {"zh": "时间", "en": "Time"},
    "col_kind": {"zh": "类型", "en": "Kind"},
    "col_points": {"zh": "积分", "en": "Points"},
    "col_where": {"zh": "地点", "en": "Where"},
    "col_event": {"zh": "单号", "en": "Event"},
    "col_rule": {"zh": "规则", "en": "Rule"},
    "col_code": {"zh": "编号", "en": "Code"},
    "col_cap_day": {"zh": "日上限", "en": "Cap/day"},
    "col_cap_month": {"zh": "月上限", "en": "Cap/mo"},
    "col_good": {"zh": "商品", "en": "Goods"},
    "col_price": {"zh": "单价", "en": "Price"},
    "col_stock": {"zh": "库存", "en": "Stock"},
    "col_qty": {"zh": "数量", "en": "Qty"},
    "col_subtotal": {"zh": "小计", "en": "Subtotal"},
    "col_resident": {"zh": "居民", "en": "Resident"},
    "col_operator": {"zh": "操作员", "en": "Operator"},
    "col_expected": {"zh": "应有", "en": "Expected"},
    "col_counted": {"zh": "实点", "en": "Counted"},
    "col_diff": {"zh": "差额", "en": "Diff"},
    "status_active": {"zh": "正常", "en": "active"},
    "status_retired": {"zh": "已注销", "en": "retired"},
    "kind_award": {"zh": "积分", "en": "points"},
    "kind_redeem": {"zh": "兑换", "en": "redeem"},
    "kind_void": {"zh": "撤销", "en": "void"},
    "kind_stock_in": {"zh": "进货", "en": "stock in"},
    "rule_kind_basic": {"zh": "基础", "en": "basic"},
    "rule_kind_encouraged": {"zh": "鼓励", "en": "encouraged"},
    "rule_kind_prohibited": {"zh": "禁止", "en": "prohibited"},
    "res_balance": {"zh": "已确认 {confirmed} 分 · 待同步 {pending:+d} 分 · 可用 {available} 分", "en": "Confirmed {confirmed} · pending {pending:+d} · available {available}"},
    "res_rank_of": {"zh": "第 {rank} 名 / 共 {ranked} 人（{month}榜，{points} 分）", "en": "#{rank} of {ranked} ({month} board, {points} points)"},
    "res_rank": {"zh": "本月社区排名：{rank}", "en": "This month's rank in community: {rank}"},
    "res_history": {"zh": "最近记录（本机）", "en": "Recent history (this kiosk)"},
    "award_title": {"zh": "加分 / 扣分：{name}（{card}）", "en": "Award or deduct: {name} ({card})"},
    "award_search": {"zh": "搜索规则：编号或名称", "en": "Search rules: code or name"},
    "award_note": {"zh": "备注（可不填）", "en": "Note (optional)"},
    "award_pick": {"zh": "用方向键选规则，回车确认", "en": "Pick a rule with the arrow keys, Enter to confirm"},
    "confirm_award": {"zh": "给 {name}（{card}）记 {points:+d} 分：{rule}？", "en": "Record {points:+d} points for {name} ({card}): {rule}?"},
    "confirm_deduct": {"zh": "给 {name}（{card}）扣 {points} 分：{rule}？", "en": "Deduct {points} points from {name} ({card}): {rule}?"},
    "redeem_title": {"zh": "兑换商品：{name}（{card}）", "en": "Redeem goods: {name} ({card})"},
    "redeem_search": {"zh": "扫商品码或输入名称，回车加入", "en": "Scan goods or type a name, Enter to add"},
    "basket_total": {"zh": "合计 {total} 分 / 可用 {available} 分", "en": "Total {total} / available {available} points"},
    "basket_over": {"zh": "超出可用积分 {over} 分", "en": "{over} points more than available"},
    "basket_keys": {"zh": "购物篮：+ 加一  - 减一  Delete 删除  输入数字回车改数量（或 编码*数量）", "en": "Basket: + one more  - one less  Delete remove  type a number and Enter for the quantity (or CODE*QTY)"},
    "confirm_drop_basket": {"zh": "购物篮里还有 {count} 件商品，放弃这次兑换吗？", "en": "The basket holds {count} items. Drop this redemption?"},
    "basket_empty": {"zh": "购物篮是空的", "en": "The basket is empty"},
    "offline_rule": {"zh": "离线模式：每位居民每天最多兑换 {cap} 分，今天还可兑换 {left} 分；联网同步后不受此限", "en": "Offline: a resident may redeem at most {cap} points a day here; {left} left today. The limit lifts once synced"},
    "confirm_redeem": {"zh": "为 {name}（{card}）兑换 {count} 件，共 {total} 分？", "en": "Redeem {count} items for {name} ({card}), {total} points?"},
    "no_goods": {"zh": "没有这个商品：{text}", "en": "No such goods: {text}"},
    "receipt_title_award": {"zh": "积分凭条", "en": "Points receipt"},
    "receipt_title_redeem": {"zh": "兑换凭条", "en": "Redemption receipt"},
    "receipt_title_void": {"zh": "撤销凭条", "en": "Void receipt"},
    "receipt_title_stock_in": {"zh": "进货单", "en": "Delivery note"},
    "receipt_event": {"zh": "单号 {id}  查询码 {code}", "en": "Event {id}  code {code}"},
    "receipt_when": {"zh": "{at}  本机 {kiosk}  操作员 {operator}", "en": "{at}  kiosk {kiosk}  operator {operator}"},
    "receipt_resident": {"zh": "居民 {name}（{card}）", "en": "Resident {name} ({card})"},
    "receipt_target": {"zh": "撤销单号 {target}", "en": "Voids {target}"},
    "receipt_note": {"zh": "备注：{note}", "en": "Note: {note}"},
    "receipt_add": {"zh": "加 {n} 分", "en": "+{n} points"},
    "receipt_deduct": {"zh": "扣 {n} 分", "en": "-{n} points"},
    "receipt_points": {"zh": "积分：{before} → {after}", "en": "Points: {before} → {after}"},
    "receipt_saved": {"zh": "凭条已保存在本机", "en": "Receipt saved: {path}"},
    "void_title": {"zh": "撤销本机最近的记录", "en": "Void a recent transaction of this kiosk"},
    "void_pick": {"zh": "选中要撤销的记录，按回车", "en": "Pick the transaction to void, then Enter"},
    "void_ask_reason": {"zh": "撤销 {event}（{who} {kind} {points}）：请输入撤销原因，按回车；Esc 重新选择", "en": "Void {event} ({who} {kind} {points}): type the reason, then Enter; Esc to pick again"},
    "void_reason": {"zh": "撤销原因", "en": "Reason"},
    "void_by": {"zh": "{reason}（主管 {supervisor} 授权）", "en": "{reason} (authorised by {supervisor})"},
    "sup_title": {"zh": "撤销 {event}：需要主管授权", "en": "Void {event}: supervisor approval needed"},
    "sup_id": {"zh": "主管工号", "en": "Supervisor id"},
    "sup_pin": {"zh": "主管密码", "en": "Supervisor PIN"},
    "reason_needed": {"zh": "请填写撤销原因", "en": "Please give a reason"},
    "void_already": {"zh": "{event} 已经撤销过了", "en": "{event} is already voided"},
    "shift_title": {"zh": "交班报表", "en": "Shift close"},
    "shift_header": {"zh": "本机 {kiosk} {shop}  {since} 至 {until}", "en": "Kiosk {kiosk} {shop}  {since} to {until}"},
    "shift_per_operator": {"zh": "按操作员：", "en": "Per operator:"},
    "shift_operator_line": {"zh": "{operator}：{events} 笔，加 {awarded} 分，扣 {deducted} 分，兑换 {redeemed} 分，撤销 {voids} 笔", "en": "{operator}: {events} events, +{awarded} awarded, -{deducted} deducted, {redeemed} redeemed, {voids} voids"},
    "shift_per_rule": {"zh": "按规则（次数，积分）：", "en": "Per rule (count, points):"},
    "shift_per_good": {"zh": "按商品发出（数量，积分）：", "en": "Goods handed out (qty, points):"},
    "shift_received": {"zh": "进货：", "en": "Received:"},
    "shift_stock": {"zh": "库存（编号 应有 实点 差额）：", "en": "Stock (SKU expected counted diff):"},
    "shift_count_prompt": {"zh": "选中商品，输入实点数量，回车", "en": "Pick goods, type the counted quantity, Enter"},
    "shift_saved": {"zh": "交班报表已保存：{path}；新班次开始", "en": "Shift report saved: {path}; a new shift begins"},
    "confirm_shift": {"zh": "结束本班并保存报表？", "en": "Close this shift and save the report?"},
    "stock_title": {"zh": "进货登记", "en": "Goods received"},
    "stock_sku": {"zh": "商品编号（可扫码）", "en": "Goods code (scan)"},
    "stock_qty": {"zh": "数量", "en": "Quantity"},
    "stock_note": {"zh": "备注（送货单号等）", "en": "Note (delivery note no.)"},
    "confirm_stock": {"zh": "登记进货 {count} 种商品？", "en": "Record delivery of {count} lines?"},
    "bad_qty": {"zh": "数量必须是 1 到 10000 的整数：{value}", "en": "Quantity must be a whole number 1 to 10000: {value}"},
    "nothing_selected": {"zh": "请先用方向键选中一行", "en": "Select a row with the arrow keys first"},
    "unknown_key": {"zh": "未知", "en": "unknown"},
    # a programme month (YYYY-MM) as people write it: month_text()
    "month": {"zh": "{year}年{month}月", "en": "{month_name} {year}"},
}

MONTH_NAMES_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December")


def resolve_lang(*choices: str | None) -> str:
    """The first of ``choices`` that names a language we speak (``en``, ``en_US.UTF-8``),
    else Chinese. The entry point passes ``--lang``, then env ``JIFEN_LANG``."""
    for lang in choices:
        if lang and lang.split("_")[0].lower() in LANGS:
            return lang.split("_")[0].lower()
    return DEFAULT_LANG


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def month_text(month: str, lang: str = DEFAULT_LANG) -> str:
    """A programme month ``YYYY-MM`` as people write it: 2026年12月, December 2026; a
    value that is no such month shows as it is."""
    year, _, number = month.partition("-")
    if not (year.isdigit() and number.isdigit() and 1 <= int(number) <= 12):
        return month
    return t("month", lang, year=int(year), month=int(number), month_name=MONTH_NAMES_EN[int(number) - 1])


def t(key: str, lang: str = DEFAULT_LANG, **fields) -> str:
    """The message for ``key`` in ``lang``; an unknown key shows itself. A field ``what``
    names a thing by its ``field_`` key (``quantity``) and is shown in ``lang``."""
    entry = TABLE.get(key)
    if entry is None:
        return key + (f" {fields}" if fields else "")
    if "field_" + str(fields.get("what")) in TABLE:
        fields = {**fields, "what": TABLE["field_" + fields["what"]].get(lang, fields["what"])}
    return entry.get(lang, entry["en"]).format_map(_Blank(fields))
