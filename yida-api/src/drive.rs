//! Runs the calls of concurrent walks and bulk writes as their own tasks, so that they leave
//! when the limiter lets them, not when their owner next gets around to polling them (a caller
//! busy with the items of the page before, or with the outcomes of the chunk before).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::Error;

/// A call future driven by a tokio task when a runtime is running (inline otherwise). Dropping
/// it aborts the task, as dropping the future itself would.
pub(crate) enum Driven<T: Send + 'static> {
    Spawned {
        handle: tokio::task::JoinHandle<Result<T, Error>>,
        operation: crate::OpId,
    },
    Inline(Pin<Box<dyn Future<Output = Result<T, Error>> + Send>>),
}

impl<T: Send + 'static> Driven<T> {
    pub(crate) fn new(
        operation: crate::OpId,
        fut: Pin<Box<dyn Future<Output = Result<T, Error>> + Send>>,
    ) -> Self {
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => Driven::Spawned {
                handle: rt.spawn(fut),
                operation,
            },
            Err(_) => Driven::Inline(fut),
        }
    }
}

impl<T: Send + 'static> Drop for Driven<T> {
    fn drop(&mut self) {
        if let Driven::Spawned { handle, .. } = self {
            handle.abort();
        }
    }
}

impl<T: Send + 'static> Future for Driven<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Driven::Inline(f) => f.as_mut().poll(cx),
            Driven::Spawned { handle, operation } => match Pin::new(handle).poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Ok(r)) => Poll::Ready(r),
                Poll::Ready(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                // Cancelled by the runtime shutting down: the call may have gone out, so it is
                // reported the way an interrupted call is (possibly applied).
                Poll::Ready(Err(_)) => Poll::Ready(Err(Error::Timeout {
                    operation: *operation,
                    elapsed: Duration::ZERO,
                    source: None,
                })),
            },
        }
    }
}
