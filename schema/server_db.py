"""The server database: its tables as numbered migrations, and which of them are pending.

The server store runs ``pending(current)`` on start, each migration in its own
transaction, and records the new ``schema_version`` in ``meta``. Migrations are only ever
appended: a released one is never edited, so every database reaches the same shape.

Conventions: times are integer UTC milliseconds, points and quantities are integers,
``body`` columns hold the exact signed bytes (never re-encoded), and nothing recorded is
updated except the caches (``balances``, ``stock``, ``award_counts``, ``feed``), the
counters of ``unstored_rejections`` and ``voice_rate_failures``, and the
bookkeeping columns of ``kiosks``, ``enroll_codes``, ``batches``, ``review_items`` and
``voice_items``.
"""

from schema.types import GENESIS

_V1 = f"""
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE communities (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    street TEXT NOT NULL
);

CREATE TABLE shops (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    community TEXT NOT NULL REFERENCES communities(id),
    kind TEXT NOT NULL CHECK (kind IN ('shop', 'station'))
);

CREATE TABLE residents (
    card TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    community TEXT NOT NULL REFERENCES communities(id),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired'))
);
CREATE INDEX residents_community ON residents(community);

CREATE TABLE rules (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('basic', 'encouraged', 'prohibited')),
    points INTEGER NOT NULL,
    cap_day INTEGER,
    cap_month INTEGER,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired'))
);

CREATE TABLE goods (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    price INTEGER NOT NULL CHECK (price >= 0),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired'))
);

CREATE TABLE operators (
    id TEXT PRIMARY KEY,
    shop TEXT NOT NULL REFERENCES shops(id),
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('operator', 'supervisor')),
    pin_hash TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired'))
);

CREATE TABLE kiosks (
    id TEXT PRIMARY KEY,
    shop TEXT NOT NULL REFERENCES shops(id),
    label TEXT NOT NULL,
    public_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    enrolled_at INTEGER NOT NULL,
    next_seq INTEGER NOT NULL DEFAULT 1,
    last_hash TEXT NOT NULL DEFAULT '{GENESIS}',
    next_kseq INTEGER NOT NULL DEFAULT 1,
    last_push_at INTEGER,
    last_pull_at INTEGER,
    clock_skew_ms INTEGER
);

CREATE TABLE enroll_codes (
    code_hash TEXT PRIMARY KEY,
    shop TEXT NOT NULL REFERENCES shops(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    kiosk TEXT
);

-- Every verified batch, applied or held, stored verbatim. kiosk 'C' is the server's own
-- chain of central events (CentralBatch, signed under domain 'central').
CREATE TABLE batches (
    kiosk TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    prev TEXT NOT NULL,
    body BLOB NOT NULL,
    signature TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('applied', 'held')),
    received_at INTEGER NOT NULL,
    applied_at INTEGER,
    feed INTEGER,
    PRIMARY KEY (kiosk, seq)
);

-- Rejected requests from known kiosks, kept for central staff rather than thrown away.
CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY,
    kiosk TEXT,
    received_at INTEGER NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    body BLOB NOT NULL,
    signature TEXT,
    headers TEXT NOT NULL DEFAULT '{{}}'
);
CREATE INDEX quarantine_kiosk ON quarantine(kiosk);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    kiosk TEXT NOT NULL,
    batch_seq INTEGER NOT NULL,
    kseq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    resident TEXT,
    operator TEXT,
    shop TEXT,
    body BLOB NOT NULL,
    voided_by TEXT,
    FOREIGN KEY (kiosk, batch_seq) REFERENCES batches(kiosk, seq)
);
CREATE INDEX events_resident ON events(resident, at);
CREATE INDEX events_batch ON events(kiosk, batch_seq);

CREATE TABLE postings (
    id INTEGER PRIMARY KEY,
    event TEXT NOT NULL REFERENCES events(id),
    account TEXT NOT NULL,
    amount INTEGER NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX postings_account ON postings(account, id);
CREATE INDEX postings_event ON postings(event);

-- A cache of the fold over postings; audit checks it, and it can be rebuilt.
CREATE TABLE balances (
    account TEXT PRIMARY KEY,
    points INTEGER NOT NULL
);

CREATE TABLE stock (
    shop TEXT NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL,
    PRIMARY KEY (shop, sku)
);

CREATE TABLE stock_moves (
    event TEXT NOT NULL REFERENCES events(id),
    shop TEXT NOT NULL,
    sku TEXT NOT NULL,
    delta INTEGER NOT NULL
);
CREATE INDEX stock_moves_event ON stock_moves(event);

CREATE TABLE award_counts (
    card TEXT NOT NULL,
    rule TEXT NOT NULL,
    period TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (card, rule, period)
);

CREATE TABLE review_items (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    created_at INTEGER NOT NULL,
    kiosk TEXT,
    event TEXT,
    resident TEXT,
    shop TEXT,
    detail TEXT NOT NULL DEFAULT '{{}}'
);
CREATE INDEX review_items_status ON review_items(status, id);
CREATE INDEX review_items_kiosk ON review_items(kiosk, kind, created_at);

-- The pull feed: one row per entity; any change moves the row to a new, higher seq.
CREATE TABLE feed (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    scope TEXT NOT NULL DEFAULT '',
    seq INTEGER NOT NULL,
    data BLOB,
    PRIMARY KEY (kind, key)
);
CREATE UNIQUE INDEX feed_seq ON feed(seq);
"""

