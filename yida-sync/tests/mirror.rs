//! The mirror against the emulator (loopback), into SQLite and into a real PostgreSQL server:
//! what the tables hold is compared with what the emulator holds.

use serde_json::{json, Value};
use yida_api::{Client, RetryConfig};
use yida_emulator::Emulator;
use yida_sync::{Deletions, Mirror, Store, SyncOptions};

const FORM: &str = "FORM-DEMO";

fn client(emu: &Emulator) -> Client {
    Client::builder()
        .endpoint(emu.endpoint())
        .internal_app(emu.app_key(), emu.app_secret())
        .expect("credentials")
        .context(emu.app_context())
        .retry(RetryConfig::disabled())
        .build()
        .expect("client")
}

async fn call(client: &Client, action: &str, version: &str, input: Value) -> Value {
    let op = yida_api::operation(action, version).expect("compiled in");
    let reply = client.call(op, input).await.expect("call");
    reply
        .map(|r| serde_json::from_str(r.get()).expect("json"))
        .unwrap_or(Value::Null)
}

fn tmp_db(name: &str) -> String {
    let p = std::env::temp_dir().join(format!("yida-sync-{}-{name}.db", std::process::id()));
    let _ = std::fs::remove_file(&p);
    format!("sqlite:{}", p.display())
}

/// (instance id, title, amount) of every mirrored record, sorted.
async fn mirrored(store: &Store) -> Vec<(String, Option<String>, Option<String>)> {
    let sql = format!(
        "SELECT instance_id, CAST({} AS TEXT), CAST({} AS TEXT) FROM {} ORDER BY instance_id",
        yida_sync::schema::quote("textField_title"),
        yida_sync::schema::quote("numberField_amount"),
        yida_sync::schema::quote(&yida_sync::schema::table_name(FORM)),
    );
    store
        .query(&sql, vec![], 3)
        .await
        .expect("query")
        .into_iter()
        .map(|row| {
            let text = |c: &yida_sync::schema::Cell| match c {
                yida_sync::schema::Cell::Text(t) => Some(t.clone()),
                yida_sync::schema::Cell::Number(n) => Some(n.to_string()),
                _ => None,
            };
            (
                text(&row[0]).unwrap_or_default(),
                text(&row[1]),
                text(&row[2]),
            )
        })
        .collect()
}

/// (instance id, title) of every record the emulator holds, sorted.
fn held(emu: &Emulator) -> Vec<(String, Option<String>)> {
    let mut v: Vec<(String, Option<String>)> = emu
        .records(FORM)
        .into_iter()
        .map(|r| {
            let title = r
                .data
                .get("textField_title")
                .and_then(Value::as_str)
                .map(str::to_string);
            (r.form_instance_id, title)
        })
        .collect();
    v.sort();
    v
}

