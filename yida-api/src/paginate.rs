//! Walking every page of a list operation.

use crate::meta::{OperationMeta, PageStyle, Paginated};
use crate::{Client, Error};
use std::collections::VecDeque;

/// All items of a paginated operation, fetched one page at a time (memory holds one page).
///
/// Pages are requested with `pageSize` 100 unless the request sets its own; the walk stops at
/// `totalCount`, at a short page, or at an empty one.
///
/// ```no_run
/// use yida_api::{Client, SearchFormDatasV2Request};
/// # async fn run(client: Client) -> Result<(), yida_api::Error> {
/// let mut all = client.paginate(SearchFormDatasV2Request::new("FORM-XXXX"));
/// while let Some(record) = all.next().await {
///     let record = record?;
///     println!("{:?}", record.form_instance_id);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct PageStream<R: Paginated> {
    client: Client,
    request: R,
    buffer: VecDeque<R::Item>,
    cursor: Cursor,
}

/// Where a walk over pages stands; the one place that decides when the walk is over.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    next_page: i64,
    page_size: i64,
    seen: i64,
    total: Option<i64>,
    done: bool,
}

impl Cursor {
    /// Starts at `page` (or 1) with `page_size` (or 100).
    fn new(page: Option<i64>, page_size: Option<i64>) -> Self {
        Cursor {
            next_page: page.filter(|p| *p > 0).unwrap_or(1),
            page_size: page_size.filter(|s| *s > 0).unwrap_or(100),
            seen: 0,
            total: None,
            done: false,
        }
    }

    /// Records a page of `n` items; the walk ends at an empty or short page or at `totalCount`.
    fn record(&mut self, n: i64, total: Option<i64>) {
        self.seen += n;
        if total.is_some() {
            self.total = total;
        }
        self.next_page += 1;
        if n == 0 || n < self.page_size || self.total.is_some_and(|t| self.seen >= t) {
            self.done = true;
        }
    }
}

impl Client {
    /// Streams every item of a paginated request, starting at its page (or page 1).
    pub fn paginate<R: Paginated>(&self, request: R) -> PageStream<R> {
        let cursor = Cursor::new(request.page(), request.page_size());
        PageStream {
            client: self.clone(),
            request,
            buffer: VecDeque::new(),
            cursor,
        }
    }

    /// Walks the pages of a paginated operation called dynamically (parameters as one JSON
    /// object by wire name, as `yida call --all` does), one page of JSON items at a time.
    pub fn paginate_json(
        &self,
        action: &str,
        version: &str,
        input: serde_json::Value,
    ) -> Result<JsonPageStream, Error> {
        let meta = crate::operations()
            .into_iter()
            .find(|o| o.action == action && o.version == version)
            .ok_or_else(|| Error::UnknownOperation {
                action: action.to_string(),
                version: version.to_string(),
            })?;
        let page_key = match meta.pagination {
            Some(PageStyle::PageNumber) => "pageNumber",
            Some(PageStyle::CurrentPage) => "currentPage",
            None => {
                return Err(Error::InvalidInput {
                    operation: meta.id(),
                    message: "is not a paginated operation".into(),
                })
            }
        };
        let serde_json::Value::Object(input) = input else {
            return Err(Error::InvalidInput {
                operation: meta.id(),
                message: "parameters must be one JSON object".into(),
            });
        };
        let number = |key: &str| input.get(key).and_then(serde_json::Value::as_i64);
        let cursor = Cursor::new(number(page_key), number("pageSize"));
        Ok(JsonPageStream {
            client: self.clone(),
            meta,
            page_key,
            input,
            cursor,
        })
    }
}

impl<R: Paginated> PageStream<R> {
    /// The next item, `None` after the last one. An error ends the stream.
    pub async fn next(&mut self) -> Option<Result<R::Item, Error>> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                return Some(Ok(item));
            }
            if self.cursor.done {
                return None;
            }
            let mut req = self.request.clone();
            req.set_page(self.cursor.next_page);
            req.set_page_size(self.cursor.page_size);
            let reply = match self.client.send(req).await {
                Ok(r) => r,
                Err(e) => {
                    self.cursor.done = true;
                    return Some(Err(e));
                }
            };
            let (items, total) = R::split_page(reply);
            self.cursor.record(items.len() as i64, total);
            self.buffer.extend(items);
        }
    }

    /// `totalCount` from the last page received.
    pub fn total_count(&self) -> Option<i64> {
        self.cursor.total
    }

    /// Items handed out or buffered so far.
    pub fn fetched(&self) -> i64 {
        self.cursor.seen
    }

    /// The next page number to be requested.
    pub fn next_page(&self) -> i64 {
        self.cursor.next_page
    }
}

/// The pages of a dynamically called list operation (see [`Client::paginate_json`]): each page's
/// `data` items as JSON, same walk and stopping rules as [`PageStream`].
#[derive(Debug)]
pub struct JsonPageStream {
    client: Client,
    meta: &'static OperationMeta,
    page_key: &'static str,
    input: serde_json::Map<String, serde_json::Value>,
    cursor: Cursor,
}

impl JsonPageStream {
    /// The next page's items, `None` after the last page. An error ends the walk.
    pub async fn next_items(&mut self) -> Option<Result<Vec<serde_json::Value>, Error>> {
        if self.cursor.done {
            return None;
        }
        let mut input = self.input.clone();
        input.insert(self.page_key.into(), self.cursor.next_page.into());
        input.insert("pageSize".into(), self.cursor.page_size.into());
        let reply = match self
            .client
            .call_dynamic(
                self.meta.action,
                self.meta.version,
                serde_json::Value::Object(input),
            )
            .await
        {
            Ok(r) => r.unwrap_or_default(),
            Err(e) => {
                self.cursor.done = true;
                return Some(Err(e));
            }
        };
        let total = reply.get("totalCount").and_then(serde_json::Value::as_i64);
        let items = match reply.get("data") {
            Some(serde_json::Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        };
        self.cursor.record(items.len() as i64, total);
        Some(Ok(items))
    }

    /// `totalCount` from the last page received.
    pub fn total_count(&self) -> Option<i64> {
        self.cursor.total
    }

    /// Items received so far.
    pub fn fetched(&self) -> i64 {
        self.cursor.seen
    }

    /// Pages received so far.
    pub fn pages(&self) -> i64 {
        self.cursor.next_page - 1
    }
}
