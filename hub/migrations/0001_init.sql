-- The hub's state on PostgreSQL (issue 19): everything the sled store
-- holds, one table per collection. Applied once, in order, at start
-- (`storage/postgres/migrate.rs`); a migration is never edited once
-- released, the next one changes what it made.

-- Desks and their incarnations. A stream is one incarnation of a desk.
CREATE TABLE desks (
    desk_id text PRIMARY KEY,
    entry jsonb NOT NULL              -- DeskEntry without last_seen
);
CREATE TABLE desk_seen (
    desk_id text PRIMARY KEY,
    at text NOT NULL
);
CREATE TABLE incarnations (
    desk_id text PRIMARY KEY,
    list jsonb NOT NULL               -- [Incarnation], oldest first
);
CREATE TABLE push_state (
    desk_id text PRIMARY KEY,
    state jsonb NOT NULL              -- PushState
);

-- Ingest: the records, the refusals, each stream's progress and the
-- counts, all written by one transaction per group commit.
CREATE TABLE streams (
    desk_id text NOT NULL,
    incarnation integer NOT NULL,
    last_seq bigint NOT NULL,
    records bigint NOT NULL,
    rejected bigint NOT NULL,
    -- Of `records`, how many retention deleted.
    pruned bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (desk_id, incarnation)
);
CREATE TABLE records (
    desk_id text NOT NULL,
    incarnation integer NOT NULL,
    seq bigint NOT NULL,
    id uuid NOT NULL,
    week text NOT NULL,
    body bytea NOT NULL,              -- the record as protobuf (`proto::WireRecord`)
    PRIMARY KEY (desk_id, incarnation, seq)
);
CREATE UNIQUE INDEX records_id ON records (id);
CREATE INDEX records_week ON records (week);
-- The ids of the records retention deleted: still refused as held.
CREATE TABLE pruned_ids (
    id uuid PRIMARY KEY
);
CREATE TABLE refusals (
    desk_id text NOT NULL,
    incarnation integer NOT NULL,
    seq bigint NOT NULL,
    reason text NOT NULL,
    -- Refusals carry no time: the first `mark_refusals` after a refusal
    -- came notes its day here (NULL until then), and retention prunes by
    -- it, as the sled store's daily marks date its refusals.
    noted_on text,
    PRIMARY KEY (desk_id, incarnation, seq)
);
-- Serves both the marking (IS NULL) and the pruning (<).
CREATE INDEX refusals_by_note ON refusals (noted_on);
-- The days `mark_refusals` ran, so that a day is noted once.
CREATE TABLE refusal_days (
    day text PRIMARY KEY
);
-- One cube per pair of counted dimensions, split by week (`cubes.rs`).
-- Merged cells; room left in each page so that adding to a cell is a HOT
-- update, which writes no index.
CREATE TABLE counts (
    cube smallint NOT NULL,
    week text NOT NULL,
    a text NOT NULL,
    b text NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (cube, week, a, b)
) WITH (fillfactor = 70);
-- What each group commit added, copied in with the records (append only,
-- no index: a group of 20,000 records touches tens of thousands of cells,
-- and upserting them in the commit cost more than the records). Moved
-- into `counts` every few seconds by one replica at a time; a read sums
-- both, so the counts always include every committed record.
CREATE TABLE count_deltas (
    cube smallint NOT NULL,
    week text NOT NULL,
    a text NOT NULL,
    b text NOT NULL,
    n bigint NOT NULL
);
-- The cells of the records retention pruned, so that `verify` can still
-- check the counts against a recount.
CREATE TABLE pruned_counts (
    cube smallint NOT NULL,
    week text NOT NULL,
    a text NOT NULL,
    b text NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (cube, week, a, b)
);

-- The versioned logs pushed to every desk: guidance, templates,
-- catalogue, cards. `body` is the protobuf the sled store keeps.
CREATE TABLE logs (
    log text NOT NULL,
    version bigint NOT NULL,
    body bytea NOT NULL,
    PRIMARY KEY (log, version)
);
CREATE TABLE proposals (
    id text PRIMARY KEY,
    desk_id text NOT NULL,
    body bytea NOT NULL               -- proto::Proposal
);
CREATE TABLE pruned_proposals (
    id text PRIMARY KEY,
    desk_id text NOT NULL
);
CREATE TABLE minor_edits (
    version bigint PRIMARY KEY,
    edit jsonb NOT NULL
);
CREATE TABLE reports (
    id text PRIMARY KEY,
    report jsonb NOT NULL             -- StoredReport
);
CREATE TABLE audit (
    seq bigserial PRIMARY KEY,
    entry jsonb NOT NULL              -- AuditEntry, seq filled from the row
);
-- The publication register (`PublicationRegister`).
CREATE TABLE publications (
    seq bigserial PRIMARY KEY,
    dims text NOT NULL,               -- the dimensions joined by ','
    period text,                      -- NULL: from before the calendar
    publication jsonb NOT NULL
);
CREATE INDEX publications_by_table ON publications (dims, period, seq);
CREATE TABLE release_details (
    dims text NOT NULL,
    year integer NOT NULL,
    detail text NOT NULL,
    PRIMARY KEY (dims, year)
);
CREATE TABLE search_misses (
    week text NOT NULL,
    language text NOT NULL,
    query text NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (week, language, query)
);
-- The batch ids seen, numbered as they came, so that only the newest
-- are kept (`misses.rs`).
CREATE TABLE miss_batches (
    id text PRIMARY KEY,
    arrival bigint NOT NULL UNIQUE
);
-- Dashboard sessions, so that any replica serves a signed-in coordinator.
CREATE TABLE sessions (
    key bytea PRIMARY KEY,            -- SHA-256 of the cookie value
    "user" text NOT NULL,
    session jsonb NOT NULL,           -- StoredSession
    expires bigint NOT NULL
);
CREATE INDEX sessions_by_user ON sessions ("user");
-- Dashboard users (the sled hub keeps them in users.json).
CREATE TABLE users (
    name text PRIMARY KEY,
    "user" jsonb NOT NULL
);
CREATE TABLE meta (
    key text PRIMARY KEY,
    value text NOT NULL
);
