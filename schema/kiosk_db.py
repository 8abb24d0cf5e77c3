"""The kiosk database: table definitions as numbered migrations, applied forward on start.

A kiosk keeps three kinds of data: its own immutable events (hash-chained so an edit on
disk is caught before it is ever signed), the outbox of signed batches it has built from
them (kept verbatim, so a retry resends the very same bytes), and a mirror of what the
server publishes in the pull feed. ``meta`` holds single values (identity, cursor, lease,
sync state) as text.
"""

_V1 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT
);

-- One row per recorded event. ``body`` is the canonical bytes of the event struct (the
-- truth); the other columns are copies for queries. ``chain`` links each body to the one
-- before it. ``target`` is set for voids; ``resident`` of a void is its target's resident.
CREATE TABLE events (
    kseq      INTEGER PRIMARY KEY,
    id        TEXT NOT NULL UNIQUE,
    kind      TEXT NOT NULL,
    at        INTEGER NOT NULL,
    resident  TEXT,
    operator  TEXT NOT NULL,
    target    TEXT,
    body      BLOB NOT NULL,
    chain     TEXT NOT NULL,
    batch_seq INTEGER
);
CREATE INDEX events_resident_at ON events (resident, at);
CREATE INDEX events_batch_seq ON events (batch_seq);
CREATE INDEX events_target ON events (target) WHERE target IS NOT NULL;

-- Signed batches, exactly as sent. ``hash`` = sha256(body); ``ack_feed`` is the server's
-- feed position once the batch is applied: when the pull cursor reaches it, the mirrored
-- balances include the batch.
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY,
    hash       TEXT NOT NULL,
    prev       TEXT NOT NULL,
    body       BLOB NOT NULL,
    signature  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at    INTEGER,
    acked_at   INTEGER,
    ack_status TEXT,
    ack_feed   INTEGER
);
CREATE INDEX outbox_unreflected ON outbox (acked_at, ack_feed);

-- Mirror of the pull feed.
CREATE TABLE residents (
    card       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    phone_tail TEXT NOT NULL,
    community  TEXT NOT NULL,
    status     TEXT NOT NULL
);
CREATE INDEX residents_name ON residents (name);
CREATE INDEX residents_phone_tail ON residents (phone_tail);

CREATE TABLE rules (
    code      TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    kind      TEXT NOT NULL,
    points    INTEGER NOT NULL,
    cap_day   INTEGER,
    cap_month INTEGER,
    status    TEXT NOT NULL
);

CREATE TABLE goods (
    sku    TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    unit   TEXT NOT NULL,
    price  INTEGER NOT NULL,
    status TEXT NOT NULL
);

CREATE TABLE stock (
    sku TEXT PRIMARY KEY,
    qty INTEGER NOT NULL
);

CREATE TABLE balances (
    card   TEXT PRIMARY KEY,
    points INTEGER NOT NULL
);

CREATE TABLE shops (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    community TEXT NOT NULL,
    kind      TEXT NOT NULL
);

CREATE TABLE communities (
    id     TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    street TEXT NOT NULL
);

CREATE TABLE operators (
    id       TEXT PRIMARY KEY,
    shop     TEXT NOT NULL,
    name     TEXT NOT NULL,
    role     TEXT NOT NULL,
    pin_hash TEXT NOT NULL,
    status   TEXT NOT NULL
);
"""

# Version 2: what the server publishes for residents and auditors. ``board`` mirrors the
# feed kind ``board`` (one row per community-month, ``top`` the ranked lines as JSON);
# ``checkpoints`` keeps every signed checkpoint the kiosk has pulled (never deleted), so
# the server's log can later be proven against them. (Version 3 is the name search index.)
_V2 = """
CREATE TABLE board (
    key       TEXT PRIMARY KEY,
    community TEXT NOT NULL,
    month     TEXT NOT NULL,
    published INTEGER NOT NULL,
    ranked    INTEGER NOT NULL,
    top       TEXT NOT NULL
);
CREATE INDEX board_community_month ON board (community, month);

CREATE TABLE checkpoints (
    n         INTEGER PRIMARY KEY,
    v         INTEGER NOT NULL,
    size      INTEGER NOT NULL,
    head      TEXT NOT NULL,
    at        INTEGER NOT NULL,
    signature TEXT NOT NULL
);
"""

# Version 3: finding a resident by a fragment of the name without reading every row.
# ``resident_grams`` holds each substring of a name that does not start at its first
# character (prefixes are already served by ``residents_name``), for names of up to eight
# characters: two or three rows per resident. A trigger fills it on every insert or name
# change, whatever path wrote the row. Rows are never removed: the index may name a card
# whose name has since changed, or which has left the mirror, so a search joins back to
# ``residents`` and checks the name, and a stale row costs nothing but its bytes.
_V3 = """
CREATE TABLE gram_positions (
    i INTEGER NOT NULL,
    l INTEGER NOT NULL,
    PRIMARY KEY (i, l)
) WITHOUT ROWID;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 8)
INSERT INTO gram_positions (i, l) SELECT a.x, b.x FROM n a, n b WHERE a.x >= 2 AND a.x + b.x - 1 <= 8;

CREATE TABLE resident_grams (
    gram TEXT NOT NULL,
    card TEXT NOT NULL,
    PRIMARY KEY (gram, card)
) WITHOUT ROWID;

INSERT OR IGNORE INTO resident_grams (gram, card)
SELECT substr(r.name, p.i, p.l), r.card FROM residents r JOIN gram_positions p ON p.i + p.l - 1 <= length(r.name);

