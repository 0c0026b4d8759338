//! The command line: one subcommand per operator action, as documented in the README.

use anyhow::{Context, anyhow};
use clap::{Args, Parser, Subcommand};
use rollcall_scim::schema::{AttributeType, CustomAttribute, WORKSPACE_USER_SCHEMA};
use rollcall_scim::user::{Role, UsernameFormat};
use rollcall_server::clock::{Clock, SystemClock};
use rollcall_server::operator::{self, NewWorkspace, WorkspaceUpdate};
use rollcall_server::views;
use rollcall_server::webhooks::ServerKey;
use rollcall_store::{Plan, ResourceId, Store, TokenId, WorkspaceId};
use serde_json::json;

use crate::output;
use crate::serve;

#[derive(Debug, Parser)]
#[command(name = "rollcall", version, about = "A SCIM 2.0 provisioning server")]
pub struct Cli {
    /// The database: sqlite://PATH (created if missing) or postgres://USER@HOST:PORT/DB.
    #[arg(
        long,
        global = true,
        env = "ROLLCALL_DATABASE_URL",
        default_value = "sqlite://rollcall.db"
    )]
    pub database: String,

    /// PostgreSQL only: the most connections this process keeps open.
    #[arg(
        long,
        global = true,
        env = "ROLLCALL_DATABASE_POOL",
        default_value_t = rollcall_store::postgres::DEFAULT_POOL_SIZE
    )]
    pub database_pool: u32,

    /// Print exactly one JSON object on stdout.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve SCIM, /healthz and /readyz.
    Serve(ServeArgs),
    /// Create or upgrade the database schema, then exit (every command also does this).
    Migrate,
    /// Create, update and list workspaces.
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Enable or disable SCIM provisioning for a workspace.
    #[command(subcommand)]
    Scim(ScimCommand),
    /// Issue, list and revoke a workspace's SCIM tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Change a member's role, Owner included.
    #[command(subcommand)]
    User(UserCommand),
    /// Map IdP groups to roles.
    #[command(subcommand)]
    Rolemap(RolemapCommand),
    /// Read a workspace's event feed.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Add attributes of the workspace's own to its User schema.
    #[command(subcommand)]
    Extension(ExtensionCommand),
    /// Send a workspace's events to URLs, signed; read the delivery log.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Create one-time links with which a workspace's IT admin takes a SCIM token.
    #[command(subcommand)]
    SetupLink(SetupLinkCommand),
    /// Issue, list and revoke operator API keys (for /api/v1).
    #[command(subcommand)]
    Apikey(ApikeyCommand),
    /// Read a workspace's request log, newest first.
    Log {
        workspace_id: String,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Only requests answered with an error (status 400 or more).
        #[arg(long)]
        failed: bool,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "ROLLCALL_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// The public origin used in meta.location (https://scim.example.com); defaults to
    /// http:// and the request's Host header.
    #[arg(long, env = "ROLLCALL_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Do not create a first workspace when the database has none.
    #[arg(long)]
    pub no_bootstrap: bool,

    /// Requests per second each workspace may send, on each node.
    #[arg(long, env = "ROLLCALL_RATE_PER_SECOND", default_value_t = rollcall_server::rate::DEFAULT_PER_SECOND)]
    pub rate_per_second: u32,

    /// How many requests a workspace may send at once above that rate.
    #[arg(long, env = "ROLLCALL_RATE_BURST", default_value_t = rollcall_server::rate::DEFAULT_BURST)]
    pub rate_burst: u32,

    /// Milliseconds before the first retry of a failed webhook delivery; each further failure
    /// doubles it.
    #[arg(long, env = "ROLLCALL_WEBHOOK_RETRY_BASE_MS", default_value_t = 5000)]
    pub webhook_retry_base_ms: u64,

    /// The longest wait between two attempts at one delivery, in milliseconds.
    #[arg(long, env = "ROLLCALL_WEBHOOK_RETRY_MAX_MS", default_value_t = 600_000)]
    pub webhook_retry_max_ms: u64,

    /// The largest request body, in bytes; larger ones are answered 413.
    #[arg(long, env = "ROLLCALL_MAX_BODY_BYTES", default_value_t = rollcall_server::app::MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// The longest filter, in characters.
    #[arg(long, env = "ROLLCALL_MAX_FILTER_LENGTH", default_value_t = 4096)]
    pub max_filter_length: usize,

    /// How deep a filter's groups, `not` and value paths may nest.
    #[arg(long, env = "ROLLCALL_MAX_FILTER_DEPTH", default_value_t = 32)]
    pub max_filter_depth: usize,

    /// How many comparisons and operators a filter may hold.
    #[arg(long, env = "ROLLCALL_MAX_FILTER_NODES", default_value_t = 256)]
    pub max_filter_nodes: usize,

    /// Operations in one PATCH request.
    #[arg(long, env = "ROLLCALL_MAX_PATCH_OPERATIONS", default_value_t = rollcall_scim::limits::MAX_PATCH_OPERATIONS)]
    pub max_patch_operations: usize,

    /// Member ids in one group write.
    #[arg(long, env = "ROLLCALL_MAX_MEMBERS_PER_OPERATION", default_value_t = rollcall_scim::limits::MAX_MEMBERS_PER_OPERATION)]
    pub max_members_per_operation: usize,

    /// Values of one multi-valued attribute.
    #[arg(long, env = "ROLLCALL_MAX_VALUES", default_value_t = rollcall_scim::limits::MAX_VALUES)]
    pub max_values: usize,

    /// The largest page a list answers (`count` is clamped to it).
    #[arg(long, env = "ROLLCALL_MAX_PAGE_SIZE", default_value_t = rollcall_scim::list::MAX_PAGE_SIZE)]
    pub max_page_size: usize,

    /// The most requests handled at once; more are answered 503 with Retry-After at once.
    #[arg(long, env = "ROLLCALL_MAX_IN_FLIGHT", default_value_t = 512)]
    pub max_in_flight: usize,

    /// Milliseconds a request may take before it is answered 503 with Retry-After.
    #[arg(long, env = "ROLLCALL_REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,

    /// Milliseconds a client may take to send a request body before it is answered 408.
    #[arg(long, env = "ROLLCALL_BODY_TIMEOUT_MS", default_value_t = 10_000)]
    pub body_timeout_ms: u64,

    /// Days the request log keeps an entry; 0 turns the request log off.
    #[arg(long, env = "ROLLCALL_REQUEST_LOG_RETENTION_DAYS", default_value_t = rollcall_server::request_log::DEFAULT_RETENTION_DAYS)]
    pub request_log_retention_days: u32,

    /// How long a node keeps the webhooks it delivers to, in milliseconds; a node that dies
    /// holds them this long before another (or the restarted one) takes over.
    #[arg(long, env = "ROLLCALL_WEBHOOK_LEASE_MS", default_value_t = 30_000)]
    pub webhook_lease_ms: u64,
}

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace.
    Create {
        name: String,
        #[arg(long, default_value = "free", value_parser = parse_plan)]
        plan: Plan,
        /// Only invited people may join (SCIM needs this).
        #[arg(long)]
        invitation_only: bool,
        /// What userName must be: an email address, or any string.
        #[arg(long, default_value = "email", value_parser = parse_format)]
        username_format: UsernameFormat,
        /// The role of users whose IdP sends none.
        #[arg(long, default_value = "Member", value_parser = parse_role)]
        default_role: Role,
        /// Publish /Roles for IdPs that discover assignable roles (Okta entitlements).
        #[arg(long)]
        role_discovery: bool,
    },
    /// Change a workspace's settings.
    Update {
        id: String,
        #[arg(long, value_parser = parse_plan)]
        plan: Option<Plan>,
        #[arg(long, value_parser = parse_bool)]
        invitation_only: Option<bool>,
        #[arg(long, value_parser = parse_format)]
        username_format: Option<UsernameFormat>,
        #[arg(long, value_parser = parse_role)]
        default_role: Option<Role>,
        #[arg(long, value_parser = parse_bool)]
        role_discovery: Option<bool>,
    },
    /// List workspaces.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ScimCommand {
    /// Enable SCIM and issue the first token (enterprise plan, invitation-only workspace).
    Enable { workspace_id: String },
    /// Disable SCIM; requests get 403 until it is enabled again.
    Disable { workspace_id: String },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token; it is shown once.
    Create {
        workspace_id: String,
        #[arg(long)]
        label: Option<String>,
        /// Lifetime such as 90d, 12h or 30m; no expiry when left out.
        #[arg(long)]
        expires_in: Option<String>,
    },
    /// List a workspace's tokens (never their secrets).
    List { workspace_id: String },
    /// Revoke a token by its id (tok_...).
    Revoke { token_id: String },
    /// Issue a new token in place of one, which keeps working for the overlap.
    Rotate {
        token_id: String,
        /// How long the old token keeps working, such as 24h, 7d or 30m.
        #[arg(long, default_value = "24h")]
        overlap: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Set a user's role: Owner, Admin, Member or Observer.
    SetRole {
        workspace_id: String,
        user_id: String,
        #[arg(value_parser = parse_role)]
        role: Role,
    },
}

