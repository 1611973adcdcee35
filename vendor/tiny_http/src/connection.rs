//! Abstractions of Tcp and Unix socket types

#[cfg(unix)]
use std::os::unix::net as unix_net;
use std::{
    net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs},
    path::PathBuf,
};

/// Unified listener. Either a [`TcpListener`] or [`std::os::unix::net::UnixListener`]
pub enum Listener {
    Tcp(TcpListener),
    #[cfg(unix)]
    Unix(unix_net::UnixListener),
}
impl Listener {
    pub(crate) fn local_addr(&self) -> std::io::Result<ListenAddr> {
        match self {
            Self::Tcp(l) => l.local_addr().map(ListenAddr::from),
            #[cfg(unix)]
            Self::Unix(l) => l.local_addr().map(ListenAddr::from),
        }
    }

    pub(crate) fn accept(&self) -> std::io::Result<(Connection, Option<SocketAddr>)> {
        match self {
            Self::Tcp(l) => l
                .accept()
                .map(|(conn, addr)| (Connection::from(conn), Some(addr))),
            #[cfg(unix)]
            Self::Unix(l) => l.accept().map(|(conn, _)| (Connection::from(conn), None)),
        }
    }
}
impl Listener {
    /// deskcam patch: accepts a connection only if one is already waiting.
    pub(crate) fn accept_now(&self) -> Option<Connection> {
        let set = |yes| match self {
            Self::Tcp(l) => l.set_nonblocking(yes),
            #[cfg(unix)]
            Self::Unix(l) => l.set_nonblocking(yes),
        };
        set(true).ok()?;
        let conn = self.accept().ok().map(|(c, _)| c);
        let _ = set(false);
        // An accepted socket must block like every other (it inherits nothing from here
        // on Linux, but say so).
        if let Some(c) = &conn {
            let _ = c.set_nonblocking(false);
        }
        conn
    }
}
impl From<TcpListener> for Listener {
    fn from(s: TcpListener) -> Self {
        Self::Tcp(s)
    }
}
#[cfg(unix)]
impl From<unix_net::UnixListener> for Listener {
    fn from(s: unix_net::UnixListener) -> Self {
        Self::Unix(s)
    }
}

/// Unified connection. Either a [`TcpStream`] or [`std::os::unix::net::UnixStream`].
///
/// deskcam patch: one descriptor per connection, shared (`Arc`) by the reading side, the
/// writing side and the registry of connections waiting for a head, all through `&Connection`.
/// Upstream cloned the descriptor for each side (two per connection).
///
/// deskcam patch 15: or a TLS connection over TCP ([`crate::tls`]).
// deskcam patch 17: the TLS variant is the larger; each connection lives in one `Arc` and is
// never moved, so the difference costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Connection {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(unix_net::UnixStream),
    Tls(crate::tls::TlsStream),
}
impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Connection::Tcp(s) => s.fmt(f),
            #[cfg(unix)]
            Connection::Unix(s) => s.fmt(f),
            Connection::Tls(s) => write!(f, "Tls({:?})", s.tcp),
        }
    }
}
impl std::io::Read for &Connection {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Connection::Tcp(s) => (&*s).read(buf),
            #[cfg(unix)]
            Connection::Unix(s) => (&*s).read(buf),
            Connection::Tls(s) => s.read(buf),
        }
    }
}
impl std::io::Write for &Connection {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Connection::Tcp(s) => (&*s).write(buf),
            #[cfg(unix)]
            Connection::Unix(s) => (&*s).write(buf),
            Connection::Tls(s) => s.write_vectored(&[std::io::IoSlice::new(buf)]),
        }
    }

    fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        match self {
            Connection::Tcp(s) => (&*s).write_vectored(bufs),
            #[cfg(unix)]
            Connection::Unix(s) => (&*s).write_vectored(bufs),
            Connection::Tls(s) => s.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
impl Connection {
    pub(crate) fn shutdown(&self, how: Shutdown) -> std::io::Result<()> {
        match self {
            Self::Tcp(s) => s.shutdown(how),
            #[cfg(unix)]
            Self::Unix(s) => s.shutdown(how),
            // Never through the TLS lock: this is what interrupts a read blocked under it.
            Self::Tls(s) => s.tcp.shutdown(how),
        }
    }

    /// deskcam patch: reads are bounded by the idle timeout or the request deadline.
    pub(crate) fn set_read_timeout(&self, t: Option<std::time::Duration>) -> std::io::Result<()> {
        match self {
            Self::Tcp(s) => s.set_read_timeout(t),
            #[cfg(unix)]
            Self::Unix(s) => s.set_read_timeout(t),
            Self::Tls(s) => s.tcp.set_read_timeout(t),
        }
    }

    /// deskcam patch: a response goes out at once, not after the peer's delayed ACK of the
    /// previous segment (Nagle's algorithm made back-to-back snapshots take 44 ms each).
    pub(crate) fn set_nodelay(&self) -> std::io::Result<()> {
        match self {
            Self::Tcp(s) => s.set_nodelay(true),
            #[cfg(unix)]
            Self::Unix(_) => Ok(()),
            Self::Tls(s) => s.tcp.set_nodelay(true),
        }
    }

    pub(crate) fn set_nonblocking(&self, yes: bool) -> std::io::Result<()> {
        match self {
            Self::Tcp(s) => s.set_nonblocking(yes),
            #[cfg(unix)]
            Self::Unix(s) => s.set_nonblocking(yes),
            Self::Tls(s) => s.tcp.set_nonblocking(yes),
        }
    }

    /// deskcam patch 15: ends our sending side (with `close_notify` on TLS).
    pub(crate) fn close_write(&self) {
        match self {
            Self::Tls(s) => s.close_write(),
            other => {
                let _ = other.shutdown(Shutdown::Write);
            }
        }
    }

    /// deskcam patch 15: reads the socket's raw bytes, to discard what a closing client
    /// still sends (TLS records included, undecrypted).
    pub(crate) fn read_raw(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::io::Read;
        match self {
            Self::Tls(s) => (&s.tcp).read(buf),
            other => (&*other).read(buf),
        }
    }

    /// deskcam patch 15: this TCP connection, to be spoken to in TLS with `config`.
    pub(crate) fn into_tls(
        self,
        config: &std::sync::Arc<rustls::ServerConfig>,
    ) -> std::io::Result<Self> {
        match self {
            Self::Tcp(s) => crate::tls::TlsStream::new(s, config).map(Self::Tls),
            _ => Err(std::io::Error::other("TLS is served on TCP only")),
        }
    }
}
#[cfg(unix)]
impl std::os::fd::AsFd for Connection {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        match self {
            Self::Tcp(s) => s.as_fd(),
            Self::Unix(s) => s.as_fd(),
            Self::Tls(s) => s.tcp.as_fd(),
        }
    }
}
impl From<TcpStream> for Connection {
    fn from(s: TcpStream) -> Self {
        Self::Tcp(s)
    }
}
#[cfg(unix)]
impl From<unix_net::UnixStream> for Connection {
    fn from(s: unix_net::UnixStream) -> Self {
        Self::Unix(s)
    }
}