# Version 2: central staff (accounts, roles, community scope, bearer tokens stored hashed),
# the append-only audit log of staff actions, review resolutions, rule changes with
# effective dates, and the signed checkpoints over the batch log.
_V2_TABLES = """
CREATE TABLE staff (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('admin', 'reconciler', 'community_manager', 'auditor')),
    password_hash TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at INTEGER NOT NULL
);

CREATE TABLE staff_communities (
    username TEXT NOT NULL REFERENCES staff(username),
    community TEXT NOT NULL REFERENCES communities(id),
    PRIMARY KEY (username, community)
);

-- Only the SHA-256 of a token is kept: a copied database cannot sign anyone in.
CREATE TABLE staff_tokens (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES staff(username),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX staff_tokens_user ON staff_tokens(username);

-- Every staff action, appended; triggers refuse to change or remove a row.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    staff TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_staff ON audit_log(staff, id);
""" + "{append_only}" + """

-- One row per resolved review item (the PRIMARY KEY makes a second resolution fail too).
CREATE TABLE resolutions (
    review INTEGER PRIMARY KEY REFERENCES review_items(id),
    action TEXT NOT NULL CHECK (action IN ('accept', 'adjust', 'charge-shop', 'write-off')),
    staff TEXT NOT NULL,
    at INTEGER NOT NULL,
    note TEXT NOT NULL,
    points INTEGER,
    event TEXT
);

-- Rule edits, kept; applied to ``rules`` (and the feed) once effective_at has passed.
CREATE TABLE rule_changes (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    effective_at INTEGER NOT NULL,
    fields TEXT NOT NULL,
    staff TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    applied_at INTEGER
);
CREATE INDEX rule_changes_due ON rule_changes(applied_at, effective_at);

-- The batch log in checkpoint order: position n holds one applied batch and its leaf.
CREATE TABLE checkpoint_log (
    n INTEGER PRIMARY KEY,
    kiosk TEXT NOT NULL,
    seq INTEGER NOT NULL,
    leaf TEXT NOT NULL,
    head TEXT NOT NULL,
    UNIQUE (kiosk, seq)
);

-- Signed checkpoints: ``body`` is the exact signed bytes (domain 'checkpoint').
CREATE TABLE checkpoints (
    n INTEGER PRIMARY KEY,
    size INTEGER NOT NULL,
    head TEXT NOT NULL,
    at INTEGER NOT NULL,
    body BLOB NOT NULL,
    signature TEXT NOT NULL
);
"""
_V2 = _V2_TABLES.replace("{append_only}", """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;""")

# Version 3: kiosk key rotation. ``kiosk_keys`` is every key a kiosk has held, never
# deleted: a key signs the kiosk's batches from ``from_seq`` until the next key's
# ``from_seq`` (for a seq, the row with the greatest from_seq <= seq, the later id winning),
# so audit verifies every old batch under the key that signed it. ``kiosks.public_key`` and
# ``kiosks.key_from_seq`` repeat the current row for the push path. ``kiosks.rekey_from`` is
# set while a re-enrolment forced by staff is pending: from that seq on the old key is refused.
# ``enroll_codes.rekey`` names the kiosk a re-enrolment code binds a new key to.
_V3 = """
CREATE TABLE kiosk_keys (
    id INTEGER PRIMARY KEY,
    kiosk TEXT NOT NULL REFERENCES kiosks(id),
    public_key TEXT NOT NULL UNIQUE,
    from_seq INTEGER NOT NULL CHECK (from_seq >= 1),
    added_at INTEGER NOT NULL,
    retired_at INTEGER
);
CREATE INDEX kiosk_keys_kiosk ON kiosk_keys(kiosk, from_seq, id);
INSERT INTO kiosk_keys(kiosk, public_key, from_seq, added_at)
    SELECT id, public_key, 1, enrolled_at FROM kiosks ORDER BY id;
ALTER TABLE kiosks ADD COLUMN key_from_seq INTEGER NOT NULL DEFAULT 1;
ALTER TABLE kiosks ADD COLUMN rekey_from INTEGER;
ALTER TABLE enroll_codes ADD COLUMN rekey TEXT;
"""

# Version 4: the monthly reports (board, points issued) select resident postings by time
# (``p.at`` in a month) with an account ``LIKE 'resident:%'`` no index serves; at 1M postings
# over 36 months this index takes the board from 503 to 154 ms (measured by bench/postings_at_index.py, removed when migration 13 moved the reports to month sums; the index itself is dropped by version 23).
_V4 = """
CREATE INDEX postings_at ON postings(at);
"""