#[derive(Debug, Subcommand)]
pub enum RolemapCommand {
    /// Map a group (by displayName) to Admin, Member or Observer.
    Set {
        workspace_id: String,
        #[arg(long)]
        group: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// List the workspace's group-to-role map.
    List { workspace_id: String },
    /// Remove a group's mapping.
    Remove {
        workspace_id: String,
        #[arg(long)]
        group: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// List events in commit order, after a cursor of an earlier read.
    List {
        workspace_id: String,
        #[arg(long)]
        after: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExtensionCommand {
    /// Add an attribute to the workspace's User extension.
    Add {
        workspace_id: String,
        #[arg(long)]
        name: String,
        /// string, boolean, integer, decimal, dateTime, reference or binary.
        #[arg(long = "type", default_value = "string", value_parser = parse_type)]
        kind: AttributeType,
        #[arg(long)]
        multi_valued: bool,
        #[arg(long)]
        required: bool,
        /// The only values accepted, comma-separated (string attributes).
        #[arg(long, value_delimiter = ',')]
        canonical: Vec<String>,
    },
    /// List the workspace's custom attributes.
    List { workspace_id: String },
    /// Remove a custom attribute from the schema.
    Remove {
        workspace_id: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SetupLinkCommand {
    /// Create a link (shown once); it works once, until it expires.
    Create {
        workspace_id: String,
        /// How long the link works, such as 7d (the default) or 48h.
        #[arg(long, default_value = "7d")]
        expires_in: String,
        /// The public origin the link starts with (https://rollcall.example.com).
        #[arg(long, env = "ROLLCALL_PUBLIC_URL")]
        public_url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    /// Issue an operator API key; prints it once.
    Create {
        #[arg(long)]
        label: Option<String>,
    },
    /// List operator API keys (never the keys themselves).
    List,
    /// Revoke an operator API key; it stops working at once.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Add a webhook; prints its id and signing secret (shown once).
    Add { workspace_id: String, url: String },
    /// List the workspace's webhooks and how far each has delivered.
    List { workspace_id: String },
    /// Remove a webhook and its delivery log.
    Remove {
        workspace_id: String,
        webhook_id: String,
    },
    /// The latest delivery attempts, newest first.
    Deliveries {
        workspace_id: String,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let options = rollcall_store::OpenOptions {
        pool_size: cli.database_pool,
    };
    let shared = rollcall_store::open_with(&cli.database, options)
        .with_context(|| format!("cannot open the database {}", redact_url(&cli.database)))?;
    let store: &dyn Store = shared.as_ref();
    let now = SystemClock.now();
    let json = cli.json;

    match cli.command {
        Command::Serve(args) => serve::run(shared.clone(), &cli.database, args).await,
        Command::Migrate => {
            let version = store.schema_version().await?;
            let backend = match rollcall_store::DatabaseUrl::parse(&cli.database)? {
                rollcall_store::DatabaseUrl::Sqlite(_) => "sqlite",
                rollcall_store::DatabaseUrl::Postgres(_) => "postgres",
            };
            output::print(
                json,
                json!({"backend": backend, "schema_version": version}),
                || format!("{backend} database at schema version {version}"),
            );
            Ok(())
        }
        Command::Workspace(WorkspaceCommand::Create {
            name,
            plan,
            invitation_only,
            username_format,
            default_role,
            role_discovery,
        }) => {
            let new = NewWorkspace {
                name,
                plan,
                invitation_only,
                username_format,
                default_role,
                role_discovery,
            };
            let workspace = operator::create_workspace(store, new, now).await?;
            output::workspace(json, &workspace);
            Ok(())
        }
        Command::Workspace(WorkspaceCommand::Update {
            id,
            plan,
            invitation_only,
            username_format,
            default_role,
            role_discovery,
        }) => {
            let update = WorkspaceUpdate {
                plan,
                invitation_only,
                username_format,
                default_role,
                role_discovery,
            };
            let workspace =
                operator::update_workspace(store, &WorkspaceId::new(id), update, now).await?;
            output::workspace(json, &workspace);
            Ok(())
        }
        Command::Workspace(WorkspaceCommand::List) => {
            let workspaces = store.list_workspaces().await?;
            output::workspaces(json, &workspaces);
            Ok(())
        }
        Command::Scim(ScimCommand::Enable { workspace_id }) => {
            let id = WorkspaceId::new(workspace_id);
            let (workspace, token) = operator::enable_scim(store, &id, now).await?;
            output::scim_enabled(json, &workspace, &token);
            Ok(())
        }
        Command::Scim(ScimCommand::Disable { workspace_id }) => {
            let workspace =
                operator::disable_scim(store, &WorkspaceId::new(workspace_id), now).await?;
            output::workspace(json, &workspace);
            Ok(())
        }
        Command::Token(TokenCommand::Create {
            workspace_id,
            label,
            expires_in,
        }) => {
            let expires_in = expires_in
                .map(|text| {
                    operator::parse_duration(&text).ok_or_else(|| {
                        anyhow!("--expires-in {text:?} is not a duration like 90d, 12h or 30m")
                    })
                })
                .transpose()?;
            let workspace = WorkspaceId::new(workspace_id);
            let token = operator::create_token(store, &workspace, label, expires_in, now).await?;
            output::token_issued(json, &workspace, &token);
            Ok(())
        }
        Command::Token(TokenCommand::List { workspace_id }) => {
            let tokens = operator::list_tokens(store, &WorkspaceId::new(workspace_id)).await?;
            output::tokens(json, &tokens);
            Ok(())
        }
        Command::Token(TokenCommand::Rotate { token_id, overlap }) => {
            let overlap = operator::parse_duration(&overlap).ok_or_else(|| {
                anyhow!("--overlap {overlap:?} is not a duration like 24h, 7d or 30m")
            })?;
            let old = TokenId::new(token_id);
            let rotated = operator::rotate_token(store, &old, overlap, now).await?;
            output::print(json, views::token_rotated(&rotated, old.as_str()), || {
                format!(
                    "token {} for workspace {} (shown once): {}\n{old} keeps working until {}",
                    rotated.issued.id,
                    rotated.workspace,
                    rotated.issued.token.expose(),
                    views::timestamp(rotated.old_expires_at)
                )
            });
            Ok(())
        }
        Command::Token(TokenCommand::Revoke { token_id }) => {
            let id = TokenId::new(token_id);
            operator::revoke_token(store, &id, now).await?;
            output::print(json, json!({"id": id.as_str(), "revoked": true}), || {
                format!("revoked token {id}")
            });
            Ok(())
        }
        Command::Rolemap(RolemapCommand::Set {
            workspace_id,
            group,
            role,
        }) => {
            let workspace = WorkspaceId::new(workspace_id);
            let mapping = operator::set_role_mapping(store, &workspace, &group, role, now).await?;
            output::print(
                json,
                json!({"workspace_id": workspace.as_str(), "group": mapping.group, "role": mapping.role.as_str()}),
                || format!("members of {:?} are now {}", mapping.group, mapping.role),
            );
            Ok(())
        }
        Command::Rolemap(RolemapCommand::List { workspace_id }) => {
            let workspace = WorkspaceId::new(workspace_id);
            let mappings = operator::list_role_mappings(store, &workspace).await?;
            let list: Vec<_> = mappings
                .iter()
                .map(|m| json!({"group": m.group, "role": m.role.as_str()}))
                .collect();
            output::print(json, json!({"mappings": list}), || {
                if mappings.is_empty() {
                    return "no group is mapped to a role".to_owned();
                }
                mappings
                    .iter()
                    .map(|m| format!("{}  {}", m.role, m.group))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(())
        }
        Command::Rolemap(RolemapCommand::Remove {
            workspace_id,
            group,
        }) => {
            let workspace = WorkspaceId::new(workspace_id);
            operator::remove_role_mapping(store, &workspace, &group, now).await?;
            output::print(
                json,
                json!({"workspace_id": workspace.as_str(), "group": group, "removed": true}),
                || format!("removed the mapping of {group:?}"),
            );
            Ok(())
        }
        Command::Events(EventsCommand::List {
            workspace_id,
            after,
            limit,
        }) => {
            let workspace = WorkspaceId::new(workspace_id);
            let events = operator::list_events(store, &workspace, after.as_deref(), limit).await?;
            output::events(json, &events, after.as_deref());
            Ok(())
        }
        Command::Extension(ExtensionCommand::Add {
            workspace_id,
            name,
            kind,
            multi_valued,
            required,
            canonical,
        }) => {
            let workspace = WorkspaceId::new(workspace_id);
            let attribute = CustomAttribute {
                name,
                kind,
                multi_valued,
                required,
                canonical_values: canonical.into_iter().filter(|v| !v.is_empty()).collect(),
            };
            let added = operator::add_custom_attribute(store, &workspace, attribute).await?;
            output::print(
                json,
                json!({
                    "workspace_id": workspace.as_str(),
                    "schema": WORKSPACE_USER_SCHEMA,
                    "attribute": output::custom_attribute(&added),
                }),
                || {
                    format!(
                        "added {} ({}) to {WORKSPACE_USER_SCHEMA}",
                        added.name,
                        added.kind.name()
                    )
                },
            );
            Ok(())
        }
        Command::Extension(ExtensionCommand::List { workspace_id }) => {
            let workspace = WorkspaceId::new(workspace_id);
            let attributes = operator::list_custom_attributes(store, &workspace).await?;
            let list: Vec<_> = attributes.iter().map(output::custom_attribute).collect();
            output::print(
                json,
                json!({"schema": WORKSPACE_USER_SCHEMA, "attributes": list}),
                || {
                    if attributes.is_empty() {
                        return "no custom attributes".to_owned();
                    }
                    attributes
                        .iter()
                        .map(|a| format!("{}  {}", a.name, a.kind.name()))
                        .collect::<Vec<_>>()
                        .join("\n")
                },
            );
            Ok(())
        }
        Command::Webhook(WebhookCommand::Add { workspace_id, url }) => {
            let workspace = WorkspaceId::new(workspace_id);
            let key = ServerKey::load(&cli.database).map_err(|reason| anyhow!(reason))?;
            let allow_private = rollcall_server::webhooks::target::allow_private_from_env();
            let added =
                operator::add_webhook(store, &key, &workspace, &url, allow_private, now).await?;
            output::print(
                json,
                json!({"id": added.webhook.id, "secret": added.secret.expose()}),
                || {
                    format!(
                        "added webhook {} for {}\nsigning secret: {}\n\
                         The secret is shown this once; give it to the receiver now.",
                        added.webhook.id,
                        added.webhook.url,
                        added.secret.expose()
                    )
                },
            );
            Ok(())
        }
        Command::SetupLink(SetupLinkCommand::Create {
            workspace_id,
            expires_in,
            public_url,
        }) => {
            let valid_for = operator::parse_duration(&expires_in).ok_or_else(|| {
                anyhow!("--expires-in {expires_in:?} is not a duration like 7d or 48h")
            })?;
            let workspace = WorkspaceId::new(workspace_id);
            let link = operator::create_setup_link(store, &workspace, valid_for, now).await?;
            let url =
                public_url.map(|origin| format!("{}{}", origin.trim_end_matches('/'), link.path()));
            output::print(
                json,
                json!({
                    "id": link.record.id,
                    "path": link.path(),
                    "url": url,
                    "expires_at": views::timestamp(link.record.expires_at),
                }),
                || {
                    format!(
                        "setup link (shown once; send it to the workspace's IT admin): {}\n\
                         it works once, until {}",
                        url.clone().unwrap_or_else(|| link.path()),
                        views::timestamp(link.record.expires_at)
                    )
                },
            );
            Ok(())
        }
        Command::Apikey(ApikeyCommand::Create { label }) => {
            let issued = operator::create_api_key(store, label, now).await?;
            output::print(
                json,
                views::api_key_issued(&issued.record, &issued.key),
                || {
                    format!(
                        "operator API key {} (shown once): {}",
                        issued.record.id,
                        issued.key.expose()
                    )
                },
            );
            Ok(())
        }
        Command::Apikey(ApikeyCommand::List) => {
            let keys = operator::list_api_keys(store).await?;
            output::print(json, views::api_keys(&keys), || {
                if keys.is_empty() {
                    return "no API keys".to_owned();
                }
                keys.iter()
                    .map(|k| {
                        format!(
                            "{}  {}{}",
                            k.id,
                            k.label.as_deref().unwrap_or("-"),
                            if k.revoked_at.is_some() {
                                "  revoked"
                            } else {
                                ""
                            }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(())
        }
        Command::Apikey(ApikeyCommand::Revoke { id }) => {
            operator::revoke_api_key(store, &id, now).await?;
            output::print(json, json!({"id": id, "revoked": true}), || {
                format!("revoked {id}")
            });
            Ok(())
        }
        Command::Log {
            workspace_id,
            limit,
            failed,
        } => {
            let workspace = WorkspaceId::new(workspace_id);
            let entries = operator::list_request_log(store, &workspace, limit, failed).await?;
            output::request_log(json, &entries);
            Ok(())
        }
        Command::Webhook(WebhookCommand::List { workspace_id }) => {
            let workspace = WorkspaceId::new(workspace_id);
            let webhooks = operator::list_webhooks(store, &workspace).await?;
            output::webhooks(json, &webhooks);
            Ok(())
        }
        Command::Webhook(WebhookCommand::Remove {
            workspace_id,
            webhook_id,
        }) => {
            let workspace = WorkspaceId::new(workspace_id);
            operator::remove_webhook(store, &workspace, &webhook_id).await?;
            output::print(json, json!({"id": webhook_id, "removed": true}), || {
                format!("removed webhook {webhook_id}")
            });
            Ok(())
        }
        Command::Webhook(WebhookCommand::Deliveries {
            workspace_id,
            limit,
        }) => {
            let workspace = WorkspaceId::new(workspace_id);
            let attempts = operator::list_deliveries(store, &workspace, limit).await?;
            output::deliveries(json, &attempts);
            Ok(())
        }
        Command::Extension(ExtensionCommand::Remove { workspace_id, name }) => {
            let workspace = WorkspaceId::new(workspace_id);
            operator::remove_custom_attribute(store, &workspace, &name).await?;
            output::print(
                json,
                json!({"workspace_id": workspace.as_str(), "name": name, "removed": true}),
                || format!("removed {name:?}"),
            );
            Ok(())
        }
        Command::User(UserCommand::SetRole {
            workspace_id,
            user_id,
            role,
        }) => {
            let workspace = WorkspaceId::new(workspace_id);
            let user = ResourceId::new(user_id);
            let record = operator::set_user_role(store, &workspace, &user, role, now).await?;
            output::print(
                json,
                json!({
                    "workspace_id": workspace.as_str(),
                    "user_id": record.id.as_str(),
                    "role": record.role.as_str(),
                }),
                || format!("user {} is now {}", record.id, record.role),
            );
            Ok(())
        }
    }
}

fn parse_plan(text: &str) -> Result<Plan, String> {
    text.parse()
        .map_err(|()| format!("{text:?} is not a plan; use free, business or enterprise"))
}

fn parse_format(text: &str) -> Result<UsernameFormat, String> {
    text.parse()
        .map_err(|()| format!("{text:?} is not a username format; use email or any"))
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
        .map_err(|()| format!("{text:?} is not a role; use Owner, Admin, Member or Observer"))
}

fn parse_type(text: &str) -> Result<AttributeType, String> {
    AttributeType::from_name(text).ok_or_else(|| {
        format!(
            "{text:?} is not a type; use string, boolean, integer, decimal, dateTime, reference \
             or binary"
        )
    })
}

fn parse_bool(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Ok(true),
        "false" | "no" | "0" => Ok(false),
        _ => Err(format!("{text:?} is not true or false")),
    }
}

/// A database URL fit for messages: the password, if the URL has one, is replaced.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}
