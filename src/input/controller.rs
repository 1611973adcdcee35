//! The controller in front of the injector: it keeps each viewer's control session, so keys and
//! buttons a viewer holds are released when its page goes away (a watchdog thread ends sessions
//! whose lease ran out), and writes the audit log: one line when a viewer starts controlling and
//! one when it stops, never what was typed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use super::session::{Ended, Ending, Sessions, Viewer};
use super::{Event, Held, InjectError, Injector, Key, Press};
use crate::geometry::Region;
use crate::sync::{lock, wait, wait_timeout};

/// What one control request asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// An event for the desktop.
    Inject(Event),
    /// "Still here": renews what the viewer holds (the page sends it while a key or button is
    /// down and nothing else is happening).
    Heartbeat,
    /// The page is going: release what it holds and end its session now.
    Leave,
}

/// Why a request could not be carried out; both are 503 at the HTTP side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlError {
    Inject(InjectError),
    /// [`super::session::MAX_SESSIONS`] viewers are controlling already.
    TooManyViewers,
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ControlError::Inject(e) => write!(f, "{e}"),
            ControlError::TooManyViewers => write!(
                f,
                "{} viewers are controlling already; try again when one stops",
                super::session::MAX_SESSIONS
            ),
        }
    }
}

impl std::error::Error for ControlError {}

struct Shared {
    injector: Injector,
    /// Serialises deciding what to press or release with doing it, for viewers and the
    /// watchdog alike, so a release decided by one cannot overtake a press decided by another.
    order: Mutex<()>,
    /// Never held while talking to X: a heartbeat must not wait behind a long `text`.
    sessions: Mutex<Sessions>,
    /// Signalled when sessions change, so the watchdog sleeps until the next deadline.
    changed: Condvar,
    stopping: AtomicBool,
}

/// Sessions, the watchdog and the injector. Shared by every request thread.
pub struct Controller {
    shared: Arc<Shared>,
    watchdog: Mutex<Option<JoinHandle<()>>>,
}

impl Controller {
    /// Starts the watchdog thread.
    pub fn new(injector: Injector) -> std::io::Result<Controller> {
        let shared = Arc::new(Shared {
            injector,
            order: Mutex::new(()),
            sessions: Mutex::new(Sessions::default()),
            changed: Condvar::new(),
            stopping: AtomicBool::new(false),
        });
        let watched = shared.clone();
        let watchdog = thread::Builder::new()
            .name("control-watchdog".into())
            .spawn(move || watch(&watched))?;
        Ok(Controller {
            shared,
            watchdog: Mutex::new(Some(watchdog)),
        })
    }

    /// Carries out `action` for `viewer`; events map picture fractions onto `area`.
    pub fn act(&self, viewer: &Viewer, action: Action, area: Region) -> Result<(), ControlError> {
        let s = &*self.shared;
        match action {
            Action::Heartbeat => {
                lock(&s.sessions).renew(viewer, Instant::now());
                Ok(())
            }
            Action::Leave => {
                let _order = lock(&s.order);
                let (release, ended) = lock(&s.sessions).end(viewer, Ending::Left, Instant::now());
                s.release(&release);
                if let Some(e) = ended {
                    log_end(&e);
                }
                s.changed.notify_all();
                Ok(())
            }
            Action::Inject(event) => {
                let _order = lock(&s.order);
                let started = lock(&s.sessions)
                    .begin(viewer, Instant::now())
                    .map_err(|_| ControlError::TooManyViewers)?;
                if started {
                    log::info!("control: {viewer} started controlling");
                }
                let result = s.inject(viewer, &event, area);
                if result.is_ok() {
                    lock(&s.sessions).count(viewer);
                }
                s.changed.notify_all();
                result.map_err(ControlError::Inject)
            }
        }
    }

