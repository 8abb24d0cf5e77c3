"""Review evidence written for a person: the lines the console's review page and
``jifen-server review show`` print for one item, from the item, its evidence and the names
they refer to, in Chinese or English (the words are ``server.reports.labels``)."""

from server.reports.labels import header, local_text, phrase, word


def _points(body: dict):
    """The points an event moves for its resident, as its body says (a redemption spends its total)."""
    if isinstance(body.get("points"), int):
        return body["points"]
    if isinstance(body.get("total"), int):
        return -body["total"]
    return None


def evidence_lines(item: dict, residents: dict[str, str], shops: dict[str, str], goods: dict[str, str],
                   around: tuple[int, int] | None, lang: str = "zh") -> list[str]:
    """``item`` as ``server.services.review.show_item`` returns it (with ``evidence``);
    ``residents`` card -> name, ``shops`` id -> name, ``goods`` sku -> name; ``around`` the
    resident's balance (before, after) the item's event."""
    ev = item.get("evidence") or {}
    labels = {k["id"]: k["label"] for k in ev.get("kiosks", [])}
    ops = {(o["kiosk"], o["id"]): o["name"] or o["id"] for o in ev.get("operators", [])}
    status = word("status", item.get("status"), lang)
    lines = [phrase("ev.item", lang, id=item["id"], kind=word("review", item["kind"], lang), status=status),
             phrase("ev.raised", lang, at=local_text(item["created_at"], lang))]
    if item.get("resident"):
        lines.append(phrase("ev.who", lang, name=residents.get(item["resident"], "?"), card=item["resident"]))
    shop = item.get("shop") or item.get("detail", {}).get("shop")
    kiosk = item.get("kiosk")
    if shop or kiosk:
        lines.append(phrase("ev.where", lang, shop=shops.get(shop, shop or phrase("none", lang)),
                            kiosk=kiosk or phrase("none", lang), label=labels.get(kiosk, "")))
    times = ev.get("times") or {}
    if times.get("event_at") is not None:
        lines.append(phrase("ev.when", lang, at=local_text(times["event_at"], lang), received=local_text(times.get("received_at"), lang)))
    detail = {k: v for k, v in (item.get("detail") or {}).items() if k not in ("shop", "quarantine")}
    if detail:
        colon, comma = (": ", ", ") if lang == "en" else ("：", "，")
        text = comma.join(f"{header('detail', k, lang)}{colon}{word('event', v, lang) if k == 'kind' else v}" for k, v in sorted(detail.items()))
        lines.append(phrase("ev.detail", lang, text=text))
    for e in ev.get("events", []):
        pts = _points(e["body"])
        things = "、".join(phrase("ev.goods", lang, name=goods.get(i["sku"], i["sku"]), qty=i["qty"]) for i in e["body"].get("items", []))
        lines.append(phrase("ev.event", lang, at=local_text(e["at"], lang), kind=word("event", e["kind"], lang),
                            points="—" if pts is None else f"{pts:+d}", shop=shops.get(e.get("shop"), e.get("shop") or ""),
                            kiosk=e["kiosk"], operator=ops.get((e["kiosk"], e.get("operator")), e.get("operator") or ""),
                            voided=phrase("ev.voided", lang) if e.get("voided_by") else "")
                     + (f" [{things}]" if things else ""))
    if around is not None:
        lines.append(phrase("ev.balance", lang, before=around[0], after=around[1]))
    if "balance" in ev:
        lines.append(phrase("ev.balance_now", lang, now=ev["balance"]))
    if item.get("pending"):
        p = item["pending"]
        lines.append(phrase("ev.pending", lang, action=word("action", p["action"], lang), points=p["points"], staff=p["staff"]))
    if item.get("resolution"):
        r = item["resolution"]
        lines.append(phrase("ev.resolution", lang, action=word("action", r["action"], lang), staff=r["staff"], at=local_text(r["at"], lang), note=r["note"]))
    return lines
