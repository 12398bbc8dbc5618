//! Walking every page of a list operation, one page at a time or several at once.
//!
//! One stream, [`PageStream<T>`], walks both the typed operations ([`Client::paginate`], the
//! operation's item type) and the dynamic calls ([`Client::paginate_json`], JSON items); one
//! engine ([`Walk`]) decides when every walk ends:
//! - `pageSize` is 100 unless the request sets its own, and never more than 100 (the
//!   documented maximum; DingTalk fails above it);
//! - the walk ends at an empty or short page, or once `totalCount` items arrived; pages past
//!   the last one `totalCount` implies are never requested;
//! - a page identical to the one before (a server ignoring the page number) ends the walk
//!   with [`Error::IncompleteWalk`] instead of looping;
//! - when the walk ends with fewer items than `totalCount` announced (e.g. the server caps the
//!   page size below the one requested), the last item is followed by
//!   [`Error::IncompleteWalk`], never by a silent end;
//! - every list operation documents `totalCount`: a full page whose reply lacks it ends the
//!   walk with [`Error::IncompleteWalk`] after that page's items, instead of asking for pages
//!   without end;
//! - a walk asks for at most [`max_pages`](PageStream::max_pages) pages (default
//!   [`DEFAULT_MAX_PAGES`]): past it the walk ends with [`Error::PageLimit`] after the items of
//!   the pages it fetched. Under the default cap, a first `totalCount` that needs more pages
//!   ends the walk after the first page, before the calls are spent;
//! - `totalCount` growing during the walk (records added meanwhile) moves the last page on, so
//!   records pushed down are still fetched; any change is reported by
//!   [`total_changed`](PageStream::total_changed) (items may then be seen twice or missed:
//!   dedupe by id, as `yida export` does).

use crate::meta::{OperationMeta, Paginated};
use crate::{Client, Error};
use futures_core::Stream;
use futures_util::stream::{FuturesOrdered, StreamExt};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::hash::Hasher;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The documented maximum of `pageSize`.
pub const MAX_PAGE_SIZE: i64 = 100;

/// Pages a walk asks for at most unless told otherwise ([`PageStream::max_pages`]): 1,000
/// pages of 100 items, 100,000 items.
pub const DEFAULT_MAX_PAGES: u64 = 1000;

/// The page size a walk asks for: the one requested when positive, never above
/// [`MAX_PAGE_SIZE`] (also the default).
///
/// ```
/// use yida_api::dry_run::walk_page_size;
/// assert_eq!((walk_page_size(None), walk_page_size(Some(20)), walk_page_size(Some(500))), (100, 20, 100));
/// ```
pub fn walk_page_size(requested: Option<i64>) -> i64 {
    requested
        .filter(|s| *s > 0)
        .unwrap_or(MAX_PAGE_SIZE)
        .min(MAX_PAGE_SIZE)
}

/// The pages of `page_size` (at least 1) that hold `total` items; at least one page (the
/// first is always asked for).
///
/// ```
/// use yida_api::dry_run::pages_for;
/// assert_eq!((pages_for(0, 100), pages_for(100, 100), pages_for(101, 100)), (1, 1, 2));
/// ```
pub fn pages_for(total: i64, page_size: i64) -> u64 {
    let size = page_size.max(1);
    ((total.max(0) + size - 1) / size).max(1) as u64
}

/// One page as received.
struct Page<T> {
    number: i64,
    items: Vec<T>,
    total: Option<i64>,
    fingerprint: u64,
}

type PageFuture<T> = Pin<Box<dyn Future<Output = Result<Page<T>, Error>> + Send>>;
type Fetch<T> = Box<dyn Fn(&Client, i64, i64) -> PageFuture<T> + Send + Sync>;

impl<T: serde::Serialize> Page<T> {
    fn new(number: i64, items: Vec<T>, total: Option<i64>) -> Self {
        Page {
            number,
            fingerprint: fingerprint(&items),
            items,
            total,
        }
    }
}

/// A hash of the items, to notice a server answering the same page again.
fn fingerprint<T: serde::Serialize>(items: &[T]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::default();
    // Items we decoded always encode again; a failure only weakens the check.
    crate::json_text::feed_json(items, |b| h.write(b));
    h.finish()
}

