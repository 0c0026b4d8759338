//! The PostgreSQL schema, versioned in the one-row table `rollcall_schema`.
//!
//! The tables mirror the SQLite ones column for column, so that both backends keep the same
//! values: timestamps as milliseconds, documents as the JSON text the server wrote (not `jsonb`,
//! which would reorder keys), and every text column in the `"C"` collation, so that an order
//! over text is byte order, as SQLite's `BINARY` collation is.
//!
//! Nodes that start at the same time all try to migrate: each runs the migrations in one
//! transaction that first takes a database-wide advisory lock, so one applies them and the
//! others find them applied.

use postgres::Client;

use crate::error::StoreError;

/// The advisory lock that serializes migrations (any fixed number unique to rollcall).
const MIGRATION_LOCK: i64 = 0x726f_6c6c_6361_6c6c;

const MIGRATIONS: &[&str] = &[
    // 1: everything the SQLite schema's version 1 has.
    r#"CREATE TABLE workspaces (
        id              TEXT COLLATE "C" PRIMARY KEY,
        name            TEXT COLLATE "C" NOT NULL,
        plan            TEXT COLLATE "C" NOT NULL,
        invitation_only BOOLEAN NOT NULL,
        scim_enabled    BOOLEAN NOT NULL,
        username_format TEXT COLLATE "C" NOT NULL,
        default_role    TEXT COLLATE "C" NOT NULL,
        created_at      BIGINT NOT NULL,
        role_discovery  BOOLEAN NOT NULL DEFAULT false
    );

    CREATE TABLE scim_tokens (
        id           TEXT COLLATE "C" PRIMARY KEY,
        workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id),
        label        TEXT COLLATE "C",
        secret_hash  TEXT COLLATE "C" NOT NULL,
        created_at   BIGINT NOT NULL,
        last_used_at BIGINT,
        expires_at   BIGINT,
        revoked_at   BIGINT
    );
    CREATE INDEX scim_tokens_workspace ON scim_tokens(workspace_id);

    CREATE TABLE users (
        seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id               TEXT COLLATE "C" NOT NULL UNIQUE,
        workspace_id     TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id),
        user_name        TEXT COLLATE "C" NOT NULL,
        user_name_key    TEXT COLLATE "C" NOT NULL,
        external_id      TEXT COLLATE "C",
        email_key        TEXT COLLATE "C" NOT NULL,
        display_name     TEXT COLLATE "C" NOT NULL,
        display_name_key TEXT COLLATE "C" NOT NULL,
        active           BOOLEAN,
        role             TEXT COLLATE "C" NOT NULL,
        idp_role         TEXT COLLATE "C",
        version          BIGINT NOT NULL,
        body             TEXT COLLATE "C" NOT NULL,
        created_at       BIGINT NOT NULL,
        updated_at       BIGINT NOT NULL
    );
    CREATE UNIQUE INDEX users_user_name ON users(workspace_id, user_name_key);
    CREATE INDEX users_external_id ON users(workspace_id, external_id);
    CREATE INDEX users_email ON users(workspace_id, email_key);
    CREATE INDEX users_display_name ON users(workspace_id, display_name_key);
    CREATE INDEX users_active ON users(workspace_id, active);
    CREATE INDEX users_workspace_seq ON users(workspace_id, seq);

    CREATE TABLE user_emails (
        workspace_id TEXT COLLATE "C" NOT NULL,
        user_seq     BIGINT NOT NULL REFERENCES users(seq) ON DELETE CASCADE,
        email_key    TEXT COLLATE "C" NOT NULL
    );
    CREATE INDEX user_emails_key ON user_emails(workspace_id, email_key);
    CREATE INDEX user_emails_user ON user_emails(user_seq);

    CREATE TABLE groups (
        seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id               TEXT COLLATE "C" NOT NULL UNIQUE,
        workspace_id     TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id),
        display_name     TEXT COLLATE "C" NOT NULL,
        display_name_key TEXT COLLATE "C" NOT NULL,
        external_id      TEXT COLLATE "C",
        version          BIGINT NOT NULL,
        body             TEXT COLLATE "C" NOT NULL,
        created_at       BIGINT NOT NULL,
        updated_at       BIGINT NOT NULL
    );
    CREATE UNIQUE INDEX groups_display_name ON groups(workspace_id, display_name_key);
    CREATE INDEX groups_external_id ON groups(workspace_id, external_id);
    CREATE INDEX groups_workspace_seq ON groups(workspace_id, seq);

    CREATE TABLE group_members (
        group_seq BIGINT NOT NULL REFERENCES groups(seq) ON DELETE CASCADE,
        user_seq  BIGINT NOT NULL REFERENCES users(seq) ON DELETE CASCADE,
        PRIMARY KEY (group_seq, user_seq)
    );
    CREATE INDEX group_members_user ON group_members(user_seq, group_seq);

    CREATE TABLE role_mappings (
        workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id),
        group_key    TEXT COLLATE "C" NOT NULL,
        group_name   TEXT COLLATE "C" NOT NULL,
        role         TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (workspace_id, group_key)
    );

    CREATE TABLE custom_attributes (
        seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id),
        name         TEXT COLLATE "C" NOT NULL,
        name_key     TEXT COLLATE "C" NOT NULL,
        kind         TEXT COLLATE "C" NOT NULL,
        multi_valued BOOLEAN NOT NULL,
        required     BOOLEAN NOT NULL,
        canonical    TEXT COLLATE "C" NOT NULL
    );
    CREATE UNIQUE INDEX custom_attributes_name ON custom_attributes(workspace_id, name_key);

    -- seq is the cursor. Writers of one workspace hold its advisory lock until they commit, so
    -- within a workspace seq order is commit order (see postgres/mod.rs).
    CREATE TABLE events (
        seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id           TEXT COLLATE "C" NOT NULL UNIQUE,
        workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id),
        type         TEXT COLLATE "C" NOT NULL,
        resource_id  TEXT COLLATE "C" NOT NULL,
        data         TEXT COLLATE "C" NOT NULL,
        occurred_at  BIGINT NOT NULL
    );
    CREATE INDEX events_workspace ON events(workspace_id, seq);"#,
    // 2: webhooks and their delivery log.
    r#"CREATE TABLE webhooks (
        id                TEXT COLLATE "C" PRIMARY KEY,
        workspace_id      TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id),
        url               TEXT COLLATE "C" NOT NULL,
        secret_salt       TEXT COLLATE "C" NOT NULL,
        created_at        BIGINT NOT NULL,
        delivered_through BIGINT NOT NULL,
        failures          BIGINT NOT NULL,
        next_attempt_at   BIGINT NOT NULL,
        lease_owner       TEXT COLLATE "C",
        lease_until       BIGINT
    );
    CREATE INDEX webhooks_workspace ON webhooks(workspace_id);

    CREATE TABLE webhook_deliveries (
        seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        webhook_id   TEXT COLLATE "C" NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        workspace_id TEXT COLLATE "C" NOT NULL,
        event_id     TEXT COLLATE "C" NOT NULL,
        event_cursor BIGINT NOT NULL,
        attempt      BIGINT NOT NULL,
        at           BIGINT NOT NULL,
        status       BIGINT,
        error        TEXT COLLATE "C",
        delivered    BOOLEAN NOT NULL,
        duration_ms  BIGINT NOT NULL
    );
    CREATE INDEX webhook_deliveries_workspace ON webhook_deliveries(workspace_id, seq);
    CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id);"#,
    // 3: the per-workspace request log.
    r#"CREATE TABLE request_log (
        seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        workspace_id TEXT COLLATE "C" NOT NULL,
        at           BIGINT NOT NULL,
        method       TEXT COLLATE "C" NOT NULL,
        route        TEXT COLLATE "C" NOT NULL,
        resource_id  TEXT COLLATE "C",
        status       BIGINT NOT NULL,
        scim_type    TEXT COLLATE "C",
        detail       TEXT COLLATE "C",
        latency_ms   BIGINT NOT NULL,
        token_id     TEXT COLLATE "C" NOT NULL,
        user_agent   TEXT COLLATE "C",
        body         TEXT COLLATE "C"
    );
    CREATE INDEX request_log_workspace ON request_log(workspace_id, seq);
    CREATE INDEX request_log_failed ON request_log(workspace_id, seq) WHERE status >= 400;
    CREATE INDEX request_log_at ON request_log(at);"#,
    // 4: operator API keys.
    r#"CREATE TABLE api_keys (
        id           TEXT COLLATE "C" PRIMARY KEY,
        label        TEXT COLLATE "C",
        secret_hash  TEXT COLLATE "C" NOT NULL,
        created_at   BIGINT NOT NULL,
        last_used_at BIGINT,
        revoked_at   BIGINT
    );"#,
    // 5: setup links.
    r#"CREATE TABLE setup_links (
        id           TEXT COLLATE "C" PRIMARY KEY,
        workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id),
        secret_hash  TEXT COLLATE "C" NOT NULL,
        created_at   BIGINT NOT NULL,
        expires_at   BIGINT NOT NULL,
        used_at      BIGINT
    );"#,
    // 6: each workspace's number of users and groups, kept by a trigger in the transaction of
    // every insert and delete (see the SQLite schema's version 6).
    r#"CREATE TABLE resource_counts (
        workspace_id TEXT COLLATE "C" PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
        users        BIGINT NOT NULL DEFAULT 0,
        groups       BIGINT NOT NULL DEFAULT 0
    );
    INSERT INTO resource_counts (workspace_id, users, groups)
        SELECT w.id,
               (SELECT count(*) FROM users u WHERE u.workspace_id = w.id),
               (SELECT count(*) FROM groups g WHERE g.workspace_id = w.id)
        FROM workspaces w;
    CREATE FUNCTION rollcall_count_resources() RETURNS trigger LANGUAGE plpgsql AS $count$
    BEGIN
        IF TG_TABLE_NAME = 'workspaces' THEN
            INSERT INTO resource_counts (workspace_id) VALUES (NEW.id);
        ELSIF TG_TABLE_NAME = 'users' AND TG_OP = 'INSERT' THEN
            UPDATE resource_counts SET users = users + 1 WHERE workspace_id = NEW.workspace_id;
        ELSIF TG_TABLE_NAME = 'users' THEN
            UPDATE resource_counts SET users = users - 1 WHERE workspace_id = OLD.workspace_id;
        ELSIF TG_OP = 'INSERT' THEN
            UPDATE resource_counts SET groups = groups + 1 WHERE workspace_id = NEW.workspace_id;
        ELSE
            UPDATE resource_counts SET groups = groups - 1 WHERE workspace_id = OLD.workspace_id;
        END IF;
        RETURN NULL;
    END
    $count$;
    CREATE TRIGGER workspaces_counted AFTER INSERT ON workspaces
        FOR EACH ROW EXECUTE FUNCTION rollcall_count_resources();
    CREATE TRIGGER users_counted AFTER INSERT OR DELETE ON users
        FOR EACH ROW EXECUTE FUNCTION rollcall_count_resources();
    CREATE TRIGGER groups_counted AFTER INSERT OR DELETE ON groups
        FOR EACH ROW EXECUTE FUNCTION rollcall_count_resources();"#,
];

/// The schema version this build writes.
pub fn latest() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// Brings the schema up to the latest version; returns the versions applied (none when it was
/// up to date).
pub fn run(client: &mut Client) -> Result<Vec<i64>, StoreError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS rollcall_schema (
             only_row BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
             version  BIGINT NOT NULL
         );
         INSERT INTO rollcall_schema (version) VALUES (0) ON CONFLICT DO NOTHING;",
    )?;
    let current: i64 = tx
        .query_one("SELECT version FROM rollcall_schema", &[])?
        .get(0);
    let known = latest();
    if current > known {
        return Err(StoreError::Internal(format!(
            "the database is at schema version {current}, newer than this rollcall ({known}); \
             upgrade rollcall"
        )));
    }
    let mut applied = Vec::new();
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(current).unwrap_or(0))
    {
        tx.batch_execute(sql)?;
        let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
        tracing::info!(version, "applied postgres migration");
        applied.push(version);
    }
    tx.execute("UPDATE rollcall_schema SET version = $1", &[&known])?;
    tx.commit()?;
    Ok(applied)
}
