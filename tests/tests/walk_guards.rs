//! Walk guards over HTTP: the page cap (`max_pages`, and the default one) and the rule that a
//! full page without `totalCount` ends the walk (issue 19 item 11, issue 22 item 3).

use futures_util::TryStreamExt;
use serde_json::json;
use yida_api::{AppContext, Client, Error, SearchFormDatasV2Request, DEFAULT_MAX_PAGES};
use yida_e2e::MockServer;
use yida_e2e::Reply;

fn client(server: &MockServer) -> Client {
    Client::builder()
        .endpoint(server.url())
        .access_token("t")
        .context(
            AppContext::new()
                .app_type("APP_1")
                .system_token("sys")
                .user_id("u1"),
        )
        .build()
        .unwrap()
}

/// Full, distinct pages for any page number, with this `totalCount` (`None`: absent).
async fn endless(total: Option<i64>) -> MockServer {
    MockServer::start(move |r, _| {
        let page = r.json()["currentPage"].as_i64().unwrap();
        let data: Vec<_> = (0..100)
            .map(|i| json!({"formInstanceId": format!("{page}-{i}")}))
            .collect();
        let mut body = json!({"currentPage": page, "data": data});
        if let Some(t) = total {
            body["totalCount"] = t.into();
        }
        Reply::json(body)
    })
    .await
}

async fn walk(c: &Client, max: Option<u64>, concurrency: usize) -> (usize, Option<Error>) {
    let mut s = c
        .paginate(SearchFormDatasV2Request::new("FORM-1"))
        .concurrency(concurrency);
    if let Some(n) = max {
        s = s.max_pages(n);
    }
    let mut n = 0;
    let mut err = None;
    while let Some(item) = s.next().await {
        match item {
            Ok(_) => n += 1,
            Err(e) => err = Some(e),
        }
    }
    (n, err)
}

#[tokio::test]
async fn max_pages_stops_a_walk_after_that_many_pages() {
    for concurrency in [1, 4] {
        let server = endless(Some(1_000_000)).await;
        let (n, err) = walk(&client(&server), Some(3), concurrency).await;
        assert_eq!(n, 300, "concurrency {concurrency}");
        match err {
            Some(Error::PageLimit {
                max_pages: 3,
                received: 300,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(server.count(), 3, "concurrency {concurrency}");
    }
}

#[tokio::test]
async fn the_default_page_cap_stops_before_spending_when_total_count_needs_more() {
    let server = endless(Some(1_000_000)).await;
    let (n, err) = walk(&client(&server), None, 4).await;
    assert_eq!(n, 100);
    let err = err.expect("an error after the first page");
    assert!(matches!(err, Error::PageLimit { .. }), "{err}");
    assert!(err.to_string().contains("max_pages(10000)"), "{err}");
    assert_eq!(server.count(), 1);
    assert_eq!(DEFAULT_MAX_PAGES, 1000);
}

#[tokio::test]
async fn a_raised_cap_lets_a_walk_end_by_itself() {
    // 1,200 pages' worth is refused by the default; 12 pages with a cap of 12 end normally.
    let server = endless(Some(1200)).await;
    let items: Vec<_> = client(&server)
        .paginate(SearchFormDatasV2Request::new("FORM-1"))
        .max_pages(12)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 1200);
    assert_eq!(server.count(), 12);
}

#[tokio::test]
async fn a_full_page_without_total_count_ends_the_walk_after_its_items() {
    let server = endless(None).await;
    let (n, err) = walk(&client(&server), None, 1).await;
    assert_eq!(n, 100);
    match err {
        Some(Error::IncompleteWalk {
            received: 100,
            reason,
            ..
        }) => {
            assert!(reason.contains("no totalCount"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.count(), 1);
}
