//! Concurrent page walks, walk termination, the limiter and bulk writes, over HTTP.

use futures_util::TryStreamExt;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use yida_api::bulk::{Outcome, RecordError};
use yida_api::limiter::{AdaptiveRateLimiter, QuotaKey};
use yida_api::{AppContext, Client, Error, RetryConfig, SearchFormDatasV2Request};
use yida_e2e::{MockServer, Recorded, Reply};

fn builder(server: &MockServer) -> yida_api::ClientBuilder {
    Client::builder()
        .endpoint(server.url())
        .access_token("t")
        .context(
            AppContext::new()
                .app_type("APP_1")
                .system_token("sys")
                .user_id("u1"),
        )
        .retry(
            RetryConfig::default()
                .base_delay(Duration::from_millis(5))
                .max_delay(Duration::from_millis(20)),
        )
}

/// A form of `total` records served `size` per page (capped at `cap`), later pages answering
/// sooner so that concurrent replies arrive out of order.
fn pages(total: i64, cap: i64, fail_page: Option<i64>) -> impl Fn(&Recorded, usize) -> Reply {
    move |r, _| {
        let body = r.json();
        let page = body["currentPage"].as_i64().unwrap();
        let size = body["pageSize"].as_i64().unwrap().min(cap);
        if Some(page) == fail_page {
            return Reply::error(400, "invalidParameter.x", "bad page", "R5");
        }
        let start = (page - 1) * size;
        let end = (start + size).min(total).max(start);
        let data: Vec<_> = (start..end)
            .map(|i| json!({"formInstanceId": format!("FINST-{i}")}))
            .collect();
        let delay = Duration::from_millis(5 * (12 - page.min(12)) as u64);
        Reply::Delay(
            delay,
            Box::new(Reply::json(
                json!({"currentPage": page, "totalCount": total, "data": data}),
            )),
        )
    }
}

fn page_numbers(server: &MockServer) -> Vec<i64> {
    let mut p: Vec<i64> = server
        .requests()
        .iter()
        .map(|r| r.json()["currentPage"].as_i64().unwrap())
        .collect();
    p.sort();
    p
}

#[tokio::test]
async fn a_concurrent_walk_delivers_every_item_once_in_page_order() {
    let server = MockServer::start(pages(1050, 100, None)).await;
    let c = builder(&server)
        .pacing(AdaptiveRateLimiter::new(1000.0))
        .build()
        .unwrap();
    let ids: Vec<String> = c
        .paginate(SearchFormDatasV2Request::new("FORM-1"))
        .concurrency(4)
        .map_ok(|r| r.form_instance_id.unwrap())
        .try_collect()
        .await
        .unwrap();
    let want: Vec<String> = (0..1050).map(|i| format!("FINST-{i}")).collect();
    assert_eq!(ids, want);
    assert_eq!(page_numbers(&server), (1..=11).collect::<Vec<_>>());
    // Pages 2.. were asked for before page 2 answered: they overlapped.
    let reqs = server.requests();
    assert!(reqs[1].at < reqs[2].at + Duration::from_millis(50));
}

#[tokio::test]
async fn a_page_failing_midway_ends_a_concurrent_walk_after_the_pages_before_it() {
    let server = MockServer::start(pages(1050, 100, Some(5))).await;
    let c = builder(&server).build().unwrap();
    let mut walk = c
        .paginate(SearchFormDatasV2Request::new("FORM-1"))
        .concurrency(3);
    let mut ids = Vec::new();
    let mut errors = Vec::new();
    while let Some(item) = walk.next().await {
        match item {
            Ok(r) => ids.push(r.form_instance_id.unwrap()),
            Err(e) => errors.push(e),
        }
    }
    let want: Vec<String> = (0..400).map(|i| format!("FINST-{i}")).collect();
    assert_eq!(ids, want, "items of pages 1-4, in order, and nothing after");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].api().unwrap().code(), "invalidParameter.x");
    // No page past the failing one plus the window was asked for.
    assert!(server.count() <= 8, "{} requests", server.count());
}

