//! `rollcall serve`: logging, the first workspace on an empty database, and the HTTP server
//! with graceful shutdown.

use std::sync::Arc;

use anyhow::Context;
use rollcall_server::clock::{Clock, SystemClock};
use rollcall_server::guard::{Guard, ServerLimits};
use rollcall_server::rate::RateLimiter;
use rollcall_server::request_log::RequestLog;
use rollcall_server::webhooks::target::allow_private_from_env;
use rollcall_server::webhooks::{DispatchOptions, Dispatcher, ServerKey, WebhookSettings};
use rollcall_server::{AppState, app, operator};
use rollcall_store::Store;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command, ServeArgs};

/// Logs go to stderr: `RUST_LOG` picks the level (default info for serve, warn for the other
/// commands, whose stdout is their answer), `ROLLCALL_LOG_FORMAT=json` gives JSON lines.
pub fn init_logging(cli: &Cli) {
    let default = match cli.command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("ROLLCALL_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub async fn run(store: Arc<dyn Store>, database: &str, args: ServeArgs) -> anyhow::Result<()> {
    let _ = rollcall_scim::limits::configure(rollcall_scim::limits::Limits {
        max_patch_operations: args.max_patch_operations.max(1),
        max_members_per_operation: args.max_members_per_operation.max(1),
        max_values: args.max_values.max(1),
        max_page_size: args.max_page_size.max(1),
        filter: rollcall_scim::filter::FilterLimits {
            max_length: args.max_filter_length.max(1),
            max_depth: args.max_filter_depth.max(1),
            max_nodes: args.max_filter_nodes.max(1),
        },
    });
    let shutdown = shutdown_signal();
    let clock = Arc::new(SystemClock);
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;

    if !args.no_bootstrap
        && let Some((workspace, token)) = operator::bootstrap(store.as_ref(), clock.now()).await?
    {
        // Printed, not logged: the token must not end up in log files.
        let origin = args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{address}"));
        println!(
            "The database had no workspace, so rollcall created one with SCIM enabled.\n\
                 \n  SCIM base URL: {}{}\n  Bearer token:  {}\n\n\
                 The token is shown this once; paste both into your identity provider now.",
            origin.trim_end_matches('/'),
            operator::base_path(&workspace.id),
            token.token.expose(),
        );
    }

    let (stopping, mut stop) = tokio::sync::watch::channel(false);
    start_webhooks(&store, &clock, database, &args, stop.clone());

    let request_log = (args.request_log_retention_days > 0).then(|| {
        RequestLog::start(
            store.clone(),
            clock.clone(),
            args.request_log_retention_days,
        )
    });
    let state = AppState {
        webhooks: WebhookSettings {
            key: ServerKey::load(database).ok(),
            allow_private: allow_private_from_env(),
        },
        request_log: request_log.clone(),
        guard: Guard::new(ServerLimits {
            max_body_bytes: args.max_body_bytes.max(1),
            max_in_flight: args.max_in_flight.max(1),
            request_timeout: std::time::Duration::from_millis(args.request_timeout_ms.max(1)),
            body_timeout: std::time::Duration::from_millis(args.body_timeout_ms.max(1)),
        }),
        throttle: Default::default(),
        store,
        clock,
        rate: Arc::new(RateLimiter::new(args.rate_per_second, args.rate_burst)),
        public_url: args.public_url.map(Arc::from),
    };
    tracing::info!(%address, "rollcall listening");
    // The client's address is known to the handlers, for slowing down failed authentication.
    let service = axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
        std::net::SocketAddr,
    >(app(state));
    let server = axum::serve(listener, service).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stopping.send(true);
    });
    // In-flight requests get SHUTDOWN_GRACE to finish; a request still running then is cut
    // off (its transaction, if any, either committed or rolls back; nothing half-written stays).
    let deadline = async move {
        let _ = stop.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => result.context("the server failed")?,
        () = deadline => tracing::warn!(
            grace_seconds = SHUTDOWN_GRACE.as_secs(),
            "requests still running at the end of the shutdown grace period were cut off"
        ),
    }
    if let Some(log) = request_log {
        // Entries of the last requests are still queued: write them before exiting.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), log.flush()).await;
    }
    tracing::info!("rollcall stopped");
    Ok(())
}

/// Starts the webhook delivery loop, which stops when `stop` turns true (pending deliveries
/// resume at the next start). Without a server key (PostgreSQL without `ROLLCALL_SECRET_KEY`)
/// deliveries cannot be signed, so the loop does not start and the log says why.
fn start_webhooks(
    store: &Arc<dyn Store>,
    clock: &Arc<SystemClock>,
    database: &str,
    args: &ServeArgs,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let key = match ServerKey::load(database) {
        Ok(key) => key,
        Err(reason) => {
            tracing::warn!(%reason, "webhook deliveries are off");
            return;
        }
    };
    let options = DispatchOptions {
        retry_base: std::time::Duration::from_millis(args.webhook_retry_base_ms.max(1)),
        retry_max: std::time::Duration::from_millis(args.webhook_retry_max_ms.max(1)),
        lease: std::time::Duration::from_millis(args.webhook_lease_ms.max(1)),
        allow_private: allow_private_from_env(),
        ..DispatchOptions::default()
    };
    if options.allow_private {
        tracing::warn!("webhooks may reach private and loopback addresses (development only)");
    }
    match Dispatcher::new(store.clone(), clock.clone(), key, options) {
        Ok(dispatcher) => {
            tokio::spawn(dispatcher.run(stop));
        }
        Err(reason) => tracing::error!(%reason, "webhook deliveries are off"),
    }
}

/// How long in-flight requests may run after SIGTERM or Ctrl-C.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Resolves on Ctrl-C or SIGTERM; the server then stops accepting connections and in-flight
/// requests finish, within [`SHUTDOWN_GRACE`]. The handlers are installed when this is called,
/// not when it is first awaited, so a signal that comes while the server starts is not lost.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (mut terminate, mut interrupt) = signals;
            let terminated = async {
                match terminate.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let interrupted = async {
                match interrupt.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = terminated => {}
                () = interrupted => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down");
    }
}
