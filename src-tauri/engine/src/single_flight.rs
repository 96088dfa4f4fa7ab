//! One refresh per refresh token at a time: concurrent callers share the first caller's
//! request and its result, like the identity caches of the AWS SDK and auth-js's
//! `refreshingDeferred`. A caller arriving after the flight landed starts a new one.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

pub(crate) struct SingleFlight<T: Clone> {
    flights: Mutex<HashMap<String, Arc<OnceCell<T>>>>,
}

impl<T: Clone> Default for SingleFlight<T> {
    fn default() -> Self {
        SingleFlight {
            flights: Mutex::default(),
        }
    }
}

impl<T: Clone> SingleFlight<T> {
    /// Runs `work` unless a flight for `key` is under way; either way returns its result and
    /// whether this caller joined someone else's flight.
    pub async fn run<F: Future<Output = T>>(&self, key: &str, work: F) -> (T, bool) {
        let (cell, leader) = {
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            match flights.get(key) {
                Some(cell) => (cell.clone(), false),
                None => {
                    let cell = Arc::new(OnceCell::new());
                    flights.insert(key.to_string(), cell.clone());
                    (cell, true)
                }
            }
        };
        // If the leader is cancelled mid-flight, OnceCell lets a waiter's `work` run instead.
        let mut ran = false;
        let result = cell
            .get_or_init(|| async {
                ran = true;
                work.await
            })
            .await
            .clone();
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if flights
            .get(key)
            .is_some_and(|current| Arc::ptr_eq(current, &cell))
        {
            flights.remove(key);
        }
        (result, !(leader || ran))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn concurrent_callers_share_one_run() {
        let flights = Arc::new(SingleFlight::<u32>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let (flights, runs) = (flights.clone(), runs.clone());
            tasks.spawn(async move {
                flights
                    .run("k", async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        7
                    })
                    .await
            });
        }
        let results = tasks.join_all().await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(results.iter().all(|(v, _)| *v == 7));
        assert_eq!(results.iter().filter(|(_, joined)| *joined).count(), 49);
    }

    #[tokio::test]
    async fn a_later_caller_starts_a_new_flight() {
        let flights = SingleFlight::<u32>::default();
        assert_eq!(flights.run("k", async { 1 }).await, (1, false));
        assert_eq!(flights.run("k", async { 2 }).await, (2, false));
    }
}
