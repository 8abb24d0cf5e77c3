"""Demo data: a realistic programme for one county-level city (see shared DOMAIN.md).

Communities of 雒城街道 and 金雁街道, residents with Chinese names, 11-digit phones and
13-digit cards, rules of the three kinds, goods priced in points, two points supermarkets
and a few service stations with their operators, and opening balances and stock written
as a signed central batch so the ledger and ``audit`` agree from the first minute.

Deterministic and idempotent: every row is derived from the seed and its own index, rows
that exist are left alone, and opening entries go only to those that have none yet.
"""

import os
import random
from dataclasses import dataclass, field

from schema.wire import Adjust, StockAdjust
from server.errors import Invalid
from server.services import feed
from server.services.central import append_central, ledger_current, next_central_ids
from server.services.context import Context
from server.store import catalog, ledger
from sync.passwords import hash_pin

STREETS = ("雒城街道", "金雁街道")
#: the counties of a several-county demo (``counties`` > 1): the first keeps the named communities
COUNTIES = ("广汉市", "什邡市", "绵竹市", "中江县", "罗江区", "旌阳区", "三台县", "盐亭县")
NAMED_COMMUNITIES = ("龙居社区", "大同社区", "常德社区")
MORE_COMMUNITY_STEMS = "金雁 雁江 三星 南兴 北外 西外 东山 和平 新华 文庙 八角 连山 高坪 小汉 向阳 石亭 城南 城北 清平 柏杨".split()
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = ("伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 桂英 建华 文 华 红 玉兰 志强 国华 "
         "淑珍 德明 春梅 海燕 小红 建国 建军 凤英 永福 成 辉 鹏 晨 宇 浩 欣 怡 婷 雪 琳 燕 斌 波 俊 峰 桂兰 淑英 国强").split()
PHONE_PREFIXES = (130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 158, 159, 177, 180, 181, 182, 183, 185, 186, 187, 188, 189, 199)

RULES = [
    # code, name, kind, points, cap_day, cap_month
    ("LJFL", "垃圾分类", "basic", 2, 1, None),
    ("MQSB", "门前三包", "basic", 2, 1, None),
    ("JMHY", "参加居民会议", "basic", 3, None, 2),
    ("ZYFW", "志愿服务", "encouraged", 10, None, None),
    ("LLHZ", "邻里互助", "encouraged", 5, None, None),
    ("TJJF", "调解纠纷", "encouraged", 8, None, None),
    ("FXJZ", "防汛救灾", "encouraged", 20, None, None),
    ("WMCJ", "文明城市创建", "encouraged", 5, 1, None),
    ("WZDJ", "违章搭建", "prohibited", -20, None, None),
    ("LRLJ", "乱扔垃圾", "prohibited", -5, None, None),
    ("LLJF", "邻里纠纷", "prohibited", -5, None, None),
    ("LTLH", "乱贴乱画", "prohibited", -3, None, None),
]
GOODS = [
    ("OIL5L", "食用油5L", "桶", 300),
    ("RICE10", "大米10kg", "袋", 400),
    ("DETERG", "洗衣液", "瓶", 150),
    ("TOWEL", "毛巾", "条", 50),
    ("SOAP", "肥皂", "块", 30),
    ("PASTE", "牙膏", "支", 40),
    ("TISSUE", "卷纸", "提", 60),
    ("SOY", "酱油", "瓶", 45),
    ("EGG30", "鸡蛋30枚", "盒", 90),
    ("SALT", "食盐", "袋", 10),
]


@dataclass
class DemoData:
    communities: list[dict] = field(default_factory=list)
    shops: list[dict] = field(default_factory=list)
    residents: list[dict] = field(default_factory=list)
    rules: list[dict] = field(default_factory=list)
    goods: list[dict] = field(default_factory=list)
    operators: list[dict] = field(default_factory=list)  # with a plain "pin", hashed on insert
    counties: list[dict] = field(default_factory=list)  # none: every community in the default county
    community_counties: list[dict] = field(default_factory=list)  # {community, county}


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def community_names(n: int) -> list[str]:
    """The three named communities, then 社区 of the other stems, then villages (村) named
    by one or two stems: enough for the programme's 120 villages and communities."""
    names = list(NAMED_COMMUNITIES) + [s + "社区" for s in MORE_COMMUNITY_STEMS]
    names += [s + "村" for s in MORE_COMMUNITY_STEMS]
    names += [a + b[0] + "村" for a in MORE_COMMUNITY_STEMS for b in MORE_COMMUNITY_STEMS if b[0] not in a]
    return list(dict.fromkeys(names))[: max(n, 3)]