# Version 5: what is not kept in quarantine. A body that fails its signature may come from
# anyone, and a verified kiosk's refused bodies beyond its quarantine allowance would fill
# the disk, so of those only a count per (kiosk, code) is kept, with their total size, the
# last one's SHA-256 and time; ``reviewed`` is the count the last review item covered.
_V5 = """
CREATE TABLE unstored_rejections (
    kiosk TEXT NOT NULL,
    code TEXT NOT NULL,
    count INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    last_hash TEXT NOT NULL,
    reviewed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kiosk, code)
);
"""

# Version 6: four-eyes resolutions. A resolution that moves more points than its item is
# about waits in ``pending_resolutions`` (one per item) until a second authorised staff
# member approves it (the row moves to ``resolutions`` with ``approved_by``) or declines it.
_V6 = """
CREATE TABLE pending_resolutions (
    review INTEGER PRIMARY KEY REFERENCES review_items(id),
    action TEXT NOT NULL CHECK (action IN ('adjust', 'charge-shop', 'write-off')),
    points INTEGER NOT NULL,
    bound INTEGER NOT NULL,
    staff TEXT NOT NULL,
    at INTEGER NOT NULL,
    note TEXT NOT NULL
);
ALTER TABLE resolutions ADD COLUMN approved_by TEXT;
"""

# Version 7: staff sign-in lockouts (server.services.throttle), kept so that the CLI and the
# API list what the serving process enforces, and a restart keeps them. ``username`` is NULL
# for a lock of a whole client address.
_V7 = """
CREATE TABLE signin_lockouts (
    id INTEGER PRIMARY KEY,
    username TEXT,
    address TEXT NOT NULL,
    at INTEGER NOT NULL,
    until INTEGER NOT NULL,
    level INTEGER NOT NULL,
    failures INTEGER NOT NULL
);
CREATE INDEX signin_lockouts_key ON signin_lockouts(address, username, until);
"""

# Version 8: what a database editor cannot change unseen (server.services.integrity).
# ``audit_log.hash`` chains each staff action to the one before (``sync.checkpoint.
# audit_row_hash``; rows written before version 8 have none, and the first row after them
# chains over them). Each ``kiosk_keys`` row written from now on carries its trace: the hash
# of the enrolment code that bound it, or the rotation request its old key signed (body and
# signature), and ``sealed``, the server's signature (domain ``kiosk-key``) over the binding;
# rows written before carry none, and ``meta.key_traces_from`` says where traced rows start.
# ``checkpoint_states`` holds each checkpoint's signed state (domain ``checkpoint-state``)
# and ``checkpoint_rows`` the row digests of the newest one, so an audit can name a row.
_V8 = """
ALTER TABLE audit_log ADD COLUMN hash TEXT;
ALTER TABLE kiosk_keys ADD COLUMN enroll_code TEXT;
ALTER TABLE kiosk_keys ADD COLUMN rotation BLOB;
ALTER TABLE kiosk_keys ADD COLUMN rotation_signature TEXT;
ALTER TABLE kiosk_keys ADD COLUMN sealed TEXT;
INSERT INTO meta(key, value) SELECT 'key_traces_from', COALESCE(MAX(id), 0) + 1 FROM kiosk_keys;
CREATE TABLE checkpoint_states (
    n INTEGER PRIMARY KEY REFERENCES checkpoints(n),
    body BLOB NOT NULL,
    signature TEXT NOT NULL
);
CREATE TABLE checkpoint_rows (
    tbl TEXT NOT NULL,
    key TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (tbl, key)
);
"""

# Version 9: what a stolen kiosk holds and what its records are checked against. ``rule_changes.previous_points``
# is the rule's value just before the change took effect, so every value a rule has had is
# known (an award matching none of them is applied at the rule's value, the rest reviewed).
#
# ``shop_serves``: the communities whose residents a shop's kiosks mirror (none listed: the
# shop's own). Residents' and balances' feed rows are scoped to their community from now on.
_V9 = """
ALTER TABLE rule_changes ADD COLUMN previous_points INTEGER;
CREATE TABLE shop_serves (
    shop TEXT NOT NULL REFERENCES shops(id),
    community TEXT NOT NULL REFERENCES communities(id),
    PRIMARY KEY (shop, community)
);
UPDATE feed SET scope = 'community:' || (SELECT community FROM residents WHERE card = feed.key)
    WHERE kind IN ('resident', 'balance') AND EXISTS (SELECT 1 FROM residents WHERE card = feed.key);
"""

# Shift reports (``shift_close`` events) are read by kind and time (the ``shifts`` report,
# GET /api/shifts), never by scanning every event.
_V10 = """
CREATE INDEX events_kind_at ON events(kind, at);
"""

# Version 12: staff usernames are case-insensitive (``Admin`` is ``admin``). A database
# holding two usernames that differ only in case is refused with the query that lists them
# (rename or disable one of each pair first): which of the two is meant cannot be guessed.
_V12 = """
CREATE TEMP TABLE case_twins (n INTEGER);
CREATE TEMP TRIGGER case_twins_refuse BEFORE INSERT ON case_twins WHEN NEW.n > 0 BEGIN
    SELECT RAISE(ABORT, 'migration 12 refused: staff usernames that differ only in letter case exist; list them with SELECT group_concat(username) FROM staff GROUP BY lower(username) HAVING count(*) > 1, keep one of each and start again');
END;
INSERT INTO case_twins SELECT count(*) FROM (SELECT 1 FROM staff GROUP BY lower(username) HAVING count(*) > 1);
DROP TRIGGER case_twins_refuse;
DROP TABLE case_twins;
CREATE UNIQUE INDEX staff_username_nocase ON staff(lower(username));
"""