#[tokio::test]
async fn json_pages_are_a_stream_of_items() {
    let server = MockServer::start(pages(230, 100, None)).await;
    let c = builder(&server).build().unwrap();
    let items: Vec<serde_json::Value> = c
        .paginate_json(
            yida_e2e::op("SearchFormDatas", "2.0"),
            json!({"formUuid": "FORM-1"}),
        )
        .unwrap()
        .concurrency(2)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 230);
    assert_eq!(items[229]["formInstanceId"], "FINST-229");
}

#[tokio::test]
async fn a_server_repeating_full_pages_without_total_ends_with_an_error() {
    // Ignores the page number: page after page, the same 100 records.
    let server = MockServer::start(|_, _| {
        let data: Vec<_> = (0..100)
            .map(|i| json!({"formInstanceId": i.to_string()}))
            .collect();
        Reply::json(json!({"currentPage": 1, "totalCount": 1000, "data": data}))
    })
    .await;
    let c = builder(&server).build().unwrap();
    let result: Result<Vec<_>, Error> = c
        .paginate(SearchFormDatasV2Request::new("FORM-1"))
        .try_collect()
        .await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, Error::IncompleteWalk { received: 100, .. }),
        "{err}"
    );
    assert_eq!(server.count(), 2, "stops at the first repeated page");
}

#[tokio::test]
async fn a_walk_is_bounded_by_total_count() {
    // Full, different pages for any page number, totalCount 250.
    let server = MockServer::start(|r, _| {
        let page = r.json()["currentPage"].as_i64().unwrap();
        let data: Vec<_> = (0..100)
            .map(|i| json!({"formInstanceId": format!("{page}-{i}")}))
            .collect();
        Reply::json(json!({"currentPage": page, "totalCount": 250, "data": data}))
    })
    .await;
    let c = builder(&server).build().unwrap();
    for concurrency in [1, 4] {
        let before = server.count();
        let items: Vec<_> = c
            .paginate(SearchFormDatasV2Request::new("FORM-1"))
            .concurrency(concurrency)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(items.len(), 300);
        assert_eq!(server.count() - before, 3, "concurrency {concurrency}");
    }
}

