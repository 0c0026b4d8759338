//! The SQLite schema, versioned with `PRAGMA user_version`.
//!
//! Each entry of [`MIGRATIONS`] moves the schema one version up. They run in one
//! `BEGIN IMMEDIATE` transaction at open, so a server and a CLI starting at the same time on a
//! new file do not both apply them.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: workspaces, tokens, users.
    "CREATE TABLE workspaces (
        id              TEXT PRIMARY KEY,
        name            TEXT NOT NULL,
        plan            TEXT NOT NULL,
        invitation_only INTEGER NOT NULL,
        scim_enabled    INTEGER NOT NULL,
        username_format TEXT NOT NULL,
        default_role    TEXT NOT NULL,
        created_at      INTEGER NOT NULL,
        role_discovery  INTEGER NOT NULL DEFAULT 0
    ) STRICT;

    CREATE TABLE scim_tokens (
        id           TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id),
        label        TEXT,
        secret_hash  TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        last_used_at INTEGER,
        expires_at   INTEGER,
        revoked_at   INTEGER
    ) STRICT;
    CREATE INDEX scim_tokens_workspace ON scim_tokens(workspace_id);

    -- seq is the insertion order: the stable order of lists and the key of user_emails.
    CREATE TABLE users (
        seq           INTEGER PRIMARY KEY,
        id            TEXT NOT NULL UNIQUE,
        workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
        user_name     TEXT NOT NULL,
        user_name_key TEXT NOT NULL,
        external_id   TEXT,
        email_key     TEXT NOT NULL,
        display_name  TEXT NOT NULL,
        display_name_key TEXT NOT NULL,
        active        INTEGER,  -- NULL when the IdP never sent active
        role          TEXT NOT NULL,  -- effective: Owner, else mapped groups, else idp_role
        idp_role      TEXT,           -- what the IdP sent; NULL means the workspace default
        version       INTEGER NOT NULL,
        body          TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX users_user_name ON users(workspace_id, user_name_key);
    CREATE INDEX users_external_id ON users(workspace_id, external_id);
    CREATE INDEX users_email ON users(workspace_id, email_key);
    CREATE INDEX users_display_name ON users(workspace_id, display_name_key);
    CREATE INDEX users_active ON users(workspace_id, active);
    CREATE INDEX users_workspace_seq ON users(workspace_id, seq);

    CREATE TABLE user_emails (
        workspace_id TEXT NOT NULL,
        user_seq     INTEGER NOT NULL REFERENCES users(seq) ON DELETE CASCADE,
        email_key    TEXT NOT NULL
    ) STRICT;
    CREATE INDEX user_emails_key ON user_emails(workspace_id, email_key);
    CREATE INDEX user_emails_user ON user_emails(user_seq);

    CREATE TABLE groups (
        seq              INTEGER PRIMARY KEY,
        id               TEXT NOT NULL UNIQUE,
        workspace_id     TEXT NOT NULL REFERENCES workspaces(id),
        display_name     TEXT NOT NULL,
        display_name_key TEXT NOT NULL,
        external_id      TEXT,
        version          INTEGER NOT NULL,
        body             TEXT NOT NULL,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX groups_display_name ON groups(workspace_id, display_name_key);
    CREATE INDEX groups_external_id ON groups(workspace_id, external_id);
    CREATE INDEX groups_workspace_seq ON groups(workspace_id, seq);

    -- One row per membership; both sides belong to the same workspace (checked on insert).
    CREATE TABLE group_members (
        group_seq INTEGER NOT NULL REFERENCES groups(seq) ON DELETE CASCADE,
        user_seq  INTEGER NOT NULL REFERENCES users(seq) ON DELETE CASCADE,
        PRIMARY KEY (group_seq, user_seq)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX group_members_user ON group_members(user_seq, group_seq);

    -- The operator's group-to-role map, by the group's folded displayName.
    CREATE TABLE role_mappings (
        workspace_id TEXT NOT NULL REFERENCES workspaces(id),
        group_key    TEXT NOT NULL,
        group_name   TEXT NOT NULL,
        role         TEXT NOT NULL,
        PRIMARY KEY (workspace_id, group_key)
    ) STRICT;

    -- The attributes of a workspace's own User extension, in the order they were added.
    CREATE TABLE custom_attributes (
        seq            INTEGER PRIMARY KEY,
        workspace_id   TEXT NOT NULL REFERENCES workspaces(id),
        name           TEXT NOT NULL,
        name_key       TEXT NOT NULL,
        kind           TEXT NOT NULL,
        multi_valued   INTEGER NOT NULL,
        required       INTEGER NOT NULL,
        canonical      TEXT NOT NULL  -- a JSON array of strings
    ) STRICT;
    CREATE UNIQUE INDEX custom_attributes_name ON custom_attributes(workspace_id, name_key);

    -- The event feed; seq is the cursor and, with one writer, the commit order.
    CREATE TABLE events (
        seq          INTEGER PRIMARY KEY,
        id           TEXT NOT NULL UNIQUE,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id),
        type         TEXT NOT NULL,
        resource_id  TEXT NOT NULL,
        data         TEXT NOT NULL,
        occurred_at  INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX events_workspace ON events(workspace_id, seq);",
    // 2: webhooks and their delivery log.
    "CREATE TABLE webhooks (
        id                TEXT PRIMARY KEY,
        workspace_id      TEXT NOT NULL REFERENCES workspaces(id),
        url               TEXT NOT NULL,
        secret_salt       TEXT NOT NULL,
        created_at        INTEGER NOT NULL,
        delivered_through INTEGER NOT NULL,  -- an events.seq
        failures          INTEGER NOT NULL,
        next_attempt_at   INTEGER NOT NULL,
        lease_owner       TEXT,
        lease_until       INTEGER
    ) STRICT;
    CREATE INDEX webhooks_workspace ON webhooks(workspace_id);

    CREATE TABLE webhook_deliveries (
        seq          INTEGER PRIMARY KEY,
        webhook_id   TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        workspace_id TEXT NOT NULL,
        event_id     TEXT NOT NULL,
        event_cursor INTEGER NOT NULL,
        attempt      INTEGER NOT NULL,
        at           INTEGER NOT NULL,
        status       INTEGER,
        error        TEXT,
        delivered    INTEGER NOT NULL,
        duration_ms  INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX webhook_deliveries_workspace ON webhook_deliveries(workspace_id, seq);
    CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id);",
    // 3: the per-workspace request log.
    "CREATE TABLE request_log (
        seq          INTEGER PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        at           INTEGER NOT NULL,
        method       TEXT NOT NULL,
        route        TEXT NOT NULL,
        resource_id  TEXT,
        status       INTEGER NOT NULL,
        scim_type    TEXT,
        detail       TEXT,
        latency_ms   INTEGER NOT NULL,
        token_id     TEXT NOT NULL,
        user_agent   TEXT,
        body         TEXT  -- secrets redacted, size capped
    ) STRICT;
    CREATE INDEX request_log_workspace ON request_log(workspace_id, seq);
    CREATE INDEX request_log_failed ON request_log(workspace_id, seq) WHERE status >= 400;
    CREATE INDEX request_log_at ON request_log(at);",
    // 4: operator API keys.
    "CREATE TABLE api_keys (
        id           TEXT PRIMARY KEY,
        label        TEXT,
        secret_hash  TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at   INTEGER
    ) STRICT;",
    // 5: setup links.
    "CREATE TABLE setup_links (
        id           TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id),
        secret_hash  TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL,
        used_at      INTEGER
    ) STRICT;",
    // 6: each workspace's number of users and groups, kept by triggers in the transaction of
    // every insert and delete, so that an unfiltered list's totalResults is one row read, not
    // a count over the whole directory.
    "CREATE TABLE resource_counts (
        workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
        users        INTEGER NOT NULL DEFAULT 0,
        groups       INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    INSERT INTO resource_counts (workspace_id, users, groups)
        SELECT w.id,
               (SELECT count(*) FROM users u WHERE u.workspace_id = w.id),
               (SELECT count(*) FROM groups g WHERE g.workspace_id = w.id)
        FROM workspaces w;
    CREATE TRIGGER workspaces_counted AFTER INSERT ON workspaces BEGIN
        INSERT INTO resource_counts (workspace_id) VALUES (NEW.id);
    END;
    CREATE TRIGGER users_counted AFTER INSERT ON users BEGIN
        UPDATE resource_counts SET users = users + 1 WHERE workspace_id = NEW.workspace_id;
    END;
    CREATE TRIGGER users_uncounted AFTER DELETE ON users BEGIN
        UPDATE resource_counts SET users = users - 1 WHERE workspace_id = OLD.workspace_id;
    END;
    CREATE TRIGGER groups_counted AFTER INSERT ON groups BEGIN
        UPDATE resource_counts SET groups = groups + 1 WHERE workspace_id = NEW.workspace_id;
    END;
    CREATE TRIGGER groups_uncounted AFTER DELETE ON groups BEGIN
        UPDATE resource_counts SET groups = groups - 1 WHERE workspace_id = OLD.workspace_id;
    END;",
];

/// Brings the schema up to the latest version.
pub fn run(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    if current > known {
        return Err(StoreError::Internal(format!(
            "the database is at schema version {current}, newer than this rollcall ({known}); \
             upgrade rollcall"
        )));
    }
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(current).unwrap_or(0))
    {
        tx.execute_batch(sql)?;
        tracing::info!(version = index + 1, "applied sqlite migration");
    }
    tx.pragma_update(None, "user_version", known)?;
    tx.commit()?;
    Ok(())
}
