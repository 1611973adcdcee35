//! deskcam patch: a cap on connections that have not sent a complete request (its head, and
//! its body if it has one), oldest dropped first. Each holds a thread and a descriptor; without a cap, 500 clients sending a
//! header byte now and then held 508 threads and 1006 descriptors. A real client sends its
//! head in one packet and leaves this state within milliseconds, so the connections that pile
//! up here and get dropped are idle or deliberately slow ones.

use std::collections::BTreeMap;
use std::net::Shutdown;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::connection::Connection;

pub(crate) struct Pending {
    cap: usize,
    waiting: Mutex<BTreeMap<u64, Arc<Connection>>>,
    next: AtomicU64,
}

/// A connection's place in the registry, given up on drop.
pub(crate) struct Ticket {
    pending: Arc<Pending>,
    id: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        lock(&self.pending.waiting).remove(&self.id);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Pending {
    pub fn new(cap: usize) -> Pending {
        Pending {
            cap: cap.max(1),
            waiting: Mutex::new(BTreeMap::new()),
            next: AtomicU64::new(0),
        }
    }

    /// Registers `conn` as waiting for a request head; when the registry is full, the
    /// connection that has waited longest is shut down (its reader sees EOF and ends).
    pub fn enter(self: &Arc<Self>, conn: &Arc<Connection>) -> Ticket {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let mut waiting = lock(&self.waiting);
        while waiting.len() >= self.cap {
            if let Some((_, oldest)) = waiting.pop_first() {
                log::debug!(
                    "{} connections wait for a request: closed the one that waited longest",
                    self.cap
                );
                let _ = oldest.shutdown(Shutdown::Both);
            }
        }
        waiting.insert(id, conn.clone());
        Ticket {
            pending: self.clone(),
            id,
        }
    }

    /// Shuts down the connection that has waited longest, if any (to free a descriptor).
    pub fn drop_oldest(&self) -> bool {
        match lock(&self.waiting).pop_first() {
            Some((_, oldest)) => {
                let _ = oldest.shutdown(Shutdown::Both);
                true
            }
            None => false,
        }
    }
}