#: the SQL function the server store registers on its connection: a name's pinyin initials
#: (``sync.initials``); SQL alone cannot read Chinese, so migration 11 needs it
INITIALS_FUNCTION = "pinyin_initials"

# Version 11: finding a resident in the staff console by name, pinyin initials (张三明 →
# ``zsm``) or the last four digits of the phone, each an index seek at city scale.
# A resident's page lists their review items (``review_items_resident``).
# ``initials`` is written by the store whenever it writes a resident's name
# (``server.store.catalog``); this migration fills it for residents stored before. The
# phone's tail is an expression index: queries say ``substr(phone, -4)`` as it is written here.
_V11 = f"""
ALTER TABLE residents ADD COLUMN initials TEXT NOT NULL DEFAULT '';
UPDATE residents SET initials = {INITIALS_FUNCTION}(name);
CREATE INDEX residents_initials ON residents(initials, name);
CREATE INDEX residents_name ON residents(name);
CREATE INDEX residents_phone_tail ON residents(substr(phone, -4));
CREATE INDEX review_items_resident ON review_items(resident, status);
"""

# Version 13: the staff console at city scale (every page within 300 ms at 500,000 residents
# and 3.2 million events). The monthly reports read month sums instead of a month of
# postings: ``flow_sums`` (resident-side points by community, event kind, the kind a void
# reverses and rule), ``card_sums`` (a resident's board points and kiosk events), and
# ``shop_sums`` / ``goods_sums`` (a shop's postings by kind, the goods its redemptions hand
# out). ``server.store.reports.catch_up`` adds every posting after ``sums_mark.posting`` into
# them and moves the mark, in one write transaction; a report catches up before it reads,
# so the sums are always those of every posting stored. The month is the posting's time in
# Asia/Shanghai (UTC+8 all year since 1991); ``''`` stands for "none" in the keys. The
# audit log is filtered by action; coverage counts residents from an index alone, and the
# board and coverage join a month's residents to their community and name through
# ``residents_card_community`` without reading the rows.
_V13 = """
CREATE INDEX audit_log_action ON audit_log(action, id);
CREATE INDEX residents_community_status ON residents(community, status);
CREATE INDEX residents_card_community ON residents(card, community, name);
CREATE TABLE sums_mark (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    posting INTEGER NOT NULL
);
INSERT INTO sums_mark(id, posting) VALUES (1, 0);
CREATE TABLE flow_sums (
    month TEXT NOT NULL,
    community TEXT NOT NULL,
    kind TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    rule TEXT NOT NULL,
    n INTEGER NOT NULL,
    points INTEGER NOT NULL,
    PRIMARY KEY (month, community, kind, target_kind, rule)
) WITHOUT ROWID;
CREATE TABLE card_sums (
    month TEXT NOT NULL,
    card TEXT NOT NULL,
    board_n INTEGER NOT NULL,
    board_points INTEGER NOT NULL,
    seen INTEGER NOT NULL,
    PRIMARY KEY (month, card)
) WITHOUT ROWID;
CREATE TABLE shop_sums (
    month TEXT NOT NULL,
    shop TEXT NOT NULL,
    kind TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    n INTEGER NOT NULL,
    points INTEGER NOT NULL,
    PRIMARY KEY (month, shop, kind, target_kind)
) WITHOUT ROWID;
CREATE TABLE goods_sums (
    month TEXT NOT NULL,
    shop TEXT NOT NULL,
    sku TEXT NOT NULL,
    qty INTEGER NOT NULL,
    points INTEGER NOT NULL,
    PRIMARY KEY (month, shop, sku)
) WITHOUT ROWID;
"""

# Version 14: a kiosk's online lookups and history requests are audit rows (staff
# ``kiosk:<id>``); its daily allowance counts today's rows of one action, an index range.
_V14 = """
CREATE INDEX audit_log_staff_action_at ON audit_log(staff, action, at);
"""

