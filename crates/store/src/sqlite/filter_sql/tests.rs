#![allow(clippy::unwrap_used)]

use rollcall_scim::filter::parse_filter;
use rusqlite::{Connection, params_from_iter};

use super::*;

fn sql(filter: &str) -> SqlFilter {
    translate(&parse_filter(filter).unwrap(), 2)
}

fn text(value: &str) -> SqlValue {
    SqlValue::Text(value.to_owned())
}

#[test]
fn equality_on_user_name_narrows_by_the_key_and_decides_on_the_body() {
    let out = sql(r#"USERNAME eq " Ada@Example.COM""#);
    assert_eq!(
        out.sql,
        "(u.user_name_key = ?2 AND rc_fold(json_extract(u.body, ?3)) = ?4)"
    );
    assert_eq!(
        out.params,
        [
            text("ada@example.com"),
            text("$.\"userName\""),
            text(" ada@example.com")
        ]
    );
}

#[test]
fn emails_compare_each_address_and_look_up_the_index() {
    let out = sql(r#"emails eq "Ada@Example.com""#);
    assert_eq!(
        out.sql,
        "(u.seq IN (SELECT e.user_seq FROM user_emails e WHERE e.workspace_id = ?1 \
         AND e.email_key = ?2) AND EXISTS (SELECT 1 FROM json_each(u.body, ?3) AS j1 \
         WHERE rc_fold(json_extract(j1.value, ?4)) = ?5))"
    );
    assert_eq!(
        out.params,
        [
            text("ada@example.com"),
            text("$.\"emails\""),
            text("$.\"value\""),
            text("ada@example.com")
        ]
    );
}

#[test]
fn value_paths_test_each_element_on_its_own() {
    let out = sql(r#"emails[type eq "work" and not (value co "@x.org")]"#);
    assert_eq!(
        out.sql,
        "EXISTS (SELECT 1 FROM json_each(u.body, ?2) AS j1 WHERE \
         (rc_fold(json_extract(j1.value, ?3)) = ?4 AND \
         (instr(rc_fold(json_extract(j1.value, ?5)), ?6) > 0) IS NOT TRUE))"
    );
    assert_eq!(
        out.params,
        [
            text("$.\"emails\""),
            text("$.\"type\""),
            text("work"),
            text("$.\"value\""),
            text("@x.org")
        ]
    );

    // A single-valued complex attribute is its own element, when it is there at all.
    let out = sql(r#"name[not (givenName sw "A")]"#);
    assert_eq!(
        out.sql,
        "(json_type(u.body, ?2) IS NOT NULL AND \
         (instr(rc_fold(json_extract(u.body, ?3)), ?4) = 1) IS NOT TRUE)"
    );
    assert_eq!(
        out.params,
        [
            text("$.\"name\""),
            text("$.\"name\".\"givenName\""),
            text("a")
        ]
    );
}

#[test]
fn ne_and_null_follow_the_evaluator() {
    // `ne` is "no value equals", true when there is no value; `eq null` is "none present".
    let out = sql(r#"title ne "Boss""#);
    assert_eq!(
        out.sql,
        "(rc_fold(json_extract(u.body, ?2)) = ?3) IS NOT TRUE"
    );
    let out = sql("title eq null");
    assert_eq!(out.sql, "(json_extract(u.body, ?2) <> '') IS NOT TRUE");
    let out = sql("emails pr");
    assert_eq!(
        out.sql,
        "EXISTS (SELECT 1 FROM json_tree(u.body, ?2) AS j1 WHERE j1.atom <> '')"
    );
}

#[test]
fn text_operators_compare_bytes_after_folding() {
    let out = sql(r#"nickName ew "SS""#);
    assert_eq!(
        out.sql,
        "substr(CAST(rc_fold(json_extract(u.body, ?2)) AS BLOB), ?3) = ?4"
    );
    assert_eq!(
        out.params[1..],
        [SqlValue::Integer(-2), SqlValue::Blob(b"ss".to_vec())]
    );
    let out = sql(r#"externalId gt "AbC""#);
    assert_eq!(out.sql, "json_extract(u.body, ?2) > ?3");
    assert_eq!(out.params[1], text("AbC"));
}

#[test]
fn booleans_become_the_set_of_booleans_that_match() {
    assert_eq!(sql("active eq true").sql, "u.active = 1");
    assert_eq!(sql(r#"active eq "FALSE""#).sql, "u.active = 0");
    assert_eq!(sql("active ne true").sql, "(u.active = 1) IS NOT TRUE");
    // Not a boolean: the evaluator compares "true" and "false" as text.
    assert_eq!(sql(r#"active eq "yes""#).sql, "0");
    assert_eq!(sql(r#"active co "ru""#).sql, "u.active = 1");
    assert_eq!(sql(r#"active gt "a""#).sql, "u.active IN (0, 1)");
    assert_eq!(
        sql("emails[primary eq true]").sql,
        "EXISTS (SELECT 1 FROM json_each(u.body, ?2) AS j1 WHERE json_type(j1.value, ?3) = 'true')"
    );
}

#[test]
fn meta_compares_instants_on_the_columns_and_text_otherwise() {
    let out = sql(r#"meta.created gt "2026-01-02T05:04:05.678+02:00""#);
    assert_eq!(out.sql, "u.created_at > ?2");
    assert_eq!(out.params, [SqlValue::Integer(1_767_323_045_678)]);

    // Finer than a millisecond: no stored time equals it, and ge becomes gt.
    assert_eq!(
        sql(r#"meta.lastModified eq "2026-01-02T03:04:05.6781Z""#).sql,
        "0"
    );
    let out = sql(r#"meta.lastModified ge "2026-01-02T03:04:05.6781Z""#);
    assert_eq!(out.sql, "u.updated_at > ?2");
    assert_eq!(out.params, [SqlValue::Integer(1_767_323_045_678)]);

    let out = sql(r#"meta.created sw "2026-01""#);
    assert_eq!(
        out.sql,
        "instr(rc_fold(rc_timestamp(u.created_at)), ?2) = 1"
    );
    let out = sql(r#"meta.version eq "W/\"3\"""#);
    assert_eq!(out.sql, "('W/\"' || u.version || '\"') = ?2");
}

#[test]
fn what_no_user_has_is_a_constant() {
    for (filter, constant) in [
        (r#"favouriteColour eq "blue""#, "0"),
        (r#"favouriteColour ne "blue""#, "1"),
        ("favouriteColour eq null", "1"),
        (
            r#"schemas eq "urn:ietf:params:scim:schemas:core:2.0:User""#,
            "0",
        ),
        ("meta pr", "1"),
        (r#"meta.resourceType eq "User""#, "1"),
        (r#"meta.resourceType eq "user""#, "0"),
        ("meta.location pr", "0"),
        (r#"name eq "x""#, "0"),
        (r#"urn:example:other:2.0:User:userName eq "a""#, "0"),
        (r#"urn:scim:schemas:core:1.0:meta.created pr"#, "0"),
    ] {
        assert_eq!(sql(filter).sql, constant, "{filter}");
    }
    // userName has no sub-attributes, so only whether it is there can matter.
    assert_eq!(
        sql(r#"userName[value ne "x"]"#).sql,
        "json_type(u.body, ?2) IS NOT NULL"
    );
}

#[test]
fn extension_attributes_are_read_under_their_urn() {
    let out = sql(r#"employeeNumber eq "701""#);
    assert_eq!(out.sql, "rc_fold(json_extract(u.body, ?2)) = ?3");
    assert_eq!(
        out.params[0],
        text("$.\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\".\"employeeNumber\"")
    );
}

#[test]
fn values_are_never_part_of_the_sql_text() {
    let hostile = r#"x') OR 1=1 --"#;
    for filter in [
        format!("title eq {}", json!(hostile)),
        format!("emails[value co {}]", json!(hostile)),
        format!("meta.created lt {}", json!(hostile)),
        format!("userName eq {}", json!(hostile)),
    ] {
        let out = sql(&filter);
        assert!(!out.sql.contains("1=1"), "{filter}: {}", out.sql);
        assert!(!out.params.is_empty(), "{filter}");
    }
}

/// The query plans of the list queries (`users::list_in_sql`) for filters an IdP sends on
/// every sync: each must be answered from an index, never by reading the workspace.
#[test]
fn equality_on_indexed_attributes_uses_an_index() {
    let mut conn = Connection::open_in_memory().unwrap();
    crate::sqlite::migrations::run(&mut conn).unwrap();
    crate::sqlite::functions::register(&conn).unwrap();
    let cases = [
        (
            r#"userName eq "ada@example.com""#,
            "USING INDEX users_user_name",
        ),
        (r#"externalId eq "00u1""#, "USING INDEX users_external_id"),
        (
            r#"emails.value eq "ada@example.com""#,
            "USING INDEX user_emails_key",
        ),
        (
            r#"emails eq "ada@example.com""#,
            "USING INDEX user_emails_key",
        ),
        (r#"displayName eq "Ada""#, "USING INDEX users_display_name"),
        (r#"email eq "ada@example.com""#, "USING INDEX users_email"),
        (
            r#"id eq "2819c223""#,
            "USING INDEX sqlite_autoindex_users_1",
        ),
        ("active eq true", "USING COVERING INDEX users_active"),
        ("active eq false", "USING COVERING INDEX users_active"),
    ];
    for (filter, index) in cases {
        let condition = sql(filter).sql;
        let page = format!(
            "SELECT u.seq FROM users u WHERE u.workspace_id = ?1 AND ({condition}) \
             ORDER BY u.seq LIMIT 10 OFFSET 0"
        );
        let count =
            format!("SELECT count(*) FROM users u WHERE u.workspace_id = ?1 AND ({condition})");
        for query in [page, count] {
            let plan = query_plan(&conn, &query);
            let scans: Vec<&String> = plan
                .iter()
                .filter(|step| {
                    step.starts_with("SCAN u")
                        || step.starts_with("SCAN users")
                        || step.starts_with("SCAN e")
                        // Walking the workspace in seq order reads every user too.
                        || step.ends_with("users_workspace_seq (workspace_id=?)")
                })
                .collect();
            assert!(scans.is_empty(), "{filter} scans: {plan:#?}");
            assert!(
                plan.iter().any(|step| step.contains(index)),
                "{filter} does not use {index}: {plan:#?}"
            );
        }
    }
}

fn query_plan(conn: &Connection, query: &str) -> Vec<String> {
    let mut statement = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {query}"))
        .unwrap();
    let nulls = vec![SqlValue::Null; statement.parameter_count()];
    statement
        .query_map(params_from_iter(nulls), |row| row.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}