async fn first_then_incremental(target: String) {
    let emu = Emulator::start().await.expect("emulator");
    for i in 0..250 {
        emu.insert_record(
            FORM,
            json!({"textField_title": format!("r{i:03}"), "numberField_amount": i}),
        )
        .expect("record");
    }
    let client = client(&emu);
    let store = Store::open(&target).await.expect("store");
    // The records above were all modified just now: with an overlap window the incremental
    // run would fetch them again (correct, but not what this test measures). No overlap, and
    // the first run starts in a later second than the inserts (the time filter has second
    // precision), so the incremental run sees exactly the 10 changes.
    let opts = SyncOptions {
        deletions: Deletions::Off,
        overlap: std::time::Duration::ZERO,
        ..SyncOptions::default()
    };
    let into_second = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_millis();
    tokio::time::sleep(std::time::Duration::from_millis(u64::from(
        1001 - into_second,
    )))
    .await;
    let mirror = Mirror::new(client.clone(), store.clone(), opts);
    let first = mirror.sync(FORM).await.expect("first sync");
    assert_eq!(first.mode, "full");
    assert_eq!(first.upserted, 250);
    // Definitions + 3 pages of 100.
    assert_eq!(first.calls, 4, "{first:?}");
    let rows = mirrored(&store).await;
    assert_eq!(rows.len(), 250);
    let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let expected: Vec<String> = held(&emu).into_iter().map(|r| r.0).collect();
    assert_eq!(ids, expected);
    assert!(
        rows.iter()
            .any(|r| r.2.as_deref().is_some_and(|a| a.starts_with("249"))),
        "amount typed as a number column"
    );

    // 10 changes: 9 updates and 1 new record.
    for id in ids.iter().take(9) {
        call(
            &client,
            "UpdateFormData",
            "1.0",
            json!({"formInstanceId": id, "updateFormDataJson": {"textField_title": "changed"}}),
        )
        .await;
    }
    emu.insert_record(
        FORM,
        json!({"textField_title": "new one", "numberField_amount": 1}),
    )
    .unwrap();
    let second = mirror.sync(FORM).await.expect("incremental sync");
    assert_eq!(second.mode, "incremental");
    assert!(
        second.calls <= 3,
        "an incremental run after 10 changes: {second:?}"
    );
    assert_eq!(second.upserted, 10, "{second:?}");
    let rows = mirrored(&store).await;
    assert_eq!(rows.len(), 251);
    assert_eq!(
        rows.iter()
            .filter(|r| r.1.as_deref() == Some("changed"))
            .count(),
        9
    );

    // Deletions: two records deleted in Yida are found by the id comparison.
    call(
        &client,
        "DeleteFormData",
        "1.0",
        json!({"formInstanceId": ids[0]}),
    )
    .await;
    call(
        &client,
        "DeleteFormData",
        "1.0",
        json!({"formInstanceId": ids[1]}),
    )
    .await;
    let mirror = Mirror::new(
        client.clone(),
        store.clone(),
        SyncOptions {
            deletions: Deletions::Every,
            ..SyncOptions::default()
        },
    );
    let third = mirror.sync(FORM).await.expect("sync with deletions");
    assert_eq!(third.deleted, 2, "{third:?}");
    assert!(third.deletions_checked);
    // 249 ids at 100 a page, then one BatchGetFormDataByIdList confirming that the 2 ids the
    // walk did not see are gone from Yida.
    assert_eq!(third.deletion_calls, 4, "{third:?}");
    let mirrored_ids: Vec<String> = mirrored(&store).await.into_iter().map(|r| r.0).collect();
    let held_ids: Vec<String> = held(&emu).into_iter().map(|r| r.0).collect();
    assert_eq!(mirrored_ids, held_ids);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_first_run_then_incremental_then_deletions() {
    first_then_incremental(tmp_db("incremental")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_first_run_then_incremental_then_deletions() {
    let Some(pg) = yida_e2e::PostgresServer::start() else {
        return;
    };
    first_then_incremental(pg.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_added_to_the_form_gets_its_column() {
    let emu = Emulator::start().await.expect("emulator");
    emu.insert_record(FORM, json!({"textField_title": "a"}))
        .unwrap();
    let store = Store::open(&tmp_db("schema")).await.unwrap();
    let mirror = Mirror::new(client(&emu), store.clone(), SyncOptions::default());
    mirror.sync(FORM).await.unwrap();
    emu.update_seed(|seed| {
        let form = seed.forms.iter_mut().find(|f| f.form_uuid == FORM).unwrap();
        let mut c = form.components[0].clone();
        c.field_id = "textField_added".into();
        c.label = "Added".into();
        form.components.push(c);
    })
    .unwrap();
    emu.insert_record(
        FORM,
        json!({"textField_title": "b", "textField_added": "x"}),
    )
    .unwrap();
    let report = mirror.sync(FORM).await.unwrap();
    assert_eq!(
        report.schema.added,
        vec!["textField_added".to_string()],
        "{report:?}"
    );
    let rows = store
        .query(
            &format!(
                "SELECT COUNT(*) FROM {} WHERE \"textField_added\" = 'x'",
                yida_sync::schema::quote(&yida_sync::schema::table_name(FORM))
            ),
            vec![],
            1,
        )
        .await
        .unwrap();
    assert_eq!(rows[0][0], yida_sync::schema::Cell::Int(1));
    emu.shutdown().await;
}

/// `n` sub-form rows, `tag000`, `tag001`, ….
fn rows(n: usize, tag: &str) -> Value {
    Value::Array(
        (0..n)
            .map(|i| json!({"textField_item": format!("{tag}{i:03}"), "numberField_qty": i}))
            .collect(),
    )
}

/// The item column of a record's sub-form rows, by row index.
async fn child_items(store: &Store, id: &str) -> Vec<String> {
    use yida_sync::schema::{child_table_name, quote, Cell};
    let sql = format!(
        "SELECT CAST({} AS TEXT) FROM {} WHERE instance_id = '{id}' ORDER BY row_index",
        quote("textField_item"),
        quote(&child_table_name(FORM, "tableField_items")),
    );
    store
        .query(&sql, vec![], 1)
        .await
        .expect("query")
        .into_iter()
        .map(|r| match &r[0] {
            Cell::Text(t) => t.clone(),
            other => panic!("item not text: {other:?}"),
        })
        .collect()
}

fn expected(n: usize, tag: &str) -> Vec<String> {
    (0..n).map(|i| format!("{tag}{i:03}")).collect()
}

const ROWS_OP: &str = "ListTableDataByFormInstanceIdTableId";

/// Replies cut sub-forms at 50 rows: a record of 130 rows is mirrored whole (and in order) with
/// the rest paged through ListTableDataByFormInstanceIdTableId, first and after changes, and
/// rows removed in Yida leave the mirror too.
async fn long_sub_forms(target: String) {
    let emu = Emulator::start().await.expect("emulator");
    let long = emu
        .insert_record(
            FORM,
            json!({"textField_title": "long", "tableField_items": rows(130, "a")}),
        )
        .expect("record");
    let short = emu
        .insert_record(
            FORM,
            json!({"textField_title": "short", "tableField_items": rows(3, "s")}),
        )
        .expect("record");
    let client = client(&emu);
    let store = Store::open(&target).await.expect("store");
    let mirror = Mirror::new(
        client.clone(),
        store.clone(),
        SyncOptions {
            deletions: Deletions::Off,
            ..SyncOptions::default()
        },
    );
    // The search reply cuts the sub-form at 50 rows (what the mirror would store without
    // paging).
    let reply = call(
        &client,
        "SearchFormDatas",
        "2.0",
        json!({"formUuid": FORM, "currentPage": 1, "pageSize": 10}),
    )
    .await;
    let cut = reply["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["formInstanceId"] == long.as_str())
        .and_then(|r| r["formData"]["tableField_items"].as_array().map(Vec::len));
    assert_eq!(cut, Some(50), "the emulator cuts replies at 50 rows");

    let paged = emu.calls_of(ROWS_OP);
    let first = mirror.sync(FORM).await.expect("first sync");
    assert_eq!(first.mode, "full");
    // 130 rows at 100 a page: 2 calls; the 3-row record needs none.
    assert_eq!(emu.calls_of(ROWS_OP) - paged, 2, "{first:?}");
    assert_eq!(child_items(&store, &long).await, expected(130, "a"));
    assert_eq!(child_items(&store, &short).await, expected(3, "s"));

    // Changed to 135 other rows: all of them, in order, none of the old ones.
    call(
        &client,
        "UpdateFormData",
        "1.0",
        json!({"formInstanceId": long, "updateFormDataJson": {"tableField_items": rows(135, "b")}}),
    )
    .await;
    let paged = emu.calls_of(ROWS_OP);
    let second = mirror.sync(FORM).await.expect("incremental sync");
    assert_eq!(second.mode, "incremental");
    assert_eq!(emu.calls_of(ROWS_OP) - paged, 2, "{second:?}");
    assert_eq!(child_items(&store, &long).await, expected(135, "b"));

    // Cut to 40 rows in Yida: 40 rows are left in the mirror (no paging: the reply has them
    // all).
    call(
        &client,
        "UpdateFormData",
        "1.0",
        json!({"formInstanceId": long, "updateFormDataJson": {"tableField_items": rows(40, "c")}}),
    )
    .await;
    let paged = emu.calls_of(ROWS_OP);
    let third = mirror.sync(FORM).await.expect("incremental sync");
    assert_eq!(emu.calls_of(ROWS_OP) - paged, 0, "{third:?}");
    assert_eq!(child_items(&store, &long).await, expected(40, "c"));
    assert_eq!(child_items(&store, &short).await, expected(3, "s"));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sub_forms_beyond_50_rows_are_mirrored_whole() {
    long_sub_forms(tmp_db("long-sub-forms")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sub_forms_beyond_50_rows_are_mirrored_whole() {
    let Some(pg) = yida_e2e::PostgresServer::start() else {
        return;
    };
    long_sub_forms(pg.url()).await;
}