/// The state of a walk: which pages are asked for, which are in flight, when it is over.
struct Walk<T> {
    operation: crate::OpId,
    client: Client,
    fetch: Fetch<T>,
    concurrency: usize,
    in_flight: FuturesOrdered<PageFuture<T>>,
    first_page: i64,
    next_page: i64,
    page_size: i64,
    /// Last page number worth asking for, from the first `totalCount`.
    last_page: Option<i64>,
    total: Option<i64>,
    seen: i64,
    pages: i64,
    last_fingerprint: Option<u64>,
    /// The page cap, and whether the user set it (`false`: the default).
    max_pages: u64,
    max_pages_set: bool,
    /// Pages asked for so far.
    issued: u64,
    /// `totalCount` of the latest page that told it.
    latest_total: Option<i64>,
    /// `totalCount` differed between pages.
    total_changed: bool,
    /// An error to hand out once the items before it were delivered.
    deferred: Option<Error>,
    /// No further page is requested.
    stop_issuing: bool,
    /// Nothing more is delivered.
    finished: bool,
}

impl<T> fmt::Debug for Walk<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Walk")
            .field("operation", &self.operation)
            .field("concurrency", &self.concurrency)
            .field("in_flight", &self.in_flight.len())
            .field("next_page", &self.next_page)
            .field("page_size", &self.page_size)
            .field("total", &self.total)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Walk<T> {
    fn new(
        operation: crate::OpId,
        client: Client,
        page: Option<i64>,
        page_size: Option<i64>,
        fetch: Fetch<T>,
    ) -> Self {
        let first_page = page.filter(|p| *p > 0).unwrap_or(1);
        Walk {
            operation,
            client,
            fetch,
            concurrency: 1,
            in_flight: FuturesOrdered::new(),
            first_page,
            next_page: first_page,
            page_size: walk_page_size(page_size),
            last_page: None,
            total: None,
            seen: 0,
            pages: 0,
            last_fingerprint: None,
            max_pages: DEFAULT_MAX_PAGES,
            max_pages_set: false,
            issued: 0,
            latest_total: None,
            total_changed: false,
            deferred: None,
            stop_issuing: false,
            finished: false,
        }
    }

    fn set_concurrency(&mut self, n: usize) {
        self.concurrency = n.max(1);
        if self.concurrency > 1 {
            self.client = self.client.paced();
        }
    }

    fn set_max_pages(&mut self, n: u64) {
        self.max_pages = n.max(1);
        self.max_pages_set = true;
    }

    /// Items the pages from `first_page` on should hold in all, per the latest `totalCount`.
    fn expected(&self) -> Option<i64> {
        self.latest_total
            .map(|t| (t - (self.first_page - 1) * self.page_size).max(0))
    }

    fn page_limit(&mut self, reason: String) -> Error {
        self.stop_issuing = true;
        Error::PageLimit {
            operation: self.operation,
            max_pages: self.max_pages,
            received: self.seen,
            expected: self.expected(),
            reason,
        }
    }

    fn end_with(&mut self, e: Error) -> Error {
        self.finished = true;
        self.stop_issuing = true;
        self.in_flight = FuturesOrdered::new();
        e
    }

    fn incomplete(&mut self, reason: String) -> Error {
        self.finished = true;
        self.stop_issuing = true;
        self.in_flight = FuturesOrdered::new();
        Error::IncompleteWalk {
            operation: self.operation,
            expected: self.expected(),
            received: self.seen,
            reason,
        }
    }

    fn issue(&mut self) {
        while !self.stop_issuing {
            // Without a known last page, the next page is asked for only after the one before
            // answered (it may be the last).
            let parallel = self.last_page.is_some() && self.concurrency > 1;
            let room = if parallel { self.concurrency } else { 1 };
            if self.in_flight.len() >= room {
                return;
            }
            if self.last_page.is_some_and(|last| self.next_page > last) {
                self.stop_issuing = true;
                return;
            }
            if self.issued >= self.max_pages {
                // Not an error while pages are in flight: they may end the walk by themselves.
                if self.in_flight.is_empty() && self.deferred.is_none() {
                    let reason = format!(
                        "stopped at the cap of {} pages before the end (raise it: --max-pages / max_pages())",
                        self.max_pages
                    );
                    self.deferred = Some(self.page_limit(reason));
                }
                return;
            }
            self.issued += 1;
            let fut = (self.fetch)(&self.client, self.next_page, self.page_size);
            // Concurrent pages run as tasks: each leaves when the limiter says, even while the
            // caller is busy with the items of an earlier page.
            let fut: PageFuture<T> = if parallel {
                Box::pin(crate::drive::Driven::new(self.operation, fut))
            } else {
                fut
            };
            self.in_flight.push_back(fut);
            self.next_page += 1;
        }
    }

    fn poll_page(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Vec<T>, Error>>> {
        if self.finished {
            return Poll::Ready(None);
        }
        if let Some(e) = self.deferred.take() {
            return Poll::Ready(Some(Err(self.end_with(e))));
        }
        self.issue();
        if let Some(e) = self.deferred.take() {
            return Poll::Ready(Some(Err(self.end_with(e))));
        }
        if self.in_flight.is_empty() {
            self.finished = true;
            if let Some(expected) = self.expected().filter(|e| self.seen < *e) {
                let reason = format!(
                    "the pages ended {} items short of totalCount (pageSize {} asked; does the server cap it lower?)",
                    expected - self.seen,
                    self.page_size
                );
                return Poll::Ready(Some(Err(self.incomplete(reason))));
            }
            return Poll::Ready(None);
        }
        let page = match self.in_flight.poll_next_unpin(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Err(e))) => {
                self.finished = true;
                self.stop_issuing = true;
                self.in_flight = FuturesOrdered::new();
                return Poll::Ready(Some(Err(e)));
            }
            Poll::Ready(Some(Ok(page))) => page,
        };
        let n = page.items.len() as i64;
        self.pages += 1;
        if n > 0 && self.last_fingerprint == Some(page.fingerprint) {
            let reason = format!(
                "page {} repeats the items of the page before (the server ignores the page number?)",
                page.number
            );
            return Poll::Ready(Some(Err(self.incomplete(reason))));
        }
        self.last_fingerprint = Some(page.fingerprint);
        self.seen += n;
        let total = page.total.filter(|t| *t >= 0);
        if let Some(t) = total {
            if self.latest_total.is_some_and(|l| l != t) {
                self.total_changed = true;
            }
            self.latest_total = Some(t);
            if self.total.is_none() {
                self.total = Some(t);
            }
            // The last page follows a growing total (records added during the walk push the
            // ones not yet fetched down); it never moves back (what was asked for is fetched).
            let last = (pages_for(t, self.page_size) as i64).max(self.first_page);
            if self.last_page.is_none_or(|l| last > l) {
                self.last_page = Some(last);
                if self.stop_issuing && n == self.page_size && !self.finished {
                    self.stop_issuing = false;
                }
            }
        }
        let ends_here =
            n == 0 || n < self.page_size || self.expected().is_some_and(|e| self.seen >= e);
        if ends_here {
            self.stop_issuing = true;
        } else if total.is_none() {
            // Every list operation documents `totalCount`; a full page without it gives no
            // bound, so the walk ends here rather than ask for pages without end.
            let reason = format!(
                "page {} is full but its reply has no totalCount, which this operation documents; \
                 stopped rather than ask for pages without end",
                page.number
            );
            let e = self.incomplete(reason);
            self.finished = false;
            self.deferred = Some(e);
        } else if !self.max_pages_set {
            let needed = self
                .last_page
                .map(|l| (l - self.first_page + 1).max(0) as u64)
                .unwrap_or(0);
            if needed > self.max_pages {
                let reason = format!(
                    "totalCount {} needs {needed} pages, more than the default cap of {} pages; \
                     raise it (--max-pages {needed} / max_pages({needed})) to fetch them all",
                    self.latest_total.unwrap_or(0),
                    self.max_pages
                );
                let e = self.page_limit(reason);
                self.in_flight = FuturesOrdered::new();
                self.deferred = Some(e);
            }
        }
        Poll::Ready(Some(Ok(page.items)))
    }
}