# Version 15: residents' voice (书记信箱, 村民说事). ``voice_items`` holds one row per ``voice``
# event (its tracking code, the resident's community when it arrived) and where its
# handling stands; its bookkeeping columns (status, assignee, reply, times, the stars that
# count) are updated as staff handle it and the resident rates it. ``voice_steps`` is the
# handling log, one row per step (received, assigned, replied, done, rated), appended only:
# what the public handling log shows, read per item and per community-month.
_V15 = """
CREATE TABLE voice_items (
    code TEXT PRIMARY KEY,
    event TEXT NOT NULL UNIQUE REFERENCES events(id),
    channel TEXT NOT NULL CHECK (channel IN ('letter', 'request')),
    category TEXT NOT NULL,
    resident TEXT NOT NULL,
    community TEXT NOT NULL,
    kiosk TEXT NOT NULL,
    shop TEXT,
    text TEXT NOT NULL,
    at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'replied', 'done')),
    assignee TEXT,
    reply TEXT NOT NULL DEFAULT '',
    replied_at INTEGER,
    done_at INTEGER,
    stars INTEGER CHECK (stars BETWEEN 1 AND 5),
    rated_at INTEGER,
    rating_event TEXT
);
CREATE INDEX voice_items_community_at ON voice_items(community, at);
CREATE INDEX voice_items_status_at ON voice_items(status, at);
CREATE TABLE voice_steps (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL REFERENCES voice_items(code),
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    step TEXT NOT NULL CHECK (step IN ('received', 'assigned', 'replied', 'done', 'rated')),
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX voice_steps_code ON voice_steps(code, id);
CREATE TRIGGER voice_steps_no_update BEFORE UPDATE ON voice_steps BEGIN
    SELECT RAISE(ABORT, 'voice_steps is append-only');
END;
CREATE TRIGGER voice_steps_no_delete BEFORE DELETE ON voice_steps BEGIN
    SELECT RAISE(ABORT, 'voice_steps is append-only');
END;
"""

# Version 16: checkpoints are also Merkle tree heads (RFC 9162) over the same log leaves,
# each signed as a C2SP checkpoint note (docs/PROTOCOL.md § 13). One row per checkpoint
# signed from this version on; ``root`` is hex, ``note`` the exact note text.
_V16 = """
CREATE TABLE tree_heads (
    n    INTEGER PRIMARY KEY REFERENCES checkpoints(n),
    size INTEGER NOT NULL,
    root TEXT NOT NULL,
    note TEXT NOT NULL
);
"""

# Version 17 (the console's last misses at city scale): ``board_ranks`` holds each
# community's ranked board of each month, kept by ``server.store.reports.catch_up`` beside
# the month sums (ranked with ``sync.board.rank``), so the city's board page reads its 200
# lines and not 63,000. A community is re-ranked when postings of its residents are caught
# up, and every month of it when a resident with postings joins, leaves or moves
# (``board_stale``, filled by the triggers below; the migration marks every community, so
# the first catch-up after upgrading ranks the history once). ``shift_counts`` holds each
# shift report's counted goods lines, filled when the report is stored (the trigger reads
# the event's JSON), keyed by the time the shift closed: a month of them is one range of one
# table, and the shift report no longer decodes every shift's signed bytes.
_V17 = """
CREATE TABLE board_ranks (
    month TEXT NOT NULL,
    community TEXT NOT NULL,
    rank INTEGER NOT NULL,
    card TEXT NOT NULL,
    points INTEGER NOT NULL,
    PRIMARY KEY (month, community, rank, card)
) WITHOUT ROWID;
CREATE TABLE board_stale (community TEXT PRIMARY KEY) WITHOUT ROWID;
INSERT INTO board_stale(community) SELECT DISTINCT community FROM residents;
CREATE TRIGGER board_stale_join AFTER INSERT ON residents
WHEN EXISTS (SELECT 1 FROM postings WHERE account = 'resident:' || NEW.card) BEGIN
    INSERT OR IGNORE INTO board_stale(community) VALUES (NEW.community);
END;
CREATE TRIGGER board_stale_move AFTER UPDATE OF card, community ON residents
WHEN (OLD.community IS NOT NEW.community OR OLD.card IS NOT NEW.card)
     AND EXISTS (SELECT 1 FROM postings WHERE account IN ('resident:' || OLD.card, 'resident:' || NEW.card)) BEGIN
    INSERT OR IGNORE INTO board_stale(community) VALUES (OLD.community), (NEW.community);
END;
CREATE TRIGGER board_stale_leave AFTER DELETE ON residents BEGIN
    INSERT OR IGNORE INTO board_stale(community) VALUES (OLD.community);
END;
CREATE TABLE shift_counts (
    closed_at INTEGER NOT NULL,
    event TEXT NOT NULL REFERENCES events(id),
    line INTEGER NOT NULL,
    kiosk TEXT NOT NULL,
    operator TEXT,
    sku TEXT NOT NULL,
    expected INTEGER NOT NULL,
    counted INTEGER,
    PRIMARY KEY (closed_at, event, line)
) WITHOUT ROWID;
CREATE TRIGGER shift_counts_fill AFTER INSERT ON events WHEN NEW.kind = 'shift_close' BEGIN
    INSERT INTO shift_counts(closed_at, event, line, kiosk, operator, sku, expected, counted)
    SELECT NEW.at, NEW.id, c.key, NEW.kiosk, NEW.operator, json_extract(c.value, '$.sku'), json_extract(c.value, '$.expected'),
           json_extract(c.value, '$.counted')
    FROM json_each(NEW.body, '$.counts') c;
END;
INSERT INTO shift_counts(closed_at, event, line, kiosk, operator, sku, expected, counted)
SELECT e.at, e.id, c.key, e.kiosk, e.operator, json_extract(c.value, '$.sku'), json_extract(c.value, '$.expected'),
       json_extract(c.value, '$.counted')
FROM events e INDEXED BY events_kind_at, json_each(e.body, '$.counts') c WHERE e.kind = 'shift_close';
"""

