//! Walking every page of a list operation.

use crate::meta::Paginated;
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
    next_page: i64,
    page_size: i64,
    seen: i64,
    total: Option<i64>,
    done: bool,
}

impl Client {
    /// Streams every item of a paginated request, starting at its page (or page 1).
    pub fn paginate<R: Paginated>(&self, request: R) -> PageStream<R> {
        let page_size = request.page_size().filter(|s| *s > 0).unwrap_or(100);
        let next_page = request.page().filter(|p| *p > 0).unwrap_or(1);
        PageStream {
            client: self.clone(),
            request,
            buffer: VecDeque::new(),
            next_page,
            page_size,
            seen: 0,
            total: None,
            done: false,
        }
    }
}

impl<R: Paginated> PageStream<R> {
    /// The next item, `None` after the last one. An error ends the stream.
    pub async fn next(&mut self) -> Option<Result<R::Item, Error>> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                return Some(Ok(item));
            }
            if self.done {
                return None;
            }
            let mut req = self.request.clone();
            req.set_page(self.next_page);
            req.set_page_size(self.page_size);
            let reply = match self.client.send(req).await {
                Ok(r) => r,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            let (items, total) = R::split_page(reply);
            let n = items.len() as i64;
            self.seen += n;
            if total.is_some() {
                self.total = total;
            }
            self.next_page += 1;
            if n == 0 || n < self.page_size || self.total.is_some_and(|t| self.seen >= t) {
                self.done = true;
            }
            self.buffer.extend(items);
        }
    }

    /// `totalCount` from the last page received.
    pub fn total_count(&self) -> Option<i64> {
        self.total
    }

    /// Items handed out or buffered so far.
    pub fn fetched(&self) -> i64 {
        self.seen
    }

    /// The next page number to be requested.
    pub fn next_page(&self) -> i64 {
        self.next_page
    }
}