/// All items of a paginated operation; a [`Stream`] of `Result<T, Error>`.
///
/// `T` is the operation's item type for a typed walk ([`Client::paginate`]; for
/// `SearchFormDatasV2Request`, a `PageStream<forms::SearchFormDatasData>`) and
/// [`serde_json::Value`] for a walk of a dynamic call ([`Client::paginate_json`]: each page's
/// `data` items). Both are the same walk, with the same ending rules and options.
///
/// By default one page is fetched at a time (memory holds one page). With
/// [`concurrency`](Self::concurrency) above 1, once the first page has told `totalCount`, the
/// remaining pages are fetched up to that many at once, paced by the client's limiter (see
/// [`ClientBuilder::pacing`](crate::ClientBuilder::pacing)); items still come in page order and
/// memory holds at most that many pages.
///
/// The walk ends at an empty or short page or once `totalCount` items arrived; `pageSize` is
/// never above 100; a repeated page, or a walk ending short of `totalCount`, ends with
/// [`Error::IncompleteWalk`] instead of a silent end; past [`max_pages`](Self::max_pages) it
/// ends with [`Error::PageLimit`]. An error ends the stream. Items come one at a time
/// ([`next`](Self::next), or as a [`Stream`]) or a page at a time
/// ([`next_items`](Self::next_items)).
///
/// ```no_run
/// use futures_util::TryStreamExt;
/// use yida_api::{Client, SearchFormDatasV2Request};
/// # async fn run(client: Client) -> Result<(), yida_api::Error> {
/// // One at a time:
/// let mut all = client.paginate(SearchFormDatasV2Request::new("FORM-XXXX"));
/// while let Some(record) = all.next().await {
///     println!("{:?}", record?.form_instance_id);
/// }
/// // Or collected, 8 pages at a time:
/// let records: Vec<_> = client
///     .paginate(SearchFormDatasV2Request::new("FORM-XXXX"))
///     .concurrency(8)
///     .try_collect()
///     .await?;
/// # let _ = records; Ok(()) }
/// ```
///
/// # When not to walk concurrently
/// Concurrent pages are only correct when the pages are a stable partition of the records for
/// the length of the walk. Without `totalCount` in the first reply the walk stays sequential by
/// itself. It cannot see the data, though: when records are created, deleted or modified while
/// the walk runs and the order is by time (the default `modifiedTime` order of searches, or an
/// explicit time order), records shift between pages that are fetched at different moments and
/// can be missed or seen twice. Keep `concurrency(1)` there (sequential walks shift less, but
/// are not immune), or order by a field that does not change.
pub struct PageStream<T> {
    walk: Walk<T>,
    buffer: VecDeque<T>,
}

