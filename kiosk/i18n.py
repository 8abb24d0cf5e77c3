"""The one translation table: every word the kiosk shows an operator, in Chinese (the
default, the operators' language) and English.

Keys are stable identifiers (also used as error keys and in ``--json`` output); messages
use ``str.format`` fields. A missing field shows as ``{name}`` instead of crashing, so a
message can never turn into a traceback at the counter.
"""

import os

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

TABLE: dict[str, dict[str, str]] = {
    # ---- errors while recording
    "error": {"zh": "出错了", "en": "Something went wrong"},
    "not_enrolled": {"zh": "本机尚未注册，请先运行 enroll", "en": "This kiosk is not enrolled yet; run enroll first"},
    "already_enrolled": {"zh": "本机已注册为 {kiosk}", "en": "This kiosk is already enrolled as {kiosk}"},
    "kiosk_revoked": {"zh": "本机已被中心停用，不能再记录或兑换，请联系管理员重新注册", "en": "Central staff revoked this kiosk: it can no longer record or redeem; contact them to re-enrol"},
    "invalid_input": {"zh": "{what} 无效：{value}", "en": "Invalid {what}: {value}"},
    "unknown_resident": {"zh": "找不到居民卡号 {card}", "en": "No resident with card {card}"},
    "resident_retired": {"zh": "居民 {card} 已注销", "en": "Resident {card} is retired"},
    "unknown_rule": {"zh": "找不到积分规则 {rule}", "en": "No points rule {rule}"},
    "rule_retired": {"zh": "积分规则 {rule} 已停用", "en": "Points rule {rule} is retired"},
    "unknown_sku": {"zh": "找不到商品 {sku}", "en": "No goods with SKU {sku}"},
    "sku_retired": {"zh": "商品 {sku} 已下架", "en": "Goods {sku} are retired"},
    "unknown_operator": {"zh": "找不到操作员 {operator}", "en": "No operator {operator} at this shop"},
    "operator_retired": {"zh": "操作员 {operator} 已停用", "en": "Operator {operator} is retired"},
    "insufficient_stock": {"zh": "商品 {sku} 库存不足：现有 {available}，需要 {wanted}", "en": "Not enough {sku} in stock: {available} available, {wanted} wanted"},
    "insufficient_balance": {"zh": "积分不足：可用 {available} 分，需要 {total} 分", "en": "Not enough points: {available} available, {total} needed"},
    "lease_expired": {"zh": "离线授权已过期，请先联网同步后再兑换", "en": "The offline lease has expired: sync with the server before redeeming"},
    "offline_cap": {"zh": "离线时每人每天最多兑换 {cap} 分（今天已兑换 {used} 分，本次 {total} 分）", "en": "While offline a resident may redeem at most {cap} points a day ({used} already today, {total} now)"},
    "void_unknown": {"zh": "本机没有记录 {event}", "en": "This kiosk recorded no event {event}"},
    "void_of_void": {"zh": "{event} 本身是撤销记录，不能再撤销", "en": "{event} is itself a void and cannot be voided"},
    "void_repeated": {"zh": "{event} 已经撤销过了", "en": "{event} is already voided"},
    "chain_broken": {"zh": "本地记录在第 {kseq} 条被改动过，已停止同步，请联系管理员", "en": "The local record was altered at event {kseq}; syncing has stopped, contact central staff"},
    "sync_stopped": {"zh": "同步已停止：{reason}", "en": "Syncing stopped: {reason}"},
    "offline": {"zh": "连不上服务器（{why}），记录照常保存，稍后再同步", "en": "Server unreachable ({why}); recording continues, sync later"},
    "rejected": {"zh": "服务器拒绝：{code} {message}", "en": "Server refused: {code} {message}"},
    # ---- sync outcomes
    "sync_ok": {"zh": "同步完成：上传 {pushed} 批，下载 {pulled} 条", "en": "Synced: {pushed} batches up, {pulled} changes down"},
    "sync_retry": {"zh": "服务器暂时不能处理（{code}），稍后自动重试", "en": "The server cannot take it now ({code}); will retry later"},
    "sync_fix_request": {"zh": "请求有误（{code}：{message}），请联系管理员", "en": "The request was refused ({code}: {message}); contact central staff"},
    "sync_resign_failed": {"zh": "重新签名后仍被拒绝（{code}），请联系管理员", "en": "Refused again after re-signing ({code}); contact central staff"},
    "sync_held_loop": {"zh": "服务器缺少之前的批次且未能补齐，稍后重试", "en": "The server is missing earlier batches and they could not be filled; will retry"},
    "upgrade_needed": {"zh": "软件版本过旧，请升级本机软件", "en": "This kiosk's software is too old: upgrade it"},
    # ---- CLI words
    "recorded": {"zh": "已记录 {id}", "en": "Recorded {id}"},
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
}


def resolve_lang(explicit: str | None = None) -> str:
    """``--lang`` wins, then env ``JIFEN_LANG``, then Chinese."""
    for lang in (explicit, os.environ.get("JIFEN_LANG")):
        if lang and lang.split("_")[0].lower() in LANGS:
            return lang.split("_")[0].lower()
    return DEFAULT_LANG


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(key: str, lang: str = DEFAULT_LANG, **fields) -> str:
    """The message for ``key`` in ``lang``; an unknown key shows itself."""
    entry = TABLE.get(key)
    if entry is None:
        return key + (f" {fields}" if fields else "")
    return entry.get(lang, entry["en"]).format_map(_Blank(fields))
