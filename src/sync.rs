//! Lock and wait helpers that survive a poisoned mutex. Poison only means another thread
//! panicked mid-update; the data here (a frame pointer, counters, a queue) stays usable, and one
//! panicking client must not take the server down.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn wait<'a, T>(cv: &Condvar, g: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    cv.wait(g).unwrap_or_else(|e| e.into_inner())
}

pub fn wait_timeout<'a, T>(cv: &Condvar, g: MutexGuard<'a, T>, d: Duration) -> MutexGuard<'a, T> {
    cv.wait_timeout(g, d).unwrap_or_else(|e| e.into_inner()).0
}