// Nothing inside is structurally pinned (futures are boxed, items are plain values).
impl<T> Unpin for PageStream<T> {}

impl<T> fmt::Debug for PageStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageStream")
            .field("walk", &self.walk)
            .field("buffered", &self.buffer.len())
            .finish()
    }
}

impl Client {
    /// Streams every item of a paginated request, starting at its page (or page 1).
    pub fn paginate<R: Paginated>(&self, request: R) -> PageStream<R::Item> {
        let (page, size) = (request.page(), request.page_size());
        let fetch: Fetch<R::Item> = Box::new(move |client, number, page_size| {
            let mut req = request.clone();
            req.set_page(number);
            req.set_page_size(page_size);
            let client = client.clone();
            Box::pin(async move {
                let reply = client.send(req).await?;
                let (items, total) = R::split_page(reply);
                Ok(Page::new(number, items, total))
            })
        });
        PageStream::new(Walk::new(R::META.id, self.clone(), page, size, fetch))
    }

    /// Walks the pages of a paginated operation called by its descriptor (parameters as one
    /// JSON object by wire name, as `yida call --all` does; each page is a [`Client::call`]):
    /// the same walk as [`paginate`](Self::paginate), each page's `data` items as JSON.
    ///
    /// Fails before any call when `meta` is not a paginated operation or `input` is not a JSON
    /// object.
    pub fn paginate_json(
        &self,
        meta: &'static OperationMeta,
        input: serde_json::Value,
    ) -> Result<PageStream<serde_json::Value>, Error> {
        let Some(style) = meta.pagination else {
            return Err(Error::InvalidInput {
                operation: meta.id,
                message: "is not a paginated operation".into(),
            });
        };
        let page_key = style.page_param();
        let serde_json::Value::Object(input) = input else {
            return Err(Error::InvalidInput {
                operation: meta.id,
                message: "parameters must be one JSON object".into(),
            });
        };
        let number = |key: &str| input.get(key).and_then(serde_json::Value::as_i64);
        let (page, size) = (number(page_key), number("pageSize"));
        let fetch: Fetch<serde_json::Value> = Box::new(move |client, number, page_size| {
            let mut input = input.clone();
            input.insert(page_key.into(), number.into());
            input.insert("pageSize".into(), page_size.into());
            let client = client.clone();
            Box::pin(async move {
                let raw = client.call(meta, serde_json::Value::Object(input)).await?;
                let (items, total) = split_json_page(meta, raw.as_deref())?;
                Ok(Page::new(number, items, total))
            })
        });
        Ok(PageStream::new(Walk::new(
            meta.id,
            self.clone(),
            page,
            size,
            fetch,
        )))
    }
}

