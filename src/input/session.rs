//! Control sessions: who is controlling the desktop, what each viewer holds down, and when a
//! session ends. Pure bookkeeping with the time passed in, so the rules are unit-tested here;
//! `controller.rs` acts on what it returns.
//!
//! A held key or button is a lease: it lasts [`LEASE`] after the holder's last message (any
//! event, or a heartbeat the page sends while something is held). A page that closes, crashes or
//! loses the network stops renewing, and what it held is released; a live page holds as long as
//! its user does. Two viewers holding the same key share it: X sees it released when the last
//! one lets go.

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::Held;

/// How long a held key or button outlives its holder's last message. The page renews every
/// 500 ms while something is held, so a dead page's keys are up within this plus one watchdog
/// wake-up, under the 3 s promised, and a live page on a slow link has four chances per lease.
pub const LEASE: Duration = Duration::from_secs(2);
/// A session holding nothing ends after this long without a message (for the audit log).
pub const IDLE_END: Duration = Duration::from_secs(60);
/// Sessions at once; a new viewer beyond this is refused until one ends. Each page load is one
/// session, so this bounds memory against a client inventing page ids.
pub const MAX_SESSIONS: usize = 64;

/// Who sends control events: the client address, the user name (with `--auth`) and the page's
/// own session id (absent for scripts, which then share one session per address and user).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Viewer {
    pub addr: IpAddr,
    pub user: Option<String>,
    pub page: Option<String>,
}

impl fmt::Display for Viewer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "viewer {}", self.addr)?;
        if let Some(user) = &self.user {
            write!(f, " user {user:?}")?;
        }
        if let Some(page) = &self.page {
            // Enough to tell two tabs apart in the log.
            let short: String = page.chars().take(6).collect();
            write!(f, " page {short}")?;
        }
        Ok(())
    }
}

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The page said it was going (closed, reloaded, navigated away).
    Left,
    /// Nothing held and no message for [`IDLE_END`].
    Idle,
    /// It held something and stopped renewing it: the page crashed or lost the network.
    Vanished,
    /// deskcam is stopping.
    Stopping,
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::Left => f.write_str("the page was closed"),
            Ending::Idle => write!(f, "no events for {} s", IDLE_END.as_secs()),
            Ending::Vanished => f.write_str("its page stopped answering"),
            Ending::Stopping => f.write_str("deskcam is stopping"),
        }
    }
}

/// A session that ended, for its audit line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ended {
    pub viewer: Viewer,
    pub events: u64,
    pub duration: Duration,
    pub why: Ending,
    /// Keys and buttons it still held.
    pub held: usize,
}

/// Refused: [`MAX_SESSIONS`] viewers are controlling already.
#[derive(Debug, PartialEq, Eq)]
pub struct Full;

struct Session {
    viewer: Viewer,
    started: Instant,
    renewed: Instant,
    events: u64,
    holds: Vec<Held>,
}

impl Session {
    fn deadline(&self) -> Instant {
        self.renewed
            + if self.holds.is_empty() {
                IDLE_END
            } else {
                LEASE
            }
    }
}

/// Every live session.
#[derive(Default)]
pub struct Sessions {
    list: Vec<Session>,
}

impl Sessions {
    fn find(&mut self, viewer: &Viewer) -> Option<&mut Session> {
        self.list.iter_mut().find(|s| s.viewer == *viewer)
    }

    /// True when some viewer holds `item` down.
    pub fn held_by_anyone(&self, item: Held) -> bool {
        self.list.iter().any(|s| s.holds.contains(&item))
    }

    /// An event to inject: renews the viewer's session, starting one if it has none. `Ok(true)`
    /// when it started now.
    pub fn begin(&mut self, viewer: &Viewer, now: Instant) -> Result<bool, Full> {
        if let Some(s) = self.find(viewer) {
            s.renewed = now;
            return Ok(false);
        }
        if self.list.len() >= MAX_SESSIONS {
            return Err(Full);
        }
        self.list.push(Session {
            viewer: viewer.clone(),
            started: now,
            renewed: now,
            events: 0,
            holds: Vec::new(),
        });
        Ok(true)
    }

    /// A heartbeat: renews the viewer's session, if it has one.
    pub fn renew(&mut self, viewer: &Viewer, now: Instant) {
        if let Some(s) = self.find(viewer) {
            s.renewed = now;
        }
    }