def generate(residents: int = 2000, communities: int = 12, seed: int = 2024, counties: int = 1) -> DemoData:
    """The demo programme. Each row depends only on the seed and its own index, so a larger
    ``residents`` extends the same people rather than inventing new ones. ``counties`` > 1
    deals the communities out over that many counties (community *i* in county *i* mod *n*),
    each with a points supermarket of its own past the first two, so every county has a
    kiosk's worth of shop."""
    if not 1 <= counties <= len(COUNTIES):
        raise Invalid(f"the demo has 1 to {len(COUNTIES)} counties, not {counties}", counties=counties)
    data = DemoData()
    names = community_names(communities)
    for i, name in enumerate(names[: max(communities, 3)]):
        data.communities.append({"id": f"SQ{i + 1:02d}", "name": name, "street": STREETS[i % 2]})
    data.shops = [
        {"id": "S01", "name": "龙居社区积分兑换超市", "community": "SQ01", "kind": "shop"},
        {"id": "S02", "name": "大同社区积分兑换超市", "community": "SQ02", "kind": "shop"},
    ]
    for i, c in enumerate(data.communities[:4]):
        data.shops.append({"id": f"ST{i + 1:02d}", "name": f"{c['name']}便民服务驿站", "community": c["id"], "kind": "station"})
    if counties > 1:
        data.counties = [{"id": f"XQ{k + 1:02d}", "name": COUNTIES[k]} for k in range(counties)]
        data.community_counties = [{"community": c["id"], "county": data.counties[i % counties]["id"]}
                                   for i, c in enumerate(data.communities)]
        for k in range(1, counties):  # S01 (SQ01) is in the first county; a shop in each other one
            c = data.communities[k] if k < len(data.communities) else None
            if c is not None and k != 1:
                data.shops.append({"id": f"S{k + 1:02d}", "name": f"{c['name']}积分兑换超市", "community": c["id"], "kind": "shop"})
    n_comm = len(data.communities)
    for i in range(residents):
        rng = random.Random(f"{seed}:resident:{i}")
        c = i % n_comm
        data.residents.append({
            "card": f"510681{c + 1:02d}{i // n_comm + 1:05d}",
            "name": person_name(rng),
            "phone": f"{rng.choice(PHONE_PREFIXES)}{rng.randrange(10**8):08d}",
            "community": data.communities[c]["id"],
            "status": "active",
        })
    data.rules = [dict(zip(("code", "name", "kind", "points", "cap_day", "cap_month"), r), status="active") for r in RULES]
    data.goods = [dict(zip(("sku", "name", "unit", "price"), g), status="active") for g in GOODS]
    data.operators = demo_operators(data.shops, seed)
    return data


def demo_operators(shops: list[dict], seed: int) -> list[dict]:
    """op1 (PIN 1234) and supervisor sup1 (PIN 9999) at S01; one of each per other shop."""
    ops = []
    for i, shop in enumerate(shops, start=1):
        rng = random.Random(f"{seed}:operator:{shop['id']}")
        ops.append({"id": f"op{i}", "shop": shop["id"], "name": person_name(rng), "role": "operator", "pin": "1234", "status": "active"})
        ops.append({"id": f"sup{i}", "shop": shop["id"], "name": person_name(rng), "role": "supervisor", "pin": "9999", "status": "active"})
    return ops


def demo_data(ctx: Context, residents: int = 2000, communities: int = 12, seed: int = 2024, counties: int = 1) -> dict:
    return load(ctx, generate(residents, communities, seed, counties), seed)


def load(ctx: Context, data: DemoData, seed: int = 2024) -> dict:
    """Insert what is missing, publish it to the feed, open balances and stock; one transaction."""
    with ctx.store.read() as db:
        have_ops = catalog.existing_keys(db, "operators")
    # Hashing is slow on purpose (scrypt): do it before taking the write lock.
    operators = [
        {k: v for k, v in op.items() if k != "pin"} | {"pin_hash": hash_pin(op["pin"], os.urandom(16))}
        for op in data.operators
        if op["id"] not in have_ops
    ]
    ledger_current(ctx, "demo")  # the opening events go to residents and shelves the ledger shows without any
    with ctx.store.write() as db:
        added = {
            "communities": catalog.insert_missing(db, "communities", data.communities),
            "shops": catalog.insert_missing(db, "shops", data.shops),
            "residents": catalog.insert_missing(db, "residents", data.residents),
            "rules": catalog.insert_missing(db, "rules", data.rules),
            "goods": catalog.insert_missing(db, "goods", data.goods),
            "operators": catalog.insert_missing(db, "operators", operators),
            "counties": catalog.insert_missing(db, "counties", data.counties),
        }
        for cc in data.community_counties:
            catalog.set_community_county(db, cc["community"], cc["county"])
        publish_catalog(db)
        opening = opening_events(db, data, seed, ctx.now())
        added["central_batches"] = len(append_central(ctx, db, opening)) if opening else 0
        added["opening_events"] = len(opening)
    return added


def publish_catalog(db) -> None:
    """Feed rows for every reference entity (unchanged rows keep their seq)."""
    for kind, table in (("community", "communities"), ("shop", "shops"), ("rule", "rules"), ("good", "goods"),
                        ("operator", "operators"), ("resident", "residents")):
        feed.publish_rows(db, kind, catalog.list_rows(db, table))
    feed.publish_serves(db)


def opening_events(db, data: DemoData, seed: int, now: int) -> list:
    """Opening stock for shop/SKU pairs that have none, opening points for residents the
    central chain has never credited."""
    credited = ledger.cards_with_central_events(db)
    stocked = set(ledger.stock_cache(db))
    wanted: list[tuple[str, dict]] = []
    for shop in data.shops:
        if shop["kind"] != "shop":
            continue
        for good in data.goods:
            if (shop["id"], good["sku"]) not in stocked:
                qty = random.Random(f"{seed}:stock:{shop['id']}:{good['sku']}").randrange(20, 101)
                wanted.append(("stock", {"staff": "system", "shop": shop["id"], "sku": good["sku"], "delta": qty, "reason": "期初库存"}))
    for r in data.residents:
        if r["card"] in credited:
            continue
        rng = random.Random(f"{seed}:opening:{r['card']}")
        if rng.random() < 0.7:
            points = rng.randrange(1, 31) * 10
            wanted.append(("points", {"staff": "system", "resident": r["card"], "points": points, "reason": "期初积分"}))
    events = []
    for (kind, fields), (eid, kseq) in zip(wanted, next_central_ids(db, len(wanted))):
        cls = StockAdjust if kind == "stock" else Adjust
        events.append(cls(id=eid, kseq=kseq, at=now, **fields))
    return events
