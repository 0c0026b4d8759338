//! The store contract: what every backend of the [`Store`] trait must do, checked through the
//! trait alone.
//!
//! Each test opens an empty database on the suite's backend (`ROLLCALL_TEST_BACKEND`: SQLite
//! by default, PostgreSQL in `scripts/test`'s second half). On PostgreSQL the order-and-paging
//! test also loads the same users into a SQLite store and requires both backends to list them
//! in the same order and hand out the same cursors.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rollcall_scim::filter::parse_filter;
use rollcall_scim::group::{MemberChange, prepare_group};
use rollcall_scim::list::{Page, Paging, SortSpec, parse_sort};
use rollcall_scim::schema::user_resource;
use rollcall_scim::user::{Role, UserPolicy, UsernameFormat, prepare_user};
use rollcall_store::testing::{Backend, backend, fresh_database_url};
use rollcall_store::{
    GroupQuery, GroupUpdate, GroupWrite, Plan, ResourceId, RoleMapping, Store, StoreError, TokenId,
    TokenRecord, UserQuery, UserRecord, UserWrite, Workspace, WorkspaceId,
};
use serde_json::{Value, json};

/// An empty store on the suite's backend, and the directory that holds it while it is open.
fn open() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).unwrap();
    let store = rollcall_store::open(&url).unwrap();
    (dir, store)
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000 + seconds, 0).unwrap()
}

fn workspace(id: &str) -> Workspace {
    Workspace {
        id: WorkspaceId::new(id),
        name: format!("{id} Inc."),
        plan: Plan::Enterprise,
        invitation_only: true,
        scim_enabled: true,
        username_format: UsernameFormat::Any,
        default_role: Role::Member,
        role_discovery: false,
        created_at: at(0),
    }
}

async fn new_workspace(store: &Arc<dyn Store>, id: &str) -> WorkspaceId {
    store.create_workspace(workspace(id)).await.unwrap();
    WorkspaceId::new(id)
}

fn user_write(body: Value, seconds: i64) -> UserWrite {
    let policy = UserPolicy {
        username_format: UsernameFormat::Any,
        default_role: Role::Member,
    };
    UserWrite::new(prepare_user(&body, &policy, None).unwrap(), at(seconds))
}

async fn add_user(store: &Arc<dyn Store>, ws: &WorkspaceId, id: &str, body: Value) -> UserRecord {
    store
        .create_user(ws, &ResourceId::new(id), user_write(body, 1))
        .await
        .unwrap()
}

fn group_write(body: Value) -> GroupWrite {
    GroupWrite::new(prepare_group(&body).unwrap().0)
}

