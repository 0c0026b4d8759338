//! Prepared statements kept per connection, so that a statement costs one round trip instead
//! of two (prepare, then execute) after the first time a connection runs it.
//!
//! Each pooled connection owns its statements (`Connection::statements` in the pool). While a
//! call runs, they are lent to the thread that runs it: `with_client` moves them into this
//! thread's `STATEMENTS` before the call and back afterwards, and [`Cached`] looks statements
//! up there. A statement is only ever run on the connection that prepared it: a call that
//! panicked may leave its statements behind, and the next call on the thread replaces them
//! before it reads any.

use std::cell::RefCell;
use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{GenericClient, Row, Statement};

/// Statements a connection keeps at most. Fixed SQL is far fewer; SQL that varies (a filter's
/// shape, a list of ids) stops being kept once the limit is reached and is then prepared on
/// each use, as before.
const MAX_STATEMENTS: usize = 256;

thread_local! {
    static STATEMENTS: RefCell<HashMap<String, Statement>> = RefCell::new(HashMap::new());
}

/// Lends `statements` to this thread for one call (see the module's documentation).
pub(super) fn lend(statements: &mut HashMap<String, Statement>) {
    let lent = std::mem::take(statements);
    STATEMENTS.with(|cell| *cell.borrow_mut() = lent);
}

/// Takes back what [`lend`] lent, with the statements the call prepared.
pub(super) fn take_back() -> HashMap<String, Statement> {
    STATEMENTS.with(|cell| std::mem::take(&mut *cell.borrow_mut()))
}

/// `sql` prepared on `client`'s connection, from this thread's statements when it is there.
pub fn prepared(client: &mut impl GenericClient, sql: &str) -> Result<Statement, postgres::Error> {
    if let Some(statement) = STATEMENTS.with(|cell| cell.borrow().get(sql).cloned()) {
        return Ok(statement);
    }
    let statement = client.prepare(sql)?;
    STATEMENTS.with(|cell| {
        let mut statements = cell.borrow_mut();
        if statements.len() < MAX_STATEMENTS {
            statements.insert(sql.to_owned(), statement.clone());
        }
    });
    Ok(statement)
}

/// What a query names: SQL text (prepared once per connection) or a statement prepared by the
/// caller.
pub trait Sql {
    fn statement(&self, client: &mut impl GenericClient) -> Result<Statement, postgres::Error>;
}

impl Sql for str {
    fn statement(&self, client: &mut impl GenericClient) -> Result<Statement, postgres::Error> {
        prepared(client, self)
    }
}

impl Sql for String {
    fn statement(&self, client: &mut impl GenericClient) -> Result<Statement, postgres::Error> {
        prepared(client, self)
    }
}

impl Sql for Statement {
    fn statement(&self, _: &mut impl GenericClient) -> Result<Statement, postgres::Error> {
        Ok(self.clone())
    }
}

/// `query`, `query_opt`, `query_one` and `execute` through the connection's statements.
pub trait Cached: GenericClient + Sized {
    fn query_c<Q: Sql + ?Sized>(
        &mut self,
        sql: &Q,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        let statement = sql.statement(self)?;
        self.query(&statement, params)
    }

    fn query_opt_c<Q: Sql + ?Sized>(
        &mut self,
        sql: &Q,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, postgres::Error> {
        let statement = sql.statement(self)?;
        self.query_opt(&statement, params)
    }

    fn query_one_c<Q: Sql + ?Sized>(
        &mut self,
        sql: &Q,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, postgres::Error> {
        let statement = sql.statement(self)?;
        self.query_one(&statement, params)
    }

    fn execute_c<Q: Sql + ?Sized>(
        &mut self,
        sql: &Q,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let statement = sql.statement(self)?;
        self.execute(&statement, params)
    }
}

impl<C: GenericClient> Cached for C {}