/// A dynamic list reply's `data` items and `totalCount` (no reply: no items).
fn split_json_page(
    meta: &OperationMeta,
    raw: Option<&serde_json::value::RawValue>,
) -> Result<(Vec<serde_json::Value>, Option<i64>), Error> {
    let Some(raw) = raw else {
        return Ok((Vec::new(), None));
    };
    let reply: serde_json::Value =
        serde_json::from_str(raw.get()).map_err(|source| Error::Decode {
            operation: meta.id,
            status: 200,
            request_id: None,
            source,
        })?;
    let total = reply.get("totalCount").and_then(serde_json::Value::as_i64);
    let items = match reply {
        serde_json::Value::Object(mut m) => match m.remove("data") {
            Some(serde_json::Value::Array(items)) => items,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    Ok((items, total))
}

impl<T: Send + 'static> PageStream<T> {
    fn new(walk: Walk<T>) -> Self {
        PageStream {
            walk,
            buffer: VecDeque::new(),
        }
    }

    /// Fetch up to `n` pages at once once `totalCount` is known (default 1: one page at a
    /// time). Above 1 the calls are paced by the client's limiter. Set it before the first item
    /// is asked for.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.walk.set_concurrency(n);
        self
    }

    /// Ask for at most `n` pages (at least 1; default [`DEFAULT_MAX_PAGES`]). A walk that
    /// would need more ends with [`Error::PageLimit`] after the items of its `n` pages.
    pub fn max_pages(mut self, n: u64) -> Self {
        self.walk.set_max_pages(n);
        self
    }

    /// The next item, `None` after the last one. An error ends the stream.
    pub async fn next(&mut self) -> Option<Result<T, Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The next page's items (or what is left of a page partly taken item by item), `None`
    /// after the last page. An error ends the walk.
    pub async fn next_items(&mut self) -> Option<Result<Vec<T>, Error>> {
        if !self.buffer.is_empty() {
            return Some(Ok(self.buffer.drain(..).collect()));
        }
        std::future::poll_fn(|cx| self.walk.poll_page(cx)).await
    }

    /// Whether `totalCount` changed between pages (records were added or removed during the
    /// walk: items may have been seen twice or missed).
    pub fn total_changed(&self) -> bool {
        self.walk.total_changed
    }

    /// `totalCount` from the first page that told it.
    pub fn total_count(&self) -> Option<i64> {
        self.walk.total
    }

    /// `totalCount` of the latest page that told it.
    pub fn latest_total_count(&self) -> Option<i64> {
        self.walk.latest_total
    }

    /// Items received so far (handed out or buffered).
    pub fn fetched(&self) -> i64 {
        self.walk.seen
    }

    /// Pages received so far.
    pub fn pages(&self) -> i64 {
        self.walk.pages
    }

    /// The next page number to be requested.
    pub fn next_page(&self) -> i64 {
        self.walk.next_page
    }
}

impl<T: Send + 'static> Stream for PageStream<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(item) = this.buffer.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            match this.walk.poll_page(cx) {
                Poll::Ready(Some(Ok(items))) => this.buffer.extend(items),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}
