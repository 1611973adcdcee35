//! Notices a client hanging up while its handler has nothing to send it. A stream waits up to a
//! second for its next frame and a snapshot up to ten for its first; a client that reset or
//! closed meanwhile used to keep its thread, its descriptor and its `--max-clients` slot until
//! the next write failed, so clients that connect, read half a frame and reset could hold every
//! slot at a 1 fps source. One thread watches every waiting socket with epoll for `EPOLLRDHUP`,
//! `EPOLLHUP` and `EPOLLERR`, marks the watch gone and wakes the waiters.
//!
//! A client that only shuts down its sending side counts as gone too (nginx treats a request
//! the same way): from here it cannot be told apart from one that closed.

use std::collections::HashMap;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use rustix::buffer::spare_capacity;
use rustix::event::epoll;
use tiny_http::Socket;

use crate::sync::lock;

struct Entry {
    socket: Socket,
    gone: Arc<AtomicBool>,
    /// Shut the socket down on hang-up, so a write blocked on a full buffer fails at once.
    cut: bool,
}

pub struct Hangups {
    epoll: OwnedFd,
    watched: Mutex<HashMap<u64, Entry>>,
    next: AtomicU64,
    /// Wakes whoever waits on a watch (the hub's waiters).
    wake: Box<dyn Fn() + Send + Sync>,
}

/// A socket being watched, until dropped.
pub struct Watch<'a> {
    hangups: &'a Hangups,
    key: u64,
    gone: Arc<AtomicBool>,
}

impl Watch<'_> {
    /// Set once the client hung up.
    pub fn gone(&self) -> &AtomicBool {
        &self.gone
    }

    pub fn is_gone(&self) -> bool {
        self.gone.load(Ordering::Acquire)
    }
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        if let Some(entry) = lock(&self.hangups.watched).remove(&self.key) {
            let _ = epoll::delete(&self.hangups.epoll, &entry.socket);
        }
    }
}

impl Hangups {
    /// Starts the watching thread; `wake` is called after a watch is marked gone.
    pub fn start(wake: Box<dyn Fn() + Send + Sync>) -> io::Result<Arc<Hangups>> {
        let hangups = Arc::new(Hangups {
            epoll: epoll::create(epoll::CreateFlags::CLOEXEC)?,
            watched: Mutex::new(HashMap::new()),
            next: AtomicU64::new(0),
            wake,
        });
        let watcher = hangups.clone();
        thread::Builder::new()
            .name("hangups".into())
            .stack_size(64 * 1024)
            .spawn(move || watcher.run())?;
        Ok(hangups)
    }

    /// Watches `socket` until the returned guard drops. `None` if the kernel refuses (the
    /// caller then notices a hang-up at its next write, as before).
    pub fn watch(&self, socket: Socket, cut: bool) -> Option<Watch<'_>> {
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        let gone = Arc::new(AtomicBool::new(false));
        let mut watched = lock(&self.watched);
        // One-shot: after reporting once the socket stays registered but silent.
        let added = epoll::add(
            &self.epoll,
            &socket,
            epoll::EventData::new_u64(key),
            epoll::EventFlags::RDHUP | epoll::EventFlags::ONESHOT,
        );
        if let Err(e) = added {
            log::debug!("cannot watch a client socket: {e}");
            return None;
        }
        watched.insert(
            key,
            Entry {
                socket,
                gone: gone.clone(),
                cut,
            },
        );
        Some(Watch {
            hangups: self,
            key,
            gone,
        })
    }

    fn run(&self) {
        let mut events = Vec::with_capacity(64);
        loop {
            events.clear();
            match epoll::wait(&self.epoll, spare_capacity(&mut events), None) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => {
                    log::error!("cannot watch client sockets any more: {e}");
                    return;
                }
            }
            let mut any = false;
            for event in events.drain(..) {
                let watched = lock(&self.watched);
                if let Some(entry) = watched.get(&event.data.u64()) {
                    entry.gone.store(true, Ordering::Release);
                    if entry.cut {
                        entry.socket.shutdown();
                    }
                    any = true;
                }
            }
            if any {
                (self.wake)();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::mpsc;
    use std::time::Duration;

    /// A tiny_http server on a free port whose one request goes to the test through `rx`.
    fn request_from_a_client() -> (TcpStream, tiny_http::Request, tiny_http::Server) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tiny_http::Server::from_listener(listener, Default::default()).unwrap();
        let mut client = TcpStream::connect(addr).unwrap();
        client
            .write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let request = server.recv().unwrap();
        (client, request, server)
    }

    #[test]
    fn a_reset_or_a_close_marks_the_watch_gone_and_wakes() {
        for reset in [true, false] {
            let (tx, rx) = mpsc::channel();
            let tx = Mutex::new(tx);
            let hangups = Hangups::start(Box::new(move || {
                let _ = lock(&tx).send(());
            }))
            .unwrap();
            let (client, request, _server) = request_from_a_client();
            let watch = hangups.watch(request.socket(), true).unwrap();
            assert!(!watch.is_gone());
            if reset {
                socket2::SockRef::from(&client)
                    .set_linger(Some(Duration::ZERO))
                    .unwrap();
            }
            drop(client);
            rx.recv_timeout(Duration::from_secs(2)).expect("woken");
            assert!(watch.is_gone(), "reset: {reset}");
            // Cut: the server side is shut down too.
            let mut w = request.into_writer();
            assert!(w.write_all(&[0; 1 << 20]).is_err());
        }
    }

    #[test]
    fn a_reading_client_is_not_gone() {
        let hangups = Hangups::start(Box::new(|| {})).unwrap();
        let (mut client, request, _server) = request_from_a_client();
        let watch = hangups.watch(request.socket(), false).unwrap();
        let mut w = request.into_writer();
        w.write_all(b"hello").unwrap();
        let mut got = [0u8; 5];
        client.read_exact(&mut got).unwrap();
        assert!(!watch.is_gone());
        drop(watch);
        assert!(lock(&hangups.watched).is_empty(), "the guard unregisters");
    }
}