# Version 18: ingest as a signed log and its projection (server.services.push acknowledges by
# appending, server.services.projector derives the ledger behind it). ``ingest_log`` is the
# log of acknowledged batches in the order they were acknowledged: position ``pos`` names
# one applied row of ``batches`` (its verbatim signed bytes) and ``at``, when it was
# acknowledged (what the projector writes as ``received_at`` and review times, so a rebuild
# gives the same rows). ``meta.projected`` is the projector's cursor: every position up to it
# is in the ledger. Batches applied before this version are logged in the order they were
# applied, and are all projected. Both dialects take it as written (``pos`` becomes an
# identity column on PostgreSQL).
_V18 = """
CREATE TABLE ingest_log (
    pos INTEGER PRIMARY KEY,
    kiosk TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    UNIQUE (kiosk, seq)
);
INSERT INTO ingest_log(kiosk, seq, at)
    SELECT kiosk, seq, coalesce(applied_at, received_at) FROM batches WHERE status = 'applied'
    ORDER BY coalesce(applied_at, received_at), kiosk, seq;
INSERT INTO meta(key, value) SELECT 'projected', CAST(coalesce(max(pos), 0) AS TEXT) FROM ingest_log;
"""

# Version 19: the Merkle log's complete subtrees (docs/PROTOCOL.md § 13), stored as the
# checkpoint log grows (``sync.merkle.appended``): ``hash`` (hex) covers entries
# ``idx * 2**level`` to ``(idx + 1) * 2**level``, level 0 being the leaf hashes. A tree head or
# a proof reads O(log n) of them instead of every leaf. A log logged before this version
# gets its nodes at the next checkpoint (``server.services.tree.grow``); audit recomputes
# them from the leaves.
_V19 = """
CREATE TABLE log_nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (level, idx)
);
"""

# Version 20: counties, a level above communities (issue 15, "scope the feed by county").
# ``counties`` names them; ``community_counties`` puts a community in one. A community
# with no row is in the default county ``''``: a single-county deployment has no rows here
# and keeps working as before. A kiosk mirrors and pulls only its county (its shop's
# community's): the communities it serves are cut to that county (``catalog.served_communities``),
# a board row of a community in a named county is scoped ``county:<id>``, and a resident
# of another county is served through the signed ``POST /v1/lookup/resident``. Plain
# tables both dialects take as written, for any reader of a community's county.
_V20 = """
CREATE TABLE counties (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE community_counties (
    community TEXT PRIMARY KEY REFERENCES communities(id),
    county TEXT NOT NULL REFERENCES counties(id)
);
CREATE INDEX community_counties_county ON community_counties(county, community);
"""

# Version 21: volunteer service tasks (server.services.tasks). ``tasks`` is staff state:
# posted by central or community staff for one community, worth the points ``rule`` had
# when posted (``points``), claimable by ``slots`` residents, closed by staff at
# ``closed_at`` (claims the server acknowledged from then on do not count). ``task_claims``
# is projected from the signed log (``task_claim`` events that counted, and the
# ``task_done`` completing each): the projector writes it, a rebuild compares it.
_V21 = """
CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    n INTEGER NOT NULL UNIQUE,
    community TEXT NOT NULL REFERENCES communities(id),
    title TEXT NOT NULL,
    rule TEXT NOT NULL REFERENCES rules(code),
    points INTEGER NOT NULL,
    slots INTEGER NOT NULL CHECK (slots BETWEEN 1 AND 1000),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    posted_by TEXT NOT NULL,
    posted_at INTEGER NOT NULL,
    closed_by TEXT,
    closed_at INTEGER
);
CREATE INDEX tasks_community ON tasks(community, status);
CREATE TABLE task_claims (
    claim TEXT PRIMARY KEY,
    task TEXT NOT NULL REFERENCES tasks(id),
    resident TEXT NOT NULL,
    kiosk TEXT NOT NULL,
    at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    done_event TEXT UNIQUE,
    done_at INTEGER
);
CREATE INDEX task_claims_task ON task_claims(task);
"""

# Version 22: deletion rows of the pull feed (issue 15: a community moving county). The
# feed keeps one row per entity, under one scope; when an entity leaves the view of some
# kiosks (a board row moving to another county, a resident to another community, a shop no
# longer serving a community or moved to another county) those kiosks need a row saying so,
# under the scope they read, while the entity's own row moves to its new scope. ``feed_left``
# holds one such row per (kind, key, scope), numbered from the feed's own sequence (a pull
# reads both, ``data`` null for these: docs/PROTOCOL.md § 4.3), always below the entity's
# own row, so a kiosk that sees both ends with the entity. Plain SQL both dialects take.
_V22 = """
CREATE TABLE feed_left (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    scope TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (kind, key, scope)
);
CREATE UNIQUE INDEX feed_left_seq ON feed_left(seq);
"""

# Version 23: an index no query reads, dropped (issue 14: each posting the projector writes
# paid for it). ``postings_at`` (version 4) served the monthly reports' scan of resident
# postings by time; since version 13 those reports read the month sums, which are caught up
# by a range of the postings' key, and the one query left filtering postings by ``at``
# (``reports.account_sum``) names its account, which ``postings_account`` serves: SQLite's
# planner picks that one for it, and nothing else named ``postings_at``. Every other index
# of the tables the projector writes has a query it serves (docs/SCALING.md, fifth round).
# Plain SQL both dialects take.
_V23 = """
DROP INDEX postings_at;
"""