#[tokio::test]
async fn a_server_capping_the_page_size_is_reported_not_taken_for_the_end() {
    let server = MockServer::start(pages(250, 50, None)).await;
    let c = builder(&server).build().unwrap();
    let mut walk = c.paginate(SearchFormDatasV2Request::new("FORM-1").page_size(500));
    let mut n = 0;
    let mut err = None;
    while let Some(item) = walk.next().await {
        match item {
            Ok(_) => n += 1,
            Err(e) => err = Some(e),
        }
    }
    assert_eq!(n, 50);
    match err {
        Some(Error::IncompleteWalk {
            expected: Some(250),
            received: 50,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // pageSize is clamped to the documented maximum.
    assert_eq!(server.requests()[0].json()["pageSize"], 100);
}

fn spans_ms(reqs: &[Recorded]) -> Vec<u128> {
    reqs.windows(2)
        .map(|w| w[1].at.duration_since(w[0].at).as_millis())
        .collect()
}

#[tokio::test]
async fn the_default_pacing_keeps_a_concurrent_walk_under_20_per_second() {
    let server = MockServer::start(pages(2100, 100, None)).await;
    let c = builder(&server).build().unwrap();
    let n = c
        .paginate(SearchFormDatasV2Request::new("FORM-1"))
        .concurrency(16)
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .len();
    assert_eq!(n, 2100);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 21);
    // Pages 2..21: 19 per second means ≥ 52 ms apart on average; allow scheduling slack.
    let span = reqs[20].at.duration_since(reqs[1].at);
    assert!(span >= Duration::from_millis(19 * 45), "{span:?}");
    // No 1-second window holds more than 20 requests.
    for (i, r) in reqs.iter().enumerate() {
        let in_window = reqs[i..]
            .iter()
            .take_while(|x| x.at.duration_since(r.at) < Duration::from_secs(1))
            .count();
        assert!(in_window <= 20, "{in_window} requests within 1 s");
    }
}

#[tokio::test]
async fn the_adaptive_limiter_slows_down_on_throttling_and_recovers() {
    // Requests 6..=8 are throttled the way DingTalk does it.
    let server = MockServer::start(|r, i| {
        if (6..=8).contains(&i) {
            return Reply::error(
                403,
                "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
                "qps",
                "RQ",
            );
        }
        pages(3000, 100, None)(r, i)
    })
    .await;
    let limiter = Arc::new(AdaptiveRateLimiter::new(50.0).recovery(Duration::from_secs(30)));
    let c = builder(&server)
        .quota_app("appkey-1")
        .pacing(limiter.clone())
        .build()
        .unwrap();
    let key = QuotaKey::new("appkey-1", "SearchFormDatas", "2.0");
    let items = c
        .paginate(SearchFormDatasV2Request::new("FORM-1"))
        .concurrency(8)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!(items.len(), 3000, "throttled pages were retried, none lost");
    let rate_after = limiter.current_rate(&key);
    let reqs = server.requests();
    let gaps = spans_ms(&reqs);
    // Before the throttle: 50/s = 20 ms apart. After it: half the rate (climbing back over
    // 30 s), ≥ 40 ms apart; the server's timestamps tell.
    let before: u128 = gaps[1..5].iter().sum::<u128>() / 4;
    let after: u128 = gaps[10..20].iter().sum::<u128>() / 10;
    assert!(before < 33, "before {before} ms: {gaps:?}");
    let pgs: Vec<_> = reqs
        .iter()
        .map(|r| r.json()["currentPage"].as_i64().unwrap())
        .collect();
    assert!(
        after >= 36,
        "after {after} ms: {gaps:?} {pgs:?} rate {rate_after}"
    );
    assert!(rate_after < 30.0, "rate {rate_after}");
}

// ---------------------------------------------------------------- bulk writes

fn saved_ids(r: &Recorded, offset: usize) -> Vec<String> {
    let list = r.json()["formDataJsonList"].as_array().unwrap().clone();
    list.iter()
        .map(|t| {
            let v: serde_json::Value = serde_json::from_str(t.as_str().unwrap()).unwrap();
            format!("FINST-{}", v["n"].as_i64().unwrap() + offset as i64)
        })
        .collect()
}

fn records(n: i64) -> Vec<serde_json::Value> {
    (0..n).map(|i| json!({"n": i})).collect()
}

/// First record number of a batchSave body.
fn first_n(r: &Recorded) -> i64 {
    let t = r.json()["formDataJsonList"][0]
        .as_str()
        .unwrap()
        .to_string();
    serde_json::from_str::<serde_json::Value>(&t).unwrap()["n"]
        .as_i64()
        .unwrap()
}

async fn save_all(
    c: &Client,
    n: i64,
    conf: impl Fn(yida_api::bulk::Bulk) -> yida_api::bulk::Bulk,
) -> (
    Vec<Outcome<serde_json::Value>>,
    Result<yida_api::bulk::BulkSummary, Error>,
) {
    let mut out = Vec::new();
    let summary = conf(c.bulk("FORM-1"))
        .save(records(n), |o| out.push(o))
        .await;
    out.sort_by_key(|o| o.index());
    (out, summary)
}

#[tokio::test]
async fn bulk_save_reports_every_record_and_a_failing_chunk_fails_only_its_records() {
    // A chunk refused for its content (not applied) fails its records only; without
    // isolation, every record of it carries the chunk's error.
    let server = MockServer::start(|r, _| {
        if first_n(r) == 100 {
            return Reply::error(400, "invalidParameter.field", "bad value", "R2");
        }
        Reply::json(json!({"result": saved_ids(r, 0)}))
    })
    .await;
    let c = builder(&server).build().unwrap();
    let (out, summary) = save_all(&c, 250, |b| b.concurrency(3).isolate_calls(0)).await;
    let summary = summary.unwrap();
    assert_eq!(
        (summary.written, summary.failed, summary.calls),
        (150, 100, 3)
    );
    assert_eq!(out.len(), 250);
    for (i, o) in out.iter().enumerate() {
        assert_eq!(o.index(), i as u64);
        match o {
            Outcome::Written {
                instance_id,
                record,
                ..
            } => {
                assert!(!(100..200).contains(&i));
                assert_eq!(instance_id, &format!("FINST-{i}"));
                assert_eq!(record["n"], i as i64);
            }
            Outcome::Failed {
                error,
                maybe_applied,
                record,
                ..
            } => {
                assert!((100..200).contains(&i));
                assert!(!maybe_applied);
                assert_eq!(record["n"], i as i64);
                assert!(
                    error.to_string().contains("invalidParameter.field"),
                    "{error}"
                );
            }
        }
    }
    // What went over the wire: 3 calls of 100, 100, 50 records, context filled in.
    let mut sizes: Vec<usize> = server
        .requests()
        .iter()
        .map(|r| r.json()["formDataJsonList"].as_array().unwrap().len())
        .collect();
    sizes.sort();
    assert_eq!(sizes, [50, 100, 100]);
    let r0 = &server.requests()[0];
    assert_eq!(r0.path, "/v1.0/yida/forms/instances/batchSave");
    assert_eq!(r0.json()["appType"], "APP_1");
    assert_eq!(r0.json()["formUuid"], "FORM-1");
}

#[tokio::test]
async fn a_chunk_is_never_sent_again_after_a_5xx_or_a_broken_connection() {
    for failure in [Reply::error(500, "innerError", "oops", "R5"), Reply::Close] {
        let f = failure.clone();
        let server = MockServer::start(move |r, _| {
            if first_n(r) == 0 {
                return f.clone();
            }
            Reply::json(json!({"result": saved_ids(r, 0)}))
        })
        .await;
        let c = builder(&server).build().unwrap();
        let (out, summary) = save_all(&c, 150, |b| b.concurrency(1)).await;
        assert_eq!(summary.unwrap().failed, 100);
        let sends_of_chunk_0 = server.requests().iter().filter(|r| first_n(r) == 0).count();
        assert_eq!(sends_of_chunk_0, 1, "{failure:?}");
        assert_eq!(server.count(), 2);
        for o in &out[..100] {
            assert!(matches!(
                o,
                Outcome::Failed {
                    maybe_applied: true,
                    error: RecordError::Call(_),
                    ..
                }
            ));
        }
        assert!(out[100..].iter().all(Outcome::is_written));
    }
}

#[tokio::test]
async fn throttled_chunks_are_retried_because_they_were_not_applied() {
    let server = MockServer::start(|r, i| {
        if i == 0 {
            return Reply::error(
                403,
                "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
                "qps",
                "RQ",
            );
        }
        Reply::json(json!({"result": saved_ids(r, 0)}))
    })
    .await;
    let c = builder(&server).build().unwrap();
    let (out, summary) = save_all(&c, 100, |b| b).await;
    assert_eq!(summary.unwrap().written, 100);
    assert!(out.iter().all(Outcome::is_written));
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn an_interrupted_import_resumes_without_writing_twice() {
    let dir = std::env::temp_dir().join(format!("yida-bulk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cp = dir.join("import.checkpoint");
    let _ = std::fs::remove_file(&cp);
    // Run 1: chunk 1 (records 100..200) refused (definitely not applied), chunk 2
    // (200..300) answered 500 (may be applied), chunks 0 and 3 written.
    let run = Arc::new(AtomicUsize::new(1));
    let r2 = run.clone();
    let server = MockServer::start(move |r, _| {
        let first = first_n(r);
        if r2.load(Ordering::SeqCst) == 1 {
            if first == 100 {
                return Reply::error(400, "invalidParameter.x", "bad", "R1");
            }
            if first == 200 {
                return Reply::error(500, "innerError", "oops", "R2");
            }
        }
        Reply::json(json!({"result": saved_ids(r, 0)}))
    })
    .await;
    let c = builder(&server).build().unwrap();
    let (out1, s1) = save_all(&c, 350, |b| {
        b.concurrency(2).isolate_calls(0).checkpoint(&cp)
    })
    .await;
    let s1 = s1.unwrap();
    assert_eq!((s1.written, s1.failed, s1.calls), (150, 200, 4));
    assert_eq!(out1.len(), 350);
    // Without resume an existing checkpoint is refused before anything is sent.
    let before = server.count();
    let (_, refused) = save_all(&c, 350, |b| b.checkpoint(&cp)).await;
    assert!(matches!(refused, Err(Error::Checkpoint { .. })));
    assert_eq!(server.count(), before);
    // Run 2 resumes: only chunk 1 is sent again.
    run.store(2, Ordering::SeqCst);
    let (out2, s2) = save_all(&c, 350, |b| b.concurrency(2).resume(&cp)).await;
    let s2 = s2.unwrap();
    assert_eq!(s2.calls, 1);
    assert_eq!((s2.written, s2.failed, s2.resumed), (250, 100, 150));
    let resent: Vec<i64> = server.requests()[before..].iter().map(first_n).collect();
    assert_eq!(resent, [100]);
    for (i, o) in out2.iter().enumerate() {
        match (i, o) {
            (
                0..=99 | 300..=349,
                Outcome::Written {
                    resumed: true,
                    instance_id,
                    ..
                },
            ) => {
                assert_eq!(instance_id, &format!("FINST-{i}"))
            }
            (100..=199, Outcome::Written { resumed: false, .. }) => {}
            (
                200..=299,
                Outcome::Failed {
                    error: RecordError::NotResent { .. },
                    maybe_applied: true,
                    ..
                },
            ) => {}
            other => panic!("record {i}: {:?}", other.1),
        }
    }
    // Each record was written at most once over both runs.
    let mut sent: Vec<i64> = Vec::new();
    for r in server.requests() {
        let first = first_n(&r);
        let n = r.json()["formDataJsonList"].as_array().unwrap().len() as i64;
        sent.extend(first..first + n);
    }
    sent.sort();
    let dup = sent.windows(2).filter(|w| w[0] == w[1]).count();
    assert_eq!(dup, 100, "only the refused chunk went out twice");
    // A different input is refused on resume.
    let mut other = records(350);
    other[0] = json!({"n": 999});
    let err = c
        .bulk("FORM-1")
        .resume(&cp)
        .save(other, |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("differs"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn bulk_update_and_delete_report_per_record() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let server = MockServer::start(move |r, _| {
        s2.lock().unwrap().push((r.method.clone(), r.path.clone()));
        if r.path.ends_with("/datas") {
            // Says only FINST-1 was updated.
            Reply::json(json!({"result": ["FINST-1"]}))
        } else {
            Reply::empty()
        }
    })
    .await;
    let c = builder(&server).build().unwrap();
    let mut out = Vec::new();
    let s = c
        .bulk("FORM-1")
        .update(
            vec![
                ("FINST-1".to_string(), json!({"a": 1})),
                ("FINST-2".to_string(), json!({"a": 2})),
            ],
            |o| out.push(o),
        )
        .await
        .unwrap();
    assert_eq!((s.written, s.failed), (1, 1));
    out.sort_by_key(|o| o.index());
    assert!(out[0].is_written());
    assert!(matches!(
        &out[1],
        Outcome::Failed {
            error: RecordError::NotInReply { .. },
            ..
        }
    ));
    let body = server.requests()[0].json();
    assert_eq!(body["updateFormDataJsonMap"]["FINST-2"], "{\"a\":2}");
    let mut deleted = Vec::new();
    let s = c
        .bulk("FORM-1")
        .chunk_size(2)
        .delete((0..5).map(|i| format!("FINST-{i}")), |o| deleted.push(o))
        .await
        .unwrap();
    assert_eq!((s.written, s.calls), (5, 3));
    assert_eq!(
        seen.lock()
            .unwrap()
            .iter()
            .filter(|(_, p)| p.ends_with("batchRemove"))
            .count(),
        3
    );
}

/// Issue 19 item 3 (library): a chunk refused for one record is split level by level until
/// that record stands alone; every other record is written once, within the budget.
#[tokio::test]
async fn a_refused_chunk_is_split_until_the_bad_record_stands_alone() {
    let server = MockServer::start(|r, _| {
        let list = r.json()["formDataJsonList"].as_array().unwrap().clone();
        if list.iter().any(|t| t.as_str().unwrap() == r#"{"n":137}"#) {
            return Reply::error(400, "invalidParameter.field", "record 137 is bad", "R2");
        }
        Reply::json(json!({"result": saved_ids(r, 0)}))
    })
    .await;
    let c = builder(&server).build().unwrap();
    let (out, summary) = save_all(&c, 250, |b| b.concurrency(3)).await;
    let summary = summary.unwrap();
    assert_eq!((summary.written, summary.failed), (249, 1));
    // 3 chunks, then 2 calls per level: 100 → 50 → 25 → 13 → 6 → 3 → 1.
    assert_eq!(summary.isolation_calls, 12);
    assert_eq!(summary.calls, 3 + 12);
    assert_eq!(server.count() as u64, summary.calls);
    for o in &out {
        match o {
            Outcome::Failed {
                index,
                error,
                maybe_applied,
                ..
            } => {
                assert_eq!(*index, 137);
                assert!(!maybe_applied);
                assert!(error.to_string().contains("record 137 is bad"), "{error}");
            }
            Outcome::Written {
                index, instance_id, ..
            } => {
                assert_eq!(instance_id, &format!("FINST-{index}"));
            }
        }
    }
    // No record was written twice.
    let mut written: Vec<i64> = Vec::new();
    for r in server.requests() {
        let list = r.json()["formDataJsonList"].as_array().unwrap().clone();
        if !list.iter().any(|t| t.as_str().unwrap() == r#"{"n":137}"#) {
            for t in list {
                let v: serde_json::Value = serde_json::from_str(t.as_str().unwrap()).unwrap();
                written.push(v["n"].as_i64().unwrap());
            }
        }
    }
    written.sort();
    let n = written.len();
    written.dedup();
    assert_eq!((n, written.len()), (249, 249));
}

/// Isolation never sends again a part whose fate is unknown (a 5xx during the split), and a
/// chunk-level refusal (every record fails alone) stops isolation for the rest of the run.
#[tokio::test]
async fn isolation_never_resends_an_uncertain_part_and_stops_on_a_call_level_refusal() {
    let server = MockServer::start(|r, _| {
        let list = r.json()["formDataJsonList"].as_array().unwrap().clone();
        let has = |n: i64| {
            list.iter()
                .any(|t| t.as_str().unwrap() == format!(r#"{{"n":{n}}}"#))
        };
        if list.len() == 1 && has(1) {
            return Reply::error(500, "innerError", "oops", "R5");
        }
        if has(0) || has(1) {
            return Reply::error(400, "invalidParameter.field", "bad", "R2");
        }
        Reply::json(json!({"result": saved_ids(r, 0)}))
    })
    .await;
    let c = builder(&server).build().unwrap();
    let (out, summary) = save_all(&c, 8, |b| b.chunk_size(8).concurrency(1)).await;
    let summary = summary.unwrap();
    // 8 → [0..4) refused, [4..8) written; [0..4) → [0..2) refused, [2..4) written;
    // [0..2) → [0] refused alone, [1] 5xx: maybe applied, not sent again.
    assert_eq!(summary.calls, 7, "{:?}", server.requests().len());
    let sends_of_1_alone = server
        .requests()
        .iter()
        .filter(|r| r.json()["formDataJsonList"].as_array().unwrap().len() == 1)
        .count();
    assert_eq!(sends_of_1_alone, 2, "[0] and [1] once each");
    assert!(matches!(
        &out[0],
        Outcome::Failed {
            maybe_applied: false,
            ..
        }
    ));
    assert!(matches!(
        &out[1],
        Outcome::Failed {
            maybe_applied: true,
            ..
        }
    ));
    assert!(out[2..].iter().all(Outcome::is_written));

    // Every record refused alone: the error is about the call, so later chunks are not split.
    let server = MockServer::always(Reply::error(
        400,
        "invalidParameter.formUuid",
        "no such form",
        "R3",
    ))
    .await;
    let c = builder(&server).build().unwrap();
    let (out, summary) = save_all(&c, 8, |b| b.chunk_size(2).concurrency(1)).await;
    let summary = summary.unwrap();
    assert_eq!(summary.failed, 8);
    assert_eq!(
        summary.calls,
        3 + 3,
        "chunk 1 split once (2 calls), then 3 chunks unsplit"
    );
    assert!(out.iter().all(|o| !o.is_written()));
}

/// A resumed run trusts what isolation recorded: written records are reported from the
/// checkpoint, parts whose fate was unknown are not sent again, nothing of the chunk is resent.
#[tokio::test]
async fn a_resumed_run_never_resends_what_isolation_left_uncertain() {
    let dir = std::env::temp_dir().join(format!("yida-bulk-iso-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cp = dir.join("iso.checkpoint");
    let _ = std::fs::remove_file(&cp);
    let server = MockServer::start(|r, _| {
        let list = r.json()["formDataJsonList"].as_array().unwrap().clone();
        let has = |n: i64| {
            list.iter()
                .any(|t| t.as_str().unwrap() == format!(r#"{{"n":{n}}}"#))
        };
        if has(0) {
            return Reply::error(400, "invalidParameter.field", "bad", "R2");
        }
        if has(2) {
            return Reply::error(500, "innerError", "oops", "R5");
        }
        Reply::json(json!({"result": saved_ids(r, 0)}))
    })
    .await;
    let c = builder(&server).build().unwrap();
    let (out, summary) = save_all(&c, 4, |b| b.chunk_size(4).checkpoint(&cp)).await;
    let summary = summary.unwrap();
    // [0..4) refused → [0,1] refused, [2,3] 5xx (unknown) → [0] refused, [1] written.
    assert_eq!(summary.calls, 5);
    assert!(out[1].is_written());
    assert!(matches!(
        &out[2],
        Outcome::Failed {
            maybe_applied: true,
            ..
        }
    ));
    let sent = server.count();
    let (out2, s2) = save_all(&c, 4, |b| b.chunk_size(4).resume(&cp)).await;
    let s2 = s2.unwrap();
    assert_eq!(server.count(), sent, "nothing of the chunk was sent again");
    assert_eq!((s2.written, s2.resumed, s2.calls), (1, 1, 0));
    assert!(
        matches!(&out2[1], Outcome::Written { resumed: true, instance_id, .. } if instance_id == "FINST-1")
    );
    for i in [2, 3] {
        assert!(matches!(
            &out2[i],
            Outcome::Failed {
                maybe_applied: true,
                error: RecordError::NotResent { .. },
                ..
            }
        ));
    }
    assert!(matches!(
        &out2[0],
        Outcome::Failed {
            maybe_applied: false,
            ..
        }
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