    /// Ends every session (releasing what they hold, logging each) and stops the watchdog.
    pub fn stop(&self) {
        let s = &*self.shared;
        {
            let _order = lock(&s.order);
            let (release, ended) = lock(&s.sessions).end_all(Instant::now());
            s.release(&release);
            ended.iter().for_each(log_end);
        }
        s.stopping.store(true, Ordering::SeqCst);
        s.changed.notify_all();
        if let Some(watchdog) = lock(&self.watchdog).take() {
            let _ = watchdog.join();
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Shared {
    /// Injects `event`, pressing a key or button only for its first holder and releasing it
    /// only for its last.
    fn inject(&self, viewer: &Viewer, event: &Event, area: Region) -> Result<(), InjectError> {
        let injector = &self.injector;
        match *event {
            Event::Down(_, b) | Event::Button(b, Press::Down) => {
                let item = Held::Button(b.x_button());
                if !lock(&self.sessions).hold(viewer, item) {
                    // Down already: only the move to the spot, if there is one.
                    return match *event {
                        Event::Down(at, _) => injector.inject(&Event::Move(at), area),
                        _ => Ok(()),
                    };
                }
                let result = injector.inject(event, area);
                if result.is_err() {
                    lock(&self.sessions).let_go(viewer, item);
                }
                result
            }
            Event::Up(_, b) | Event::Button(b, Press::Up) => {
                if lock(&self.sessions).let_go(viewer, Held::Button(b.x_button())) {
                    injector.inject(event, area)
                } else if let Event::Up(at, _) = *event {
                    injector.inject(&Event::Move(at), area)
                } else {
                    Ok(())
                }
            }
            Event::Key(key, Press::Down) => {
                let item = Held::Key(injector.keycode(key)?);
                if !lock(&self.sessions).hold(viewer, item) {
                    return Ok(());
                }
                let result = injector.press(item, true);
                if result.is_err() {
                    lock(&self.sessions).let_go(viewer, item);
                }
                result
            }
            Event::Key(key, Press::Up) => {
                let item = Held::Key(injector.keycode(key)?);
                if lock(&self.sessions).let_go(viewer, item) {
                    injector.press(item, false)
                } else {
                    Ok(())
                }
            }
            Event::Combo(ref keys) => self.combo(keys),
            _ => injector.inject(event, area),
        }
    }

    /// Presses `keys` in order and releases them in reverse. A key some viewer holds already
    /// (a sticky Ctrl on the page) is left as it is: pressed again it would be released here.
    fn combo(&self, keys: &[Key]) -> Result<(), InjectError> {
        let mut codes = Vec::new();
        for &key in keys {
            let item = Held::Key(self.injector.keycode(key)?);
            if !codes.contains(&item) {
                codes.push(item);
            }
        }
        let sessions = lock(&self.sessions);
        codes.retain(|&item| !sessions.held_by_anyone(item));
        drop(sessions);
        let mut pressed = Vec::new();
        let mut result = Ok(());
        for &item in &codes {
            result = self.injector.press(item, true);
            if result.is_err() {
                break;
            }
            pressed.push(item);
        }
        for &item in pressed.iter().rev() {
            let released = self.injector.press(item, false);
            result = result.and(released);
        }
        result
    }

    fn release(&self, items: &[Held]) {
        for &item in items {
            if let Err(e) = self.injector.press(item, false) {
                log::warn!("cannot release {item:?}: {e}");
            }
        }
    }
}

fn log_end(e: &Ended) {
    let held = match e.held {
        0 => String::new(),
        1 => "; released 1 key or button it held".to_string(),
        n => format!("; released {n} keys or buttons it held"),
    };
    log::info!(
        "control: {} stopped controlling ({}): {} events in {:.1} s{held}",
        e.viewer,
        e.why,
        e.events,
        e.duration.as_secs_f64()
    );
}

/// The watchdog: sleeps until the next session deadline (or a change), then ends what is due.
fn watch(s: &Shared) {
    loop {
        {
            let mut sessions = lock(&s.sessions);
            loop {
                if s.stopping.load(Ordering::SeqCst) {
                    return;
                }
                let now = Instant::now();
                match sessions.next_deadline() {
                    Some(due) if due <= now => break,
                    Some(due) => sessions = wait_timeout(&s.changed, sessions, due - now),
                    None => sessions = wait(&s.changed, sessions),
                }
            }
        }
        let _order = lock(&s.order);
        let (release, ended) = lock(&s.sessions).expire(Instant::now());
        s.release(&release);
        ended.iter().for_each(log_end);
    }
}
