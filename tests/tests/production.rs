//! Production behaviour over HTTP: retries by error class and operation kind, rate limit,
//! pagination, tracing.

use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use yida_api::{
    AppContext, Client, DeleteFormDataRequest, Error, GetInstancesV2Request, RetryConfig,
    SaveFormDataV2Request, SearchFormDatasV2Request,
};
use yida_e2e::{MockServer, Reply};

fn fast_retries() -> RetryConfig {
    RetryConfig::default()
        .max_attempts(4)
        .base_delay(Duration::from_millis(5))
        .max_delay(Duration::from_millis(20))
}

fn client_with(server: &MockServer, retry: RetryConfig) -> Client {
    Client::builder()
        .endpoint(server.url())
        .access_token("t")
        .context(
            AppContext::new()
                .app_type("APP_1")
                .system_token("sys")
                .user_id("u1"),
        )
        .retry(retry)
        .build()
        .unwrap()
}

fn search() -> SearchFormDatasV2Request {
    SearchFormDatasV2Request::new("FORM-1")
}

fn page() -> Reply {
    Reply::json(json!({"currentPage": 1, "totalCount": 0, "data": []}))
}

#[tokio::test]
async fn throttling_is_retried_then_succeeds_even_for_writes() {
    let server = MockServer::script(vec![
        Reply::error(
            403,
            "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
            "slow down",
            "R1",
        ),
        Reply::error(429, "Throttled", "slow down", "R2"),
        Reply::json(json!({"result": "FINST-1"})),
    ])
    .await;
    let reply = client_with(&server, fast_retries())
        .forms()
        .save_form_data_v2(SaveFormDataV2Request::new("FORM-1", json!({"a": 1})))
        .await
        .unwrap();
    assert_eq!(reply.result.as_deref(), Some("FINST-1"));
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn the_gateway_ban_reply_is_retried_after_its_wait() {
    let server = MockServer::script(vec![
        Reply::status_json(403, json!({"status": 1111, "wait": 0.05})),
        Reply::text(429, "text/html", yida_e2e::GATEWAY_BAN_PAGE),
        page(),
    ])
    .await;
    let c = client_with(&server, fast_retries().ban_wait(Duration::from_millis(30)));
    let err_or_ok = c.forms().search_form_datas_v2(search()).await;
    assert!(err_or_ok.is_ok(), "{err_or_ok:?}");
    assert_eq!(server.count(), 3);
    // The waits are honoured: 50 ms asked by the JSON ban, 30 ms configured for the HTML one.
    let r = server.requests();
    assert!(r[1].at.duration_since(r[0].at) >= Duration::from_millis(50));
    assert!(r[2].at.duration_since(r[1].at) >= Duration::from_millis(30));
}

#[tokio::test]
async fn a_write_answered_500_is_sent_once() {
    let server = MockServer::always(Reply::error(500, "innerError", "boom", "R5")).await;
    let err = client_with(&server, fast_retries())
        .forms()
        .save_form_data_v2(SaveFormDataV2Request::new("FORM-1", json!({"a": 1})))
        .await
        .unwrap_err();
    assert_eq!(err.api().unwrap().code(), "innerError");
    assert_eq!(
        server.count(),
        1,
        "a write is never repeated after the server may have acted"
    );
    // A delete is a write too.
    let server = MockServer::always(Reply::error(503, "unclassifiedError", "boom", "R6")).await;
    client_with(&server, fast_retries())
        .forms()
        .delete_form_data(DeleteFormDataRequest::new("FINST-1"))
        .await
        .unwrap_err();
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn a_read_answered_500_is_retried_up_to_the_limit() {
    let server =
        MockServer::script(vec![Reply::error(500, "innerError", "boom", "R7"), page()]).await;
    client_with(&server, fast_retries())
        .forms()
        .search_form_datas_v2(search())
        .await
        .unwrap();
    assert_eq!(server.count(), 2);
    let server = MockServer::always(Reply::error(500, "innerError", "boom", "R8")).await;
    let err = client_with(&server, fast_retries())
        .forms()
        .search_form_datas_v2(search())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(server.count(), 4, "max_attempts(4)");
}

#[tokio::test]
async fn a_write_whose_connection_breaks_after_sending_is_not_repeated() {
    let server = MockServer::always(Reply::Close).await;
    let err = client_with(&server, fast_retries())
        .forms()
        .save_form_data_v2(SaveFormDataV2Request::new("FORM-1", json!({})))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn quota_permission_and_parameter_errors_are_not_retried() {
    for (status, code) in [
        (403, "Forbidden.AccessDenied.ApiCountLimitForOrg"),
        (403, "Forbidden.AccessDenied.AccessTokenPermissionDenied"),
        (400, "invalidParameter.formUuid.invalid"),
    ] {
        let server = MockServer::always(Reply::error(status, code, "no", "R9")).await;
        let err = client_with(&server, fast_retries())
            .forms()
            .search_form_datas_v2(search())
            .await
            .unwrap_err();
        assert_eq!(err.api().unwrap().code(), code);
        assert_eq!(server.count(), 1, "{code} sent once");
    }
}

#[tokio::test]
async fn retries_can_be_turned_off() {
    let server = MockServer::always(Reply::error(
        403,
        "Forbidden.AccessDenied.QpsLimitForApi",
        "x",
        "R",
    ))
    .await;
    client_with(&server, RetryConfig::disabled())
        .forms()
        .search_form_datas_v2(search())
        .await
        .unwrap_err();
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn a_connection_refused_before_sending_is_retried_for_a_write() {
    // Reserve a port, close it, and open it only after the first attempt was refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = Client::builder()
        .endpoint(format!("http://{addr}"))
        .access_token("t")
        .context(
            AppContext::new()
                .app_type("A")
                .system_token("s")
                .user_id("u"),
        )
        .retry(
            RetryConfig::default()
                .max_attempts(30)
                .base_delay(Duration::from_millis(50))
                .max_delay(Duration::from_millis(100)),
        )
        .build()
        .unwrap();
    let seen = Arc::new(Mutex::new(0usize));
    let seen2 = seen.clone();
    let opener = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let (mut s, _) = listener.accept().await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut buf = vec![0u8; 65536];
        let _ = s.read(&mut buf).await.unwrap();
        *seen2.lock().unwrap() += 1;
        let body = r#"{"result":"FINST-9"}"#;
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(reply.as_bytes()).await.unwrap();
    });
    let reply = c
        .forms()
        .save_form_data_v2(SaveFormDataV2Request::new("FORM-1", json!({})))
        .await
        .unwrap();
    opener.await.unwrap();
    assert_eq!(reply.result.as_deref(), Some("FINST-9"));
    assert_eq!(*seen.lock().unwrap(), 1);
}

#[tokio::test]
async fn the_rate_limit_spaces_calls_of_one_operation() {
    let server = MockServer::always(page()).await;
    let c = Client::builder()
        .endpoint(server.url())
        .access_token("t")
        .context(
            AppContext::new()
                .app_type("A")
                .system_token("s")
                .user_id("u"),
        )
        .rate_limit_per_operation(20)
        .build()
        .unwrap();
    for _ in 0..4 {
        c.forms().search_form_datas_v2(search()).await.unwrap();
    }
    let r = server.requests();
    assert_eq!(r.len(), 4);
    // 20 per second: the limiter releases calls on a 50 ms schedule. The server sees each
    // arrival with some scheduling jitter (the machine may be busy), which does not add up
    // along the schedule: any two calls k apart are at least k × 50 ms apart, minus one
    // jitter allowance. Without the limiter the four calls arrive within a few ms.
    for i in 0..r.len() {
        for j in i + 1..r.len() {
            let gap = r[j].at.duration_since(r[i].at);
            let floor = Duration::from_millis(50 * (j - i) as u64 - 20);
            assert!(
                gap >= floor,
                "calls {i} and {j}: {gap:?} apart, below {floor:?}"
            );
        }
    }
}

#[tokio::test]
async fn pagination_reads_250_items_in_three_pages() {
    let server = MockServer::start(|r, _| {
        let body = r.json();
        let page = body["currentPage"].as_i64().unwrap();
        let size = body["pageSize"].as_i64().unwrap();
        let start = (page - 1) * size;
        let end = (start + size).min(250);
        let data: Vec<_> = (start..end)
            .map(|i| json!({"formInstanceId": format!("FINST-{i}")}))
            .collect();
        Reply::json(json!({"currentPage": page, "totalCount": 250, "data": data}))
    })
    .await;
    let c = client_with(&server, RetryConfig::disabled());
    let mut stream = c.paginate(search());
    let mut ids = Vec::new();
    while let Some(item) = stream.next().await {
        ids.push(item.unwrap().form_instance_id.unwrap());
    }
    assert_eq!(ids.len(), 250);
    assert_eq!(ids[0], "FINST-0");
    assert_eq!(ids[249], "FINST-249");
    let pages: Vec<_> = server
        .requests()
        .iter()
        .map(|r| {
            (
                r.json()["currentPage"].as_i64().unwrap(),
                r.json()["pageSize"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(pages, [(1, 100), (2, 100), (3, 100)]);
    assert_eq!(stream.total_count(), Some(250));
}

#[tokio::test]
async fn page_number_pagination_stops_at_a_short_page_and_keeps_the_page_size() {
    let server = MockServer::start(|r, _| {
        let page: i64 = r.query_param("pageNumber").unwrap().parse().unwrap();
        let n = if page < 3 { 30 } else { 7 };
        let data: Vec<_> = (0..n)
            .map(|i| json!({"processInstanceId": format!("P{page}-{i}")}))
            .collect();
        // The short page ends the walk.
        Reply::json(json!({"pageNumber": page, "totalCount": 67, "data": data}))
    })
    .await;
    let c = client_with(&server, RetryConfig::disabled());
    let mut stream = c.paginate(GetInstancesV2Request::new("FORM-1").page_size(30));
    let mut n = 0;
    while let Some(item) = stream.next().await {
        item.unwrap();
        n += 1;
    }
    assert_eq!(n, 67);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[2].query_param("pageSize").as_deref(), Some("30"));
    // Paging is in the query, filters in the body.
    assert_eq!(reqs[0].json()["formUuid"], "FORM-1");
}

#[tokio::test]
async fn a_page_error_ends_the_stream_with_that_error() {
    let server = MockServer::script(vec![
        Reply::json(json!({"currentPage": 1, "totalCount": 300, "data": (0..100).map(|i| json!({"dataId": i})).collect::<Vec<_>>()})),
        Reply::error(400, "invalidParameter.x", "bad", "R"),
    ])
    .await;
    let c = client_with(&server, RetryConfig::disabled());
    let mut stream = c.paginate(search());
    let mut ok = 0;
    let mut errors = 0;
    while let Some(item) = stream.next().await {
        match item {
            Ok(_) => ok += 1,
            Err(_) => errors += 1,
        }
    }
    assert_eq!((ok, errors), (100, 1));
}

#[tokio::test]
async fn dynamic_pagination_walks_the_same_way_and_refuses_what_it_cannot_page() {
    let server = MockServer::start(|r, _| {
        let page: i64 = r.query_param("pageNumber").unwrap().parse().unwrap();
        let data: Vec<_> = (0..if page < 2 { 40 } else { 5 })
            .map(|i| json!({"processInstanceId": format!("P{page}-{i}")}))
            .collect();
        Reply::json(json!({"pageNumber": page, "totalCount": 45, "data": data}))
    })
    .await;
    let c = client_with(&server, RetryConfig::disabled());
    let mut pages = c
        .paginate_json(
            yida_e2e::op("GetInstances", "2.0"),
            json!({"formUuid": "F", "pageSize": 40}),
        )
        .unwrap();
    let mut sizes = Vec::new();
    while let Some(items) = pages.next_items().await {
        sizes.push(items.unwrap().len());
    }
    assert_eq!(sizes, [40, 5]);
    assert_eq!(
        (pages.pages(), pages.fetched(), pages.total_count()),
        (2, 45, Some(45))
    );
    assert_eq!(
        server.requests()[1].query_param("pageSize").as_deref(),
        Some("40")
    );
    assert!(matches!(
        c.paginate_json(yida_e2e::op("SaveFormData", "2.0"), json!({})),
        Err(Error::InvalidInput { .. })
    ));
    assert!(yida_api::operation("NoSuch", "1.0").is_none());
    assert!(matches!(
        c.paginate_json(yida_e2e::op("GetInstances", "2.0"), json!([1])),
        Err(Error::InvalidInput { .. })
    ));
}
