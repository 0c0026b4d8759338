//! Throwaway PostgreSQL schemas for test suites, so that every test gets an empty database
//! without creating one (which is slow) and many tests can run at once.

use crate::error::StoreError;

/// The variable that names the PostgreSQL database test suites may use.
pub const POSTGRES_URL_VARIABLE: &str = "ROLLCALL_TEST_POSTGRES_URL";

/// Creates an empty schema in the database `base_url` names and returns a URL whose sessions
/// use it (through the `search_path` option). The schema is left behind; drop the database
/// when the run ends.
pub fn scratch_postgres_url(base_url: &str) -> Result<String, StoreError> {
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let base = base_url.to_owned();
    let statement = format!("CREATE SCHEMA {schema}");
    // The synchronous client must not run on a thread inside tokio's runtime.
    std::thread::spawn(move || -> Result<(), StoreError> {
        let mut client = postgres::Client::connect(&base, postgres::NoTls)?;
        client.batch_execute(&statement)?;
        Ok(())
    })
    .join()
    .map_err(|_| StoreError::Internal("creating a schema panicked".to_owned()))??;
    let separator = if base_url.contains('?') { '&' } else { '?' };
    Ok(format!(
        "{base_url}{separator}options=-c%20search_path%3D{schema}"
    ))
}

/// The variable that picks the backend a test suite runs on: `sqlite` (the default) or
/// `postgres`.
pub const BACKEND_VARIABLE: &str = "ROLLCALL_TEST_BACKEND";

/// The backend a test suite runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backend [`BACKEND_VARIABLE`] names; an unknown name is an error, never SQLite.
pub fn backend() -> Result<Backend, StoreError> {
    match std::env::var(BACKEND_VARIABLE).as_deref() {
        Ok("postgres") => Ok(Backend::Postgres),
        Ok("sqlite" | "") | Err(_) => Ok(Backend::Sqlite),
        Ok(other) => Err(StoreError::Unsupported(format!(
            "{BACKEND_VARIABLE}={other:?}: use sqlite or postgres"
        ))),
    }
}

/// The URL of an empty database on the suite's backend: a SQLite file in `dir`, or a fresh
/// schema in the database [`POSTGRES_URL_VARIABLE`] names.
pub fn fresh_database_url(dir: &std::path::Path) -> Result<String, StoreError> {
    match backend()? {
        Backend::Sqlite => Ok(format!("sqlite://{}", dir.join("rollcall.db").display())),
        Backend::Postgres => {
            let base = std::env::var(POSTGRES_URL_VARIABLE).map_err(|_| {
                StoreError::Unsupported(format!(
                    "{BACKEND_VARIABLE}=postgres needs {POSTGRES_URL_VARIABLE}"
                ))
            })?;
            scratch_postgres_url(&base)
        }
    }
}

/// Every row of every table of the schema `url` uses, as text: what someone reading the
/// database would see, for tests that look for secrets in it.
pub fn dump_postgres(url: &str) -> Result<String, StoreError> {
    let url = url.to_owned();
    std::thread::spawn(move || -> Result<String, StoreError> {
        let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
        let tables: Vec<String> = client
            .query(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = current_schema()",
                &[],
            )?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
        let mut text = String::new();
        for table in tables {
            for row in client.query(&format!("SELECT t::text FROM \"{table}\" t"), &[])? {
                text.push_str(row.try_get(0)?);
                text.push('\n');
            }
        }
        Ok(text)
    })
    .join()
    .map_err(|_| StoreError::Internal("reading the schema panicked".to_owned()))?
}
