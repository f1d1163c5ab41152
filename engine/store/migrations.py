"""The PostgreSQL schema as numbered migrations, applied in order by the engine on start (and by
`python -m engine store init`) under an advisory lock, so replicas starting together apply each once.
A migration is never edited once released: a change is a new number."""

from __future__ import annotations

# (version, what it does, SQL). Executed in one transaction per migration.
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "events, adaptive state and bandit statistics", """
CREATE TABLE aios_events (
    id BIGSERIAL PRIMARY KEY,
    -- sha256 of the event's NDJSON line: a retried insert or a re-imported log adds nothing
    event_key TEXT NOT NULL UNIQUE,
    -- the writing transaction: readers page by (xid, id) below the oldest running transaction,
    -- so an insert that commits late is never skipped by an incremental reader
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    ts TIMESTAMPTZ,
    event_type TEXT NOT NULL,
    message_id TEXT,
    session_id TEXT,
    bucket TEXT,
    route TEXT,
    trait TEXT,
    origin TEXT,
    error_code TEXT,
    -- the log line as written (json keeps its text and key order: readers get the file's exact event;
    -- cast to jsonb to index or query it)
    body JSON NOT NULL
);
CREATE INDEX aios_events_type_ts ON aios_events (event_type, ts);
CREATE INDEX aios_events_message ON aios_events (message_id);
CREATE INDEX aios_events_xid ON aios_events (xid, id);

CREATE TABLE aios_adaptive_state (
    experiment TEXT PRIMARY KEY,
    -- the state file's exact text (NULL: no state yet, the next answer starts a fresh experiment)
    document TEXT,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE SCHEMA aios_bandit;
CREATE TABLE aios_bandit.config (key TEXT PRIMARY KEY, value DOUBLE PRECISION NOT NULL);
CREATE TABLE aios_bandit.arms (
    assistant TEXT NOT NULL, category TEXT NOT NULL, recipe_id TEXT NOT NULL,
    pulls BIGINT NOT NULL DEFAULT 0, explored_pulls BIGINT NOT NULL DEFAULT 0,
    reward_sum DOUBLE PRECISION NOT NULL DEFAULT 0, reward_count BIGINT NOT NULL DEFAULT 0,
    feedback_total BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (assistant, category, recipe_id));
CREATE TABLE aios_bandit.selections (
    assistant TEXT NOT NULL, category TEXT NOT NULL, recipe_id TEXT NOT NULL, policy TEXT NOT NULL,
    explored INTEGER NOT NULL, count BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (assistant, category, recipe_id, policy, explored));
CREATE TABLE aios_bandit.hist (
    name TEXT NOT NULL, bucket INTEGER NOT NULL, count BIGINT NOT NULL DEFAULT 0,
    sum DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (name, bucket));
CREATE TABLE aios_bandit.counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
"""),
)

LATEST = MIGRATIONS[-1][0]