# Version 24: wrong phone digits given when rating a letter or request on the public page
# (docs/SECURITY.md: a tracking code can be guessed, so the public rating also asks for the
# last four digits of the resident's phone). One row per item once a try was wrong, its
# count of wrong tries (``server.services.voice.rate_public``: after ``PUBLIC_TRIES`` the
# item is rated only at a kiosk). Staff state, not projected from the log. Plain SQL both
# dialects take.
_V24 = """
CREATE TABLE voice_rate_failures (
    code TEXT PRIMARY KEY REFERENCES voice_items(code),
    failures INTEGER NOT NULL CHECK (failures >= 1)
);
"""

# Version 25: one projector per county (issue 15). Each logged batch names the counties
# whose ledger state its projection reads or moves (``log_counties``: the shop's county, its
# residents', the shops whose stock it moves, the tasks', letters' and void targets' owners —
# ``server.services.scopes``); a batch with no row there touches every county (a central
# batch, and every batch logged before this version). ``ingest_log.projected`` marks what
# the ledger holds, batch by batch: each county's projector folds the batches of its
# county in log order, so the projected ones of a county are always a prefix of its
# batches (``server.services.projector``), and the one cursor of version 18 becomes "the
# last position below the first unprojected one" (``server.store.log.projected``). Plain SQL
# both dialects take.
_V25 = """
ALTER TABLE ingest_log ADD COLUMN projected INTEGER NOT NULL DEFAULT 0;
UPDATE ingest_log SET projected = 1
    WHERE pos <= (SELECT coalesce(CAST(value AS INTEGER), 0) FROM meta WHERE key = 'projected');
CREATE INDEX ingest_log_unprojected ON ingest_log(pos) WHERE projected = 0;
CREATE TABLE log_counties (
    county TEXT NOT NULL,
    pos INTEGER NOT NULL,
    PRIMARY KEY (county, pos)
);
CREATE INDEX log_counties_pos ON log_counties(pos);
DELETE FROM meta WHERE key = 'projected';
"""

#: (version, SQL), in order. Append only.
MIGRATIONS: list[tuple[int, str]] = [(1, _V1), (2, _V2), (3, _V3), (4, _V4), (5, _V5), (6, _V6), (7, _V7), (8, _V8), (9, _V9), (10, _V10), (11, _V11), (12, _V12), (13, _V13), (14, _V14), (15, _V15), (16, _V16), (17, _V17), (18, _V18), (19, _V19), (20, _V20), (21, _V21), (22, _V22), (23, _V23), (24, _V24), (25, _V25)]

SCHEMA_VERSION = MIGRATIONS[-1][0]