fn ids(records: &[UserRecord]) -> Vec<&str> {
    records.iter().map(|r| r.id.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspaces_are_created_read_listed_and_updated_in_one_transaction() {
    let (_dir, store) = open();
    store.create_workspace(workspace("b")).await.unwrap();
    store.create_workspace(workspace("a")).await.unwrap();

    assert_eq!(
        store.get_workspace(&WorkspaceId::new("a")).await.unwrap(),
        Some(workspace("a"))
    );
    assert_eq!(
        store.get_workspace(&WorkspaceId::new("zz")).await.unwrap(),
        None
    );
    let listed: BTreeSet<String> = store
        .list_workspaces()
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.id.to_string())
        .collect();
    assert_eq!(listed, BTreeSet::from(["a".to_owned(), "b".to_owned()]));

    let updated = store
        .update_workspace(
            &WorkspaceId::new("a"),
            Box::new(|w| {
                w.name = "Renamed".to_owned();
                Ok(())
            }),
            at(5),
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "Renamed");
    // A refused change writes nothing and passes the reason on.
    let refused = store
        .update_workspace(
            &WorkspaceId::new("a"),
            Box::new(|w| {
                w.name = "Never".to_owned();
                Err("no".to_owned())
            }),
            at(6),
        )
        .await;
    assert!(matches!(refused, Err(StoreError::Refused(reason)) if reason == "no"));
    let stored = store.get_workspace(&WorkspaceId::new("a")).await.unwrap();
    assert_eq!(stored.unwrap().name, "Renamed");
    let missing = store
        .update_workspace(&WorkspaceId::new("zz"), Box::new(|_| Ok(())), at(7))
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_record_their_use_and_revocation_and_a_session_reads_all_at_once() {
    let (_dir, store) = open();
    let ws = new_workspace(&store, "acme").await;
    let token = TokenRecord {
        id: TokenId::new("tok_0123456789abcdef"),
        workspace_id: ws.clone(),
        label: Some("okta".to_owned()),
        secret_hash: "hash".to_owned(),
        created_at: at(1),
        last_used_at: None,
        expires_at: Some(at(1000)),
        revoked_at: None,
    };
    store.create_token(token.clone()).await.unwrap();
    assert_eq!(
        store.get_token(&token.id).await.unwrap(),
        Some(token.clone())
    );

    store.touch_token(&token.id, at(2)).await.unwrap();
    store.revoke_token(&token.id, at(3)).await.unwrap();
    let expected = TokenRecord {
        last_used_at: Some(at(2)),
        revoked_at: Some(at(3)),
        ..token.clone()
    };
    assert_eq!(
        store.list_tokens(&ws).await.unwrap(),
        vec![expected.clone()]
    );
    let missing = store
        .revoke_token(&TokenId::new("tok_ffffffffffffffff"), at(4))
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");

    let session = store.scim_session(&token.id, &ws).await.unwrap();
    assert_eq!(session.token, Some(expected));
    assert_eq!(session.workspace, Some(workspace("acme")));
    assert!(session.custom_attributes.is_empty());
    let nobody = store
        .scim_session(
            &TokenId::new("tok_ffffffffffffffff"),
            &WorkspaceId::new("zz"),
        )
        .await
        .unwrap();
    assert_eq!((nobody.token, nobody.workspace), (None, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_names_are_unique_per_workspace_whatever_their_case() {
    let (_dir, store) = open();
    let acme = new_workspace(&store, "acme").await;
    let other = new_workspace(&store, "other").await;
    add_user(
        &store,
        &acme,
        "u1",
        json!({"userName": "Émile.Zola@Example.com"}),
    )
    .await;

    for spelling in ["émile.zola@example.com", "ÉMILE.ZOLA@EXAMPLE.COM"] {
        let taken = store
            .create_user(
                &acme,
                &ResourceId::new("u2"),
                user_write(json!({"userName": spelling}), 2),
            )
            .await;
        assert!(
            matches!(
                taken,
                Err(StoreError::Uniqueness {
                    attribute: "userName"
                })
            ),
            "{spelling}: {taken:?}"
        );
    }
    // Another workspace may hold the same name, and a different name is different.
    add_user(
        &store,
        &other,
        "u3",
        json!({"userName": "émile.zola@example.com"}),
    )
    .await;
    add_user(
        &store,
        &acme,
        "u4",
        json!({"userName": "emile.zola@example.com"}),
    )
    .await;

    let listed = store
        .list_users(&acme, &UserQuery::page(None, Page::new(None, None)))
        .await
        .unwrap();
    assert_eq!(ids(&listed.items), ["u1", "u4"]);
    assert_eq!(listed.total, 2);
    assert_eq!(
        store.user_workspace(&ResourceId::new("u3")).await.unwrap(),
        Some(other)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_creates_of_one_name_exactly_one_succeeds() {
    let (_dir, store) = open();
    let ws = new_workspace(&store, "acme").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let (store, ws) = (store.clone(), ws.clone());
        let name = if i % 2 == 0 {
            "Race@Example.com"
        } else {
            "race@example.COM"
        };
        tasks.spawn(async move {
            let write = user_write(json!({"userName": name}), i);
            store
                .create_user(&ws, &ResourceId::new(format!("u{i}")), write)
                .await
        });
    }
    let mut created = 0;
    while let Some(result) = tasks.join_next().await {
        match result.unwrap() {
            Ok(_) => created += 1,
            Err(StoreError::Uniqueness { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(created, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replace_needs_the_version_it_read_and_an_unchanged_one_keeps_it() {
    let (_dir, store) = open();
    let ws = new_workspace(&store, "acme").await;
    let body = json!({"userName": "a@example.com", "active": true, "title": "Engineer"});
    let created = add_user(&store, &ws, "u1", body.clone()).await;
    assert_eq!(created.version, 1);

    // The store writes what it is given (the service skips writes that change nothing), but an
    // unchanged document is no event.
    let same = store
        .replace_user(&ws, &created.id, 1, user_write(body.clone(), 5))
        .await
        .unwrap();
    assert_eq!((same.version, same.updated_at), (2, at(5)));

    let changed = json!({"userName": "a@example.com", "active": false, "title": "Manager"});
    let replaced = store
        .replace_user(&ws, &created.id, 2, user_write(changed, 6))
        .await
        .unwrap();
    assert_eq!((replaced.version, replaced.active), (3, false));
    assert_eq!(replaced.updated_at, at(6));
    assert_eq!(replaced.body["title"], "Manager");
    let kinds: Vec<String> = store
        .list_events(&ws, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["user.created", "user.deactivated", "user.updated"]);

    let stale = store
        .replace_user(&ws, &created.id, 1, user_write(body.clone(), 7))
        .await;
    assert!(
        matches!(stale, Err(StoreError::VersionConflict)),
        "{stale:?}"
    );
    assert_eq!(
        store.get_user(&ws, &created.id).await.unwrap(),
        Some(replaced)
    );

    store.delete_user(&ws, &created.id, at(8)).await.unwrap();
    assert_eq!(store.get_user(&ws, &created.id).await.unwrap(), None);
    let again = store.delete_user(&ws, &created.id, at(9)).await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspace_never_reads_or_writes_another_workspaces_user() {
    let (_dir, store) = open();
    let acme = new_workspace(&store, "acme").await;
    let other = new_workspace(&store, "other").await;
    let theirs = add_user(
        &store,
        &other,
        "theirs",
        json!({"userName": "t@example.com"}),
    )
    .await;

    assert_eq!(store.get_user(&acme, &theirs.id).await.unwrap(), None);
    let replaced = store
        .replace_user(
            &acme,
            &theirs.id,
            1,
            user_write(json!({"userName": "x@y.z"}), 2),
        )
        .await;
    assert!(
        matches!(replaced, Err(StoreError::NotFound)),
        "{replaced:?}"
    );
    let deleted = store.delete_user(&acme, &theirs.id, at(2)).await;
    assert!(matches!(deleted, Err(StoreError::NotFound)), "{deleted:?}");
    let grouped = store
        .create_group(
            &acme,
            &ResourceId::new("g"),
            group_write(json!({"displayName": "Eng"})),
            vec!["theirs".to_owned()],
            at(3),
        )
        .await;
    assert!(
        matches!(&grouped, Err(StoreError::UnknownMember { id }) if id == "theirs"),
        "{grouped:?}"
    );
    // Nothing was written on the refused create.
    assert_eq!(
        store
            .get_group(&acme, &ResourceId::new("g"), true)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.get_user(&other, &theirs.id).await.unwrap(),
        Some(theirs)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_are_added_removed_and_leave_with_their_user_and_each_change_is_one_event() {
    let (_dir, store) = open();
    let ws = new_workspace(&store, "acme").await;
    for (id, name) in [("u1", "ann@example.com"), ("u2", "bob@example.com")] {
        add_user(&store, &ws, id, json!({"userName": name, "active": true})).await;
    }
    let group_id = ResourceId::new("g1");
    let group = store
        .create_group(
            &ws,
            &group_id,
            group_write(json!({"displayName": "Engineering"})),
            vec!["u1".to_owned()],
            at(2),
        )
        .await
        .unwrap();
    assert_eq!(group.version, 1);

    let update = |members: Vec<MemberChange>, seconds| GroupUpdate {
        expected_version: None,
        document: None,
        members,
        at: at(seconds),
    };
    let added = store
        .update_group(
            &ws,
            &group_id,
            update(vec![MemberChange::Add(vec!["u2".into(), "u1".into()])], 3),
            true,
        )
        .await
        .unwrap();
    let members: Vec<&str> = added
        .members
        .as_ref()
        .unwrap()
        .iter()
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(members, ["u1", "u2"]);
    assert_eq!(added.version, 2);

    // Adding who is there already, or removing who is not, changes nothing.
    let unchanged = store
        .update_group(
            &ws,
            &group_id,
            update(
                vec![
                    MemberChange::Add(vec!["u1".into()]),
                    MemberChange::Remove(vec!["nobody".into()]),
                ],
                4,
            ),
            false,
        )
        .await
        .unwrap();
    assert_eq!(unchanged.version, 2);

    let unknown = store
        .update_group(
            &ws,
            &group_id,
            update(vec![MemberChange::Add(vec!["ghost".into()])], 5),
            false,
        )
        .await;
    assert!(
        matches!(unknown, Err(StoreError::UnknownMember { .. })),
        "{unknown:?}"
    );

    let groups = store
        .groups_of_users(&ws, &[ResourceId::new("u1"), ResourceId::new("u2")])
        .await
        .unwrap();
    let pairs: Vec<(&str, &str, &str)> = groups
        .iter()
        .map(|(user, g)| (user.as_str(), g.id.as_str(), g.display.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [("u1", "g1", "Engineering"), ("u2", "g1", "Engineering")]
    );

    store
        .delete_user(&ws, &ResourceId::new("u2"), at(6))
        .await
        .unwrap();
    let after = store
        .get_group(&ws, &group_id, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.members.unwrap().len(), 1);
    store.delete_group(&ws, &group_id, at(7)).await.unwrap();
    assert_eq!(store.get_group(&ws, &group_id, true).await.unwrap(), None);
    assert!(
        store
            .groups_of_users(&ws, &[ResourceId::new("u1")])
            .await
            .unwrap()
            .is_empty()
    );

    let events = store.list_events(&ws, 0, 100).await.unwrap();
    let kinds: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.kind.as_str(), e.resource_id.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("user.created", "u1"),
            ("user.created", "u2"),
            ("group.created", "g1"),
            ("group.member_added", "g1"),
            ("group.member_added", "g1"),
            // A deleted user leaves its groups without a member event: `user.deleted` says it.
            ("user.deleted", "u2"),
            ("group.deleted", "g1"),
        ]
    );
    // Cursors increase, and reading after one gives exactly the rest.
    assert!(events.windows(2).all(|w| w[0].cursor < w[1].cursor));
    let rest = store.list_events(&ws, events[3].cursor, 2).await.unwrap();
    assert_eq!(rest, events[4..6].to_vec());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapped_group_gives_its_members_their_role_and_takes_it_back() {
    let (_dir, store) = open();
    let ws = new_workspace(&store, "acme").await;
    let user = add_user(&store, &ws, "u1", json!({"userName": "a@example.com"})).await;
    assert_eq!(user.role, Role::Member);
    store
        .create_group(
            &ws,
            &ResourceId::new("g1"),
            group_write(json!({"displayName": "Admins"})),
            vec!["u1".to_owned()],
            at(2),
        )
        .await
        .unwrap();
    let mapping = RoleMapping {
        group: "ADMINS".to_owned(),
        role: Role::Admin,
    };
    store
        .set_role_mapping(&ws, mapping.clone(), at(3))
        .await
        .unwrap();
    assert_eq!(store.list_role_mappings(&ws).await.unwrap(), vec![mapping]);
    let promoted = store.get_user(&ws, &user.id).await.unwrap().unwrap();
    assert_eq!(promoted.role, Role::Admin);

    store
        .remove_role_mapping(&ws, "admins", at(4))
        .await
        .unwrap();
    let back = store.get_user(&ws, &user.id).await.unwrap().unwrap();
    assert_eq!(back.role, Role::Member);
    let gone = store.remove_role_mapping(&ws, "admins", at(5)).await;
    assert!(matches!(gone, Err(StoreError::NotFound)), "{gone:?}");

    let changes: Vec<String> = store
        .list_events(&ws, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "user.role_changed")
        .map(|e| e.data.to_string())
        .collect();
    assert_eq!(changes.len(), 2, "{changes:?}");
}

/// Users whose sort keys tie, differ only in case, hold non-ASCII text, or are missing.
fn sort_fixture() -> Vec<Value> {
    let titles = [
        Some("b"),
        Some("B"),
        None,
        Some("é"),
        Some("a"),
        Some("Z"),
        None,
        Some("a"),
        Some("İstanbul"),
        Some("10"),
        Some("9"),
    ];
    titles
        .iter()
        .enumerate()
        .map(|(i, title)| {
            let first = ["Zed", "amy", "Émile", "bo"][i % 4];
            let display = ["Same", "same", "Other"][i % 3];
            let mut body = json!({
                "userName": format!("{first}{i}@example.com"),
                "displayName": display,
                "active": i % 3 != 0,
                "emails": [{"value": format!("{}@Mail.example", 100 - i), "primary": i % 2 == 0}],
            });
            if let Some(title) = title {
                body["title"] = json!(title);
            }
            body
        })
        .collect()
}

/// Every page of a list in `sort` order, by index (pages of 3) and by cursor (pages of 4):
/// the ids in order, and the cursors handed out.
async fn walk(
    store: &Arc<dyn Store>,
    ws: &WorkspaceId,
    sort: Option<SortSpec>,
    filter: Option<&str>,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let filter = filter.map(|f| parse_filter(f).unwrap());
    let mut by_index = Vec::new();
    let mut start = 1;
    loop {
        let query = UserQuery {
            schema: None,
            filter: filter.clone(),
            sort: sort.clone(),
            paging: Paging::Index(Page::new(Some(start), Some(3))),
        };
        let page = store.list_users(ws, &query).await.unwrap();
        by_index.extend(page.items.iter().map(|r| r.id.to_string()));
        start += 3;
        if usize::try_from(start).unwrap() > page.total {
            break;
        }
    }
    let mut by_cursor = Vec::new();
    let mut cursors = Vec::new();
    let mut after = None;
    loop {
        let query = UserQuery {
            schema: None,
            filter: filter.clone(),
            sort: sort.clone(),
            paging: Paging::Cursor { after, count: 4 },
        };
        let page = store.list_users(ws, &query).await.unwrap();
        by_cursor.extend(page.items.iter().map(|r| r.id.to_string()));
        match page.next {
            Some(next) => {
                cursors.push(format!("{next:?}"));
                after = Some(next);
            }
            None => break,
        }
    }
    (by_index, by_cursor, cursors)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_order_and_page_users_alike() {
    let (_dir, store) = open();
    let sqlite_dir = tempfile::tempdir().unwrap();
    let reference: Option<Arc<dyn Store>> = match backend().unwrap() {
        Backend::Sqlite => None,
        Backend::Postgres => Some(
            rollcall_store::open(&format!(
                "sqlite://{}",
                sqlite_dir.path().join("reference.db").display()
            ))
            .unwrap(),
        ),
    };
    let ws = new_workspace(&store, "acme").await;
    if let Some(reference) = &reference {
        reference.create_workspace(workspace("acme")).await.unwrap();
    }
    for (i, body) in sort_fixture().into_iter().enumerate() {
        let id = ResourceId::new(format!("u{i:02}"));
        // Creation times tie in pairs, so that ties on meta.created fall back to insertion.
        let write = user_write(body, i64::try_from(i / 2).unwrap());
        store.create_user(&ws, &id, write.clone()).await.unwrap();
        if let Some(reference) = &reference {
            reference.create_user(&ws, &id, write).await.unwrap();
        }
    }

    let sorts = [
        None,
        Some("userName"),
        Some("title"),
        Some("displayName"),
        Some("emails"),
        Some("emails.value"),
        Some("active"),
        Some("meta.created"),
        Some("name.givenName"),
    ];
    let filters = [
        None,
        Some("active eq true"),
        Some("title pr or displayName eq \"SAME\""),
    ];
    for sort_by in sorts {
        for descending in [false, true] {
            let order = descending.then_some("descending");
            let sort = sort_by.map(|by| {
                parse_sort(Some(by), order, user_resource())
                    .unwrap()
                    .unwrap()
            });
            for filter in filters {
                let (by_index, by_cursor, cursors) = walk(&store, &ws, sort.clone(), filter).await;
                let context =
                    format!("sortBy={sort_by:?} descending={descending} filter={filter:?}");
                assert_eq!(by_index, by_cursor, "{context}");
                let expected_len = if filter.is_none() { 11 } else { by_index.len() };
                assert_eq!(by_index.len(), expected_len, "{context}");
                let unique: BTreeSet<&String> = by_index.iter().collect();
                assert_eq!(unique.len(), by_index.len(), "{context}: repeated ids");
                if let Some(reference) = &reference {
                    let expected = walk(reference, &ws, sort.clone(), filter).await;
                    assert_eq!((by_index, by_cursor, cursors), expected, "{context}");
                }
            }
        }
    }

    // Pinned orders, from the rules both backends follow: text compares case-folded and byte
    // by byte, a missing value sorts last ascending and first descending, ties keep insertion
    // order.
    let sort =
        |by: &str, order: Option<&str>| parse_sort(Some(by), order, user_resource()).unwrap();
    let (titles, _, _) = walk(&store, &ws, sort("title", None), None).await;
    assert_eq!(
        titles,
        [
            "u09", "u10", "u04", "u07", "u00", "u01", "u08", "u05", "u03", "u02", "u06"
        ]
    );
    let (titles, _, _) = walk(&store, &ws, sort("title", Some("descending")), None).await;
    assert_eq!(
        titles,
        [
            "u02", "u06", "u03", "u05", "u08", "u00", "u01", "u04", "u07", "u10", "u09"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_is_leased_to_one_owner_and_moves_only_past_delivered_events() {
    use rollcall_store::{DeliveryAttempt, WebhookRecord};
    let (_dir, store) = open();
    let ws = new_workspace(&store, "acme").await;
    add_user(&store, &ws, "u0", json!({"userName": "before@example.com"})).await;
    let webhook = store
        .create_webhook(WebhookRecord {
            id: "wh_1".to_owned(),
            workspace_id: ws.clone(),
            url: "https://example.com/hook".to_owned(),
            secret_salt: "salt".to_owned(),
            created_at: at(2),
            delivered_through: 0,
            failures: 0,
            next_attempt_at: at(2),
        })
        .await
        .unwrap();
    // It starts at the end of the feed: nothing is due yet.
    let before = store.list_events(&ws, 0, 10).await.unwrap();
    assert_eq!(webhook.delivered_through, before.last().unwrap().cursor);
    assert!(
        store
            .claim_due_webhooks("a", at(3), at(33))
            .await
            .unwrap()
            .is_empty()
    );

    add_user(&store, &ws, "u1", json!({"userName": "one@example.com"})).await;
    add_user(&store, &ws, "u2", json!({"userName": "two@example.com"})).await;
    let claimed = store.claim_due_webhooks("a", at(3), at(33)).await.unwrap();
    assert_eq!(claimed, vec![webhook.clone()]);
    // Another owner gets nothing while the lease holds, the holder gets it again.
    assert!(
        store
            .claim_due_webhooks("b", at(4), at(34))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .claim_due_webhooks("a", at(4), at(34))
            .await
            .unwrap()
            .len(),
        1
    );

    let events = store
        .list_events(&ws, webhook.delivered_through, 10)
        .await
        .unwrap();
    let attempt = |event: &rollcall_store::Event, n, delivered| DeliveryAttempt {
        webhook_id: "wh_1".to_owned(),
        workspace_id: ws.clone(),
        event_id: event.id.clone(),
        event_cursor: event.cursor,
        attempt: n,
        at: at(5),
        status: Some(if delivered { 204 } else { 500 }),
        error: (!delivered).then(|| "refused".to_owned()),
        delivered,
        duration_ms: 3,
    };
    // A failure moves nothing but the failure count and the next attempt.
    store
        .record_delivery(attempt(&events[0], 1, false), at(50), at(35))
        .await
        .unwrap();
    let listed = store.list_webhooks(&ws).await.unwrap();
    assert_eq!(
        (
            listed[0].delivered_through,
            listed[0].failures,
            listed[0].next_attempt_at
        ),
        (webhook.delivered_through, 1, at(50))
    );
    // Not due before the backoff ends, even for its owner; due after, for anyone once the
    // lease has run out.
    assert!(
        store
            .claim_due_webhooks("a", at(40), at(70))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .claim_due_webhooks("b", at(71), at(100))
            .await
            .unwrap()
            .len(),
        1
    );

    store
        .record_delivery(attempt(&events[0], 2, true), at(0), at(101))
        .await
        .unwrap();
    let listed = store.list_webhooks(&ws).await.unwrap();
    assert_eq!(
        (listed[0].delivered_through, listed[0].failures),
        (events[0].cursor, 0)
    );
    let log = store.list_deliveries(&ws, 10).await.unwrap();
    assert_eq!(
        log,
        vec![attempt(&events[0], 2, true), attempt(&events[0], 1, false)]
    );

    store.remove_webhook(&ws, "wh_1").await.unwrap();
    assert!(store.list_deliveries(&ws, 10).await.unwrap().is_empty());
    let again = store.remove_webhook(&ws, "wh_1").await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
}

/// The totals of the workspace's unfiltered user and group lists.
async fn totals(store: &Arc<dyn Store>, ws: &WorkspaceId) -> (usize, usize) {
    let users = UserQuery::page(None, Page::new(None, Some(0)));
    let groups = GroupQuery {
        filter: None,
        sort: None,
        paging: Paging::Index(Page::new(None, Some(0))),
        with_members: false,
    };
    (
        store.list_users(ws, &users).await.unwrap().total,
        store.list_groups(ws, &groups).await.unwrap().total,
    )
}

/// An unfiltered list's total (kept as a stored count, not counted) follows every create and
/// delete, ignores refused writes, and is each workspace's own.
#[tokio::test]
async fn unfiltered_totals_follow_creates_deletes_and_refusals() {
    let (_dir, store) = open();
    let acme = new_workspace(&store, "acme").await;
    let other = new_workspace(&store, "other").await;
    assert_eq!(totals(&store, &acme).await, (0, 0));

    for name in ["a", "b", "c"] {
        add_user(
            &store,
            &acme,
            name,
            json!({"userName": format!("{name}@example.com")}),
        )
        .await;
    }
    add_user(&store, &other, "o", json!({"userName": "o@example.com"})).await;
    let duplicate = store
        .create_user(
            &acme,
            &ResourceId::new("dup"),
            user_write(json!({"userName": "A@example.com"}), 1),
        )
        .await;
    assert!(duplicate.is_err(), "{duplicate:?}");
    store
        .delete_user(&acme, &ResourceId::new("b"), at(2))
        .await
        .unwrap();
    for id in ["g1", "g2"] {
        store
            .create_group(
                &acme,
                &ResourceId::new(id),
                group_write(json!({"displayName": id})),
                vec!["a".to_owned()],
                at(3),
            )
            .await
            .unwrap();
    }
    let refused = store
        .create_group(
            &acme,
            &ResourceId::new("g3"),
            group_write(json!({"displayName": "g3"})),
            vec!["nobody".to_owned()],
            at(4),
        )
        .await;
    assert!(refused.is_err(), "{refused:?}");
    store
        .delete_group(&acme, &ResourceId::new("g1"), at(5))
        .await
        .unwrap();

    assert_eq!(totals(&store, &acme).await, (2, 1));
    assert_eq!(totals(&store, &other).await, (1, 0));
    // A filter still counts its matches.
    let filtered = UserQuery::page(
        Some(parse_filter("userName sw \"a\"").unwrap()),
        Page::new(None, Some(0)),
    );
    assert_eq!(store.list_users(&acme, &filtered).await.unwrap().total, 1);
}

/// A database from before the stored counts (schema version 5) gets them counted from what it
/// holds when it is upgraded.
#[tokio::test]
async fn the_upgrade_to_stored_counts_counts_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).unwrap();
    let store = rollcall_store::open(&url).unwrap();
    let acme = new_workspace(&store, "acme").await;
    for name in ["a", "b"] {
        add_user(
            &store,
            &acme,
            name,
            json!({"userName": format!("{name}@example.com")}),
        )
        .await;
    }
    store
        .create_group(
            &acme,
            &ResourceId::new("g"),
            group_write(json!({"displayName": "g"})),
            vec!["a".to_owned()],
            at(3),
        )
        .await
        .unwrap();
    drop(store);

    // Back to version 5, as a rollcall of that version left it.
    match backend().unwrap() {
        Backend::Sqlite => {
            let path = url.strip_prefix("sqlite://").unwrap();
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.execute_batch(
                "DROP TRIGGER workspaces_counted; DROP TRIGGER users_counted;
                 DROP TRIGGER users_uncounted; DROP TRIGGER groups_counted;
                 DROP TRIGGER groups_uncounted; DROP TABLE resource_counts;
                 PRAGMA user_version = 5;",
            )
            .unwrap();
        }
        Backend::Postgres => {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                client
                    .batch_execute(
                        "DROP TRIGGER workspaces_counted ON workspaces;
                         DROP TRIGGER users_counted ON users;
                         DROP TRIGGER groups_counted ON groups;
                         DROP FUNCTION rollcall_count_resources();
                         DROP TABLE resource_counts;
                         UPDATE rollcall_schema SET version = 5;",
                    )
                    .unwrap();
            })
            .join()
            .unwrap();
        }
    }

    let store = rollcall_store::open(&url).unwrap();
    assert_eq!(store.schema_version().await.unwrap(), 6);
    assert_eq!(totals(&store, &acme).await, (2, 1));
    // And counting goes on from there.
    add_user(&store, &acme, "c", json!({"userName": "c@example.com"})).await;
    assert_eq!(totals(&store, &acme).await, (3, 1));
}