    /// One more event injected for `viewer`.
    pub fn count(&mut self, viewer: &Viewer) {
        if let Some(s) = self.find(viewer) {
            s.events += 1;
        }
    }

    /// `viewer` holds `item` from now on; true when nobody held it before (press it).
    pub fn hold(&mut self, viewer: &Viewer, item: Held) -> bool {
        let first = !self.held_by_anyone(item);
        if let Some(s) = self.find(viewer)
            && !s.holds.contains(&item)
        {
            s.holds.push(item);
        }
        first
    }

    /// `viewer` lets go of `item`; true when nobody holds it any more (release it). A viewer
    /// that did not hold it (a script sending `up` alone) releases it only if nobody else does.
    pub fn let_go(&mut self, viewer: &Viewer, item: Held) -> bool {
        if let Some(s) = self.find(viewer) {
            s.holds.retain(|&h| h != item);
        }
        !self.held_by_anyone(item)
    }

    /// Removes session `i`; returns what X must release (what nobody else holds) and its line.
    fn remove(&mut self, i: usize, why: Ending, now: Instant) -> (Vec<Held>, Ended) {
        let s = self.list.remove(i);
        let release = s
            .holds
            .iter()
            .copied()
            .filter(|&h| !self.held_by_anyone(h))
            .collect();
        let until = match why {
            Ending::Left | Ending::Stopping => now,
            Ending::Idle | Ending::Vanished => s.renewed,
        };
        let ended = Ended {
            viewer: s.viewer,
            events: s.events,
            duration: until.saturating_duration_since(s.started),
            why,
            held: s.holds.len(),
        };
        (release, ended)
    }

    /// Ends `viewer`'s session, if any.
    pub fn end(
        &mut self,
        viewer: &Viewer,
        why: Ending,
        now: Instant,
    ) -> (Vec<Held>, Option<Ended>) {
        match self.list.iter().position(|s| s.viewer == *viewer) {
            Some(i) => {
                let (release, ended) = self.remove(i, why, now);
                (release, Some(ended))
            }
            None => (Vec::new(), None),
        }
    }

    /// Ends every session whose lease or idle time ran out by `now`.
    pub fn expire(&mut self, now: Instant) -> (Vec<Held>, Vec<Ended>) {
        self.end_where(
            now,
            |s| s.deadline() <= now,
            |s| {
                if s.holds.is_empty() {
                    Ending::Idle
                } else {
                    Ending::Vanished
                }
            },
        )
    }

    /// Ends every session (deskcam is stopping).
    pub fn end_all(&mut self, now: Instant) -> (Vec<Held>, Vec<Ended>) {
        self.end_where(now, |_| true, |_| Ending::Stopping)
    }

    fn end_where(
        &mut self,
        now: Instant,
        due: impl Fn(&Session) -> bool,
        why: impl Fn(&Session) -> Ending,
    ) -> (Vec<Held>, Vec<Ended>) {
        let (mut release, mut ended) = (Vec::new(), Vec::new());
        while let Some(i) = self.list.iter().position(&due) {
            let reason = why(&self.list[i]);
            let (r, e) = self.remove(i, reason, now);
            release.extend(r);
            ended.push(e);
        }
        (release, ended)
    }