/// deskcam patch: the socket under a request, so the application can watch it for the peer
/// hanging up while it waits for something to send (a stream's next frame), and cut it.
#[derive(Clone, Debug)]
pub struct Socket(pub(crate) std::sync::Arc<Connection>);

impl Socket {
    /// Shuts both directions down: a blocked write fails at once and the peer sees the end.
    pub fn shutdown(&self) {
        let _ = self.0.shutdown(Shutdown::Both);
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for Socket {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.0.as_fd()
    }
}

#[derive(Debug, Clone)]
pub enum ConfigListenAddr {
    IP(Vec<SocketAddr>),
    #[cfg(unix)]
    // TODO: use SocketAddr when bind_addr is stabilized
    Unix(std::path::PathBuf),
}
impl ConfigListenAddr {
    pub fn from_socket_addrs<A: ToSocketAddrs>(addrs: A) -> std::io::Result<Self> {
        addrs.to_socket_addrs().map(|it| Self::IP(it.collect()))
    }

    #[cfg(unix)]
    pub fn unix_from_path<P: Into<PathBuf>>(path: P) -> Self {
        Self::Unix(path.into())
    }

    pub(crate) fn bind(&self) -> std::io::Result<Listener> {
        match self {
            Self::IP(a) => TcpListener::bind(a.as_slice()).map(Listener::from),
            #[cfg(unix)]
            Self::Unix(a) => unix_net::UnixListener::bind(a).map(Listener::from),
        }
    }
}

/// Unified listen socket address. Either a [`SocketAddr`] or [`std::os::unix::net::SocketAddr`].
#[derive(Debug, Clone)]
pub enum ListenAddr {
    IP(SocketAddr),
    #[cfg(unix)]
    Unix(unix_net::SocketAddr),
}
impl ListenAddr {
    pub fn to_ip(self) -> Option<SocketAddr> {
        match self {
            Self::IP(s) => Some(s),
            #[cfg(unix)]
            Self::Unix(_) => None,
        }
    }

    /// Gets the Unix socket address.
    ///
    /// This is also available on non-Unix platforms, for ease of use, but always returns `None`.
    #[cfg(unix)]
    pub fn to_unix(self) -> Option<unix_net::SocketAddr> {
        match self {
            Self::IP(_) => None,
            Self::Unix(s) => Some(s),
        }
    }
    #[cfg(not(unix))]
    pub fn to_unix(self) -> Option<SocketAddr> {
        None
    }
}
impl From<SocketAddr> for ListenAddr {
    fn from(s: SocketAddr) -> Self {
        Self::IP(s)
    }
}
#[cfg(unix)]
impl From<unix_net::SocketAddr> for ListenAddr {
    fn from(s: unix_net::SocketAddr) -> Self {
        Self::Unix(s)
    }
}
impl std::fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::IP(s) => s.fmt(f),
            #[cfg(unix)]
            Self::Unix(s) => std::fmt::Debug::fmt(s, f),
        }
    }
}