# PostgreSQL (server.store.db with a ``postgresql://`` URL) runs the same list, each
# migration rewritten by ``server.store.dialect.postgresql``; a version listed here is run
# in this form instead (still rewritten), where PostgreSQL needs its own SQL. Version 1
# first defines the SQLite functions the store's queries call (``json_extract`` on text,
# bytes and jsonb, ``json_each`` over an array, ``strftime`` of unix seconds) and gives
# ``stock_moves`` the ``rowid`` SQLite gives every table. Versions 11 and 12 repair data
# stored before them; a PostgreSQL database is created at version 0 by this list, so none
# can exist there (12's unique index refuses case twins by itself).
_PG_FUNCTIONS = """
CREATE FUNCTION json_extract(doc jsonb, path text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT doc #>> string_to_array(substr(path, 3), '.') $$;
CREATE FUNCTION json_extract(doc text, path text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT json_extract(doc::jsonb, path) $$;
CREATE FUNCTION json_extract(doc bytea, path text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT json_extract(convert_from(doc, 'UTF8')::jsonb, path) $$;
CREATE FUNCTION json_each(doc bytea, path text) RETURNS TABLE (value jsonb) LANGUAGE sql IMMUTABLE
    AS $$ SELECT jsonb_array_elements(convert_from(doc, 'UTF8')::jsonb #> string_to_array(substr(path, 3), '.')) $$;
CREATE FUNCTION strftime(fmt text, secs bigint, modifier text) RETURNS text LANGUAGE sql STABLE
    AS $$ SELECT to_char(to_timestamp(secs) AT TIME ZONE 'UTC',
                         replace(replace(replace(fmt, '%Y', 'YYYY'), '%m', 'MM'), '%d', 'DD')) $$;
"""
#: name -> (the trigger as PostgreSQL's ``pg_get_triggerdef`` gives it, its function's body):
#: ``server.services.integrity`` checks both are as created here
_PG_TRIGGERS: dict[str, tuple[str, str]] = {
    "audit_log_no_change": (
        "CREATE TRIGGER audit_log_no_change BEFORE DELETE OR UPDATE ON public.audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_no_change_refuse()",
        " BEGIN RAISE EXCEPTION 'audit_log is append-only'; END "),
}
POSTGRESQL_TRIGGERS: dict[str, str] = {name: f"{trigger} AS $${body}$$" for name, (trigger, body) in _PG_TRIGGERS.items()}
_V15_TRIGGERS = _V15[_V15.index("CREATE TRIGGER voice_steps_no_update"):]
_PG_V15 = _V15.replace(_V15_TRIGGERS, """CREATE FUNCTION voice_steps_refuse() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'voice_steps is append-only'; END $$;
CREATE TRIGGER voice_steps_no_change BEFORE DELETE OR UPDATE ON voice_steps FOR EACH ROW EXECUTE FUNCTION voice_steps_refuse();
""")
_V17_TABLES = _V17[:_V17.index("CREATE TRIGGER board_stale_join")]
_V17_SHIFTS = _V17[_V17.index("CREATE TABLE shift_counts"):_V17.index("CREATE TRIGGER shift_counts_fill")]
#: migration 17 on PostgreSQL: the same tables, the triggers as plpgsql functions (a
#: shift's counted lines numbered from 0 as SQLite's json_each keys them)
_PG_V17 = _V17_TABLES + """CREATE FUNCTION board_stale_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM postings WHERE account = 'resident:' || NEW.card) THEN
            INSERT INTO board_stale(community) VALUES (NEW.community) ON CONFLICT DO NOTHING;
        END IF;
        RETURN NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        IF (OLD.community IS DISTINCT FROM NEW.community OR OLD.card IS DISTINCT FROM NEW.card)
           AND EXISTS (SELECT 1 FROM postings WHERE account IN ('resident:' || OLD.card, 'resident:' || NEW.card)) THEN
            INSERT INTO board_stale(community) VALUES (OLD.community), (NEW.community) ON CONFLICT DO NOTHING;
        END IF;
        RETURN NEW;
    END IF;
    INSERT INTO board_stale(community) VALUES (OLD.community) ON CONFLICT DO NOTHING;
    RETURN OLD;
END $$;
CREATE TRIGGER board_stale_join AFTER INSERT ON residents FOR EACH ROW EXECUTE FUNCTION board_stale_mark();
CREATE TRIGGER board_stale_move AFTER UPDATE OF card, community ON residents FOR EACH ROW EXECUTE FUNCTION board_stale_mark();
CREATE TRIGGER board_stale_leave AFTER DELETE ON residents FOR EACH ROW EXECUTE FUNCTION board_stale_mark();
""" + _V17_SHIFTS + """CREATE FUNCTION shift_counts_of(ev events) RETURNS TABLE (
    closed_at BIGINT, event TEXT, line BIGINT, kiosk TEXT, operator TEXT, sku TEXT, expected BIGINT, counted BIGINT)
    LANGUAGE sql STABLE AS $$
    SELECT ev.at, ev.id, c.n - 1, ev.kiosk, ev.operator, c.value ->> 'sku', (c.value ->> 'expected')::bigint,
           (c.value ->> 'counted')::bigint
    FROM jsonb_array_elements(convert_from(ev.body, 'UTF8')::jsonb -> 'counts') WITH ORDINALITY AS c(value, n) $$;
CREATE FUNCTION shift_counts_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO shift_counts SELECT * FROM shift_counts_of(NEW);
    RETURN NEW;
END $$;
CREATE TRIGGER shift_counts_fill AFTER INSERT ON events FOR EACH ROW WHEN (NEW.kind = 'shift_close')
    EXECUTE FUNCTION shift_counts_fill();
INSERT INTO shift_counts SELECT s.* FROM events e, shift_counts_of(e) s WHERE e.kind = 'shift_close';
"""
POSTGRESQL: dict[int, str] = {
    1: _PG_FUNCTIONS + _V1 + "ALTER TABLE stock_moves ADD COLUMN rowid BIGINT GENERATED ALWAYS AS IDENTITY;\n",
    2: _V2_TABLES.replace("{append_only}", "\n".join(
        f"CREATE FUNCTION {name}_refuse() RETURNS trigger LANGUAGE plpgsql AS $${body}$$;\n{trigger};"
        for name, (trigger, body) in _PG_TRIGGERS.items())),
    11: _V11.replace(f"UPDATE residents SET initials = {INITIALS_FUNCTION}(name);\n", ""),
    12: "CREATE UNIQUE INDEX staff_username_nocase ON staff(lower(username));\n",
    15: _PG_V15,
    17: _PG_V17,
}


def for_dialect(dialect: str, migrations: list[tuple[int, str]] = MIGRATIONS) -> list[tuple[int, str]]:
    """The migrations as ``dialect`` (``sqlite`` or ``postgresql``) runs them, before the
    store's spelling rewrite: the same numbers, each in its dialect's form."""
    if dialect == "sqlite":
        return migrations
    return [(v, POSTGRESQL.get(v, sql)) for v, sql in migrations]


def pending(current: int, migrations: list[tuple[int, str]] = MIGRATIONS) -> list[tuple[int, str]]:
    """The migrations a database at schema version ``current`` still needs, in order."""
    return sorted((m for m in migrations if m[0] > current), key=lambda m: m[0])