    /// When the next session is due to expire.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.list.iter().map(Session::deadline).min()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(page: &str) -> Viewer {
        Viewer {
            addr: IpAddr::from([192, 168, 1, 5]),
            user: Some("me".into()),
            page: Some(page.into()),
        }
    }
    const SHIFT: Held = Held::Key(50);
    const LEFT: Held = Held::Button(1);
    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_lease_lasts_while_renewed_and_ends_when_not() {
        let t = Instant::now();
        let mut s = Sessions::default();
        let a = viewer("aaaaaaaa");
        assert_eq!(s.begin(&a, t), Ok(true));
        assert!(s.hold(&a, SHIFT), "first holder presses");
        s.count(&a);
        // Renewed every 500 ms for ten seconds: never due.
        for i in 1..=20 {
            let now = t + ms(500 * i);
            s.renew(&a, now);
            assert_eq!(s.expire(now), (vec![], vec![]));
        }
        let last = t + ms(10_000);
        assert_eq!(s.next_deadline(), Some(last + LEASE));
        // The page dies: released one lease after its last message, and the session ends.
        assert_eq!(s.expire(last + LEASE - ms(1)), (vec![], vec![]));
        let (release, ended) = s.expire(last + LEASE);
        assert_eq!(release, vec![SHIFT]);
        assert_eq!(
            ended,
            vec![Ended {
                viewer: a,
                events: 1,
                duration: ms(10_000),
                why: Ending::Vanished,
                held: 1
            }]
        );
        assert!(s.is_empty());
    }

    #[test]
    fn idle_sessions_end_and_left_ones_release_at_once() {
        let t = Instant::now();
        let mut s = Sessions::default();
        let a = viewer("aaaaaaaa");
        s.begin(&a, t).unwrap();
        s.count(&a);
        s.count(&a);
        assert_eq!(s.next_deadline(), Some(t + IDLE_END));
        let (release, ended) = s.expire(t + IDLE_END);
        assert!(release.is_empty());
        assert_eq!(ended[0].why, Ending::Idle);
        assert_eq!((ended[0].events, ended[0].duration), (2, Duration::ZERO));
        // Leaving releases what is held, now.
        s.begin(&a, t).unwrap();
        s.hold(&a, LEFT);
        let (release, ended) = s.end(&a, Ending::Left, t + ms(700));
        assert_eq!(release, vec![LEFT]);
        let ended = ended.unwrap();
        assert_eq!(
            (ended.why, ended.duration, ended.held),
            (Ending::Left, ms(700), 1)
        );
        assert_eq!(s.end(&a, Ending::Left, t), (vec![], None));
        // A heartbeat without a session starts none.
        s.renew(&a, t);
        assert!(s.is_empty());
    }

    #[test]
    fn a_key_two_viewers_hold_is_released_by_the_last() {
        let t = Instant::now();
        let mut s = Sessions::default();
        let (a, b) = (viewer("aaaaaaaa"), viewer("bbbbbbbb"));
        s.begin(&a, t).unwrap();
        s.begin(&b, t).unwrap();
        assert!(s.hold(&a, SHIFT));
        assert!(!s.hold(&b, SHIFT), "already down");
        assert!(!s.let_go(&a, SHIFT), "b still holds it");
        assert!(s.let_go(&b, SHIFT));
        // b's page dies while both hold: a's hold keeps the key down.
        s.hold(&a, SHIFT);
        s.hold(&b, SHIFT);
        s.renew(&a, t + ms(1900));
        let (release, ended) = s.expire(t + LEASE);
        assert_eq!(release, vec![]);
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].viewer, b);
        // A script's `up` alone releases a key nobody holds.
        let script = Viewer {
            page: None,
            ..viewer("")
        };
        s.begin(&script, t).unwrap();
        assert!(s.let_go(&script, LEFT));
        assert!(!s.let_go(&script, SHIFT), "a holds it");
    }

    #[test]
    fn sessions_are_bounded_and_all_end_at_stop() {
        let t = Instant::now();
        let mut s = Sessions::default();
        for i in 0..MAX_SESSIONS {
            assert_eq!(s.begin(&viewer(&format!("{i:08}")), t), Ok(true));
        }
        assert_eq!(s.begin(&viewer("one-more"), t), Err(Full));
        assert_eq!(
            s.begin(&viewer("00000003"), t),
            Ok(false),
            "known ones go on"
        );
        s.hold(&viewer("00000003"), LEFT);
        let (release, ended) = s.end_all(t + ms(5));
        assert_eq!(release, vec![LEFT]);
        assert_eq!(ended.len(), MAX_SESSIONS);
        assert!(ended.iter().all(|e| e.why == Ending::Stopping));
        assert!(s.is_empty());
    }

    #[test]
    fn log_names_address_user_and_page() {
        let v = viewer("3fa2c19d0b");
        assert_eq!(v.to_string(), "viewer 192.168.1.5 user \"me\" page 3fa2c1");
        let anonymous = Viewer {
            addr: IpAddr::from([127, 0, 0, 1]),
            user: None,
            page: None,
        };
        assert_eq!(anonymous.to_string(), "viewer 127.0.0.1");
    }
}