CREATE TRIGGER residents_grams_insert AFTER INSERT ON residents BEGIN
    INSERT OR IGNORE INTO resident_grams (gram, card)
    SELECT substr(NEW.name, i, l), NEW.card FROM gram_positions WHERE i + l - 1 <= length(NEW.name);
END;

CREATE TRIGGER residents_grams_update AFTER UPDATE OF name ON residents BEGIN
    INSERT OR IGNORE INTO resident_grams (gram, card)
    SELECT substr(NEW.name, i, l), NEW.card FROM gram_positions WHERE i + l - 1 <= length(NEW.name);
END;
"""

#: the longest name fragment ``resident_grams`` answers (a longer one scans the names)
GRAM_MAX = 8

#: the SQL function the kiosk store registers on its connection: a name's pinyin
#: initials (``sync.initials``); SQL alone cannot read Chinese, so migration 4 needs it
INITIALS_FUNCTION = "pinyin_initials"

# Version 4: finding a resident by the pinyin initials of the name (张三明 → ``zsm``).
# ``initials`` is written by the store whenever it mirrors a resident; this migration fills
# it for residents mirrored before it. The index also orders by name, so a prefix of the
# initials is one range seek that returns rows in the order shown.
_V4 = f"""
ALTER TABLE residents ADD COLUMN initials TEXT NOT NULL DEFAULT '';
UPDATE residents SET initials = {INITIALS_FUNCTION}(name);
CREATE INDEX residents_initials ON residents (initials, name);
"""

# Version 5: residents this kiosk does not mirror (another community's) that it looked up
# online (``POST /v1/lookup``, ``kiosk.online``), so that awards and redemptions for them
# work offline afterwards. ``points`` is the confirmed balance the server gave, read at its
# feed position ``feed``: this kiosk's own events in batches acknowledged above it (or not
# yet) are pending on top. Never searched by name; dropped ``VISITOR_DAYS`` after the last
# lookup, so a stolen kiosk holds few of them.
_V5 = """
CREATE TABLE visitors (
    card           TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    community      TEXT NOT NULL,
    community_name TEXT NOT NULL,
    status         TEXT NOT NULL,
    points         INTEGER NOT NULL,
    feed           INTEGER NOT NULL,
    fetched_at     INTEGER NOT NULL
);
CREATE INDEX visitors_fetched_at ON visitors (fetched_at);
"""

# Version 7: the server's checkpoint notes (Merkle tree heads, docs/PROTOCOL.md § 13) this
# kiosk accepted, each one proven consistent with the one before; never deleted.
_V7 = """
CREATE TABLE tree_heads (
    n    INTEGER PRIMARY KEY,
    note TEXT NOT NULL
);
"""

# Version 8: a visitor of another county (docs/PROTOCOL.md § 4.7), from a signed
# ``ResidentStatement``: ``county`` and ``county_name`` set (NULL: a visitor of this kiosk's
# own county, served offline too). Such a visitor is served online only, each transaction
# after a fresh statement (``kiosk.online``).
_V8 = """
ALTER TABLE visitors ADD COLUMN county TEXT;
ALTER TABLE visitors ADD COLUMN county_name TEXT;
"""

#: days a looked-up visitor is kept after the last lookup or history of them
VISITOR_DAYS = 30

# Version 6: residents' letters and requests as the server last said they stand (feed kind
# ``voice_reply``), read per resident when they return to a kiosk; never the resident's words.
_V6 = """
CREATE TABLE voice_items (
    code TEXT PRIMARY KEY,
    resident TEXT NOT NULL,
    channel TEXT NOT NULL,
    category TEXT NOT NULL,
    at INTEGER NOT NULL,
    status TEXT NOT NULL,
    reply TEXT NOT NULL,
    replied_at INTEGER,
    done_at INTEGER,
    stars INTEGER
);
CREATE INDEX voice_items_resident ON voice_items (resident, at);
"""

# Version 9: when the server confirmed each batch (docs/PROTOCOL.md § 4.8): the feed seq of
# the first ``projected`` row that covered it. Acknowledged is durable and counted once;
# confirmed is in the ledger, and in the balances pulled once the cursor passes that seq.
# Batches acknowledged before this version were acknowledged by a server that projected
# before replying: their acknowledgement's feed is their confirmation.
_V9 = """
ALTER TABLE outbox ADD COLUMN confirmed_feed INTEGER;
UPDATE outbox SET confirmed_feed = ack_feed WHERE acked_at IS NOT NULL;
"""

# Version 10: volunteer service tasks of the communities this kiosk serves (feed kind
# ``task``), with their claims as JSON text ([{card, event, done}]): what the station's task
# screen offers and the checks it makes before a claim or a completion is recorded.
_V10 = """
CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    community TEXT NOT NULL,
    title TEXT NOT NULL,
    rule TEXT NOT NULL,
    points INTEGER NOT NULL,
    slots INTEGER NOT NULL,
    status TEXT NOT NULL,
    posted_at INTEGER NOT NULL,
    claims TEXT NOT NULL
);
CREATE INDEX tasks_community ON tasks (community, status);
"""

#: (version, SQL), in order. Append only: a released migration is never edited.
MIGRATIONS: list[tuple[int, str]] = [(1, _V1), (2, _V2), (3, _V3), (4, _V4), (5, _V5), (6, _V6), (7, _V7), (8, _V8), (9, _V9), (10, _V10)]

SCHEMA_VERSION = MIGRATIONS[-1][0]


def pending(current: int, migrations: list[tuple[int, str]] = MIGRATIONS) -> list[tuple[int, str]]:
    """The migrations a database at schema version ``current`` still needs, in order."""
    return sorted((m for m in migrations if m[0] > current), key=lambda m: m[0])
