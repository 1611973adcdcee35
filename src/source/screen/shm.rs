//! A memory segment shared with the X server (MIT-SHM), so a 1080p grab is one request and a
//! memcpy (~0.7 ms here) instead of 8 MB through the socket (~56 ms with plain `GetImage`).
//!
//! The segment is an anonymous `memfd` handed to the server with `ShmAttachFd` (SHM 1.2, the
//! route of x11rb's `examples/shared_memory.rs`), so no System V segment can leak when the
//! process dies. This file is the only `unsafe` of the screen source.
//!
//! Why reading it is sound: the server writes into the segment only while it serves a
//! `ShmGetImage` naming it. Only [`Segment::get_rows`] sends those (the segment's id never
//! leaves this file), and it returns only once the server has answered every one of them, so
//! nothing writes while [`Segment::bytes`] lends the memory out (`get_rows` takes `&mut self`).
//! If an answer cannot be waited for (the connection broke), the server may still be writing:
//! the segment never lends its bytes again.

use std::ffi::c_void;
use std::io;
use std::ptr;

use rustix::fd::OwnedFd;
use rustix::fs::{MemfdFlags, ftruncate, memfd_create};
use rustix::mm::{MapFlags, ProtFlags, mmap, munmap};
use x11rb::connection::Connection as _;
use x11rb::errors::{ReplyError, ReplyOrIdError};
use x11rb::protocol::shm::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{ImageFormat, Window};
use x11rb::rust_connection::RustConnection;

use crate::geometry::Region;

/// `len` bytes the X server writes into and we only read.
pub struct Segment {
    ptr: *const c_void,
    len: usize,
    /// The server's name for it.
    seg: shm::Seg,
    /// A `ShmGetImage` was sent whose answer never arrived: the server may still be writing.
    unsettled: bool,
}

// SAFETY: the mapping is owned by this value alone and only read through `&self`; moving it to
// another thread (the capture thread) is as safe as moving a `Vec`.
unsafe impl Send for Segment {}

/// Why no segment is shared with the server.
#[derive(Debug)]
pub enum AttachError {
    /// The memory could not be made here (`memfd_create`, `ftruncate`, `mmap`).
    Create(io::Error),
    /// The server refused it (BadAccess from a server in another container, for example).
    Refused(ReplyError),
    /// The connection failed while asking.
    Connection(ReplyOrIdError),
}

impl Segment {
    /// Makes a segment of `len` bytes and attaches it to the server on `conn`, waiting for the
    /// server's verdict.
    pub fn attach(conn: &RustConnection, len: usize) -> Result<Segment, AttachError> {
        let (mut segment, fd) = Segment::map(len).map_err(AttachError::Create)?;
        let seg = conn.generate_id().map_err(AttachError::Connection)?;
        // `check` waits for the server's verdict.
        conn.shm_attach_fd(seg, fd, false)
            .map_err(|e| AttachError::Connection(e.into()))?
            .check()
            .map_err(AttachError::Refused)?;
        segment.seg = seg;
        Ok(segment)
    }

    /// A fresh `memfd` of `len` bytes mapped here, with the descriptor to hand to the server.
    fn map(len: usize) -> io::Result<(Segment, OwnedFd)> {
        let fd = memfd_create("deskcam-shm", MemfdFlags::CLOEXEC)?;
        ftruncate(&fd, len as u64)?;
        // Read-only here: only the server writes. Its own mapping (made from the fd, which
        // memfd_create opened read-write) must be writable, so the attach below is not
        // read-only: the server refuses ShmGetImage into a read-only attachment (BadAccess,
        // VERIFY_SHMPTR in xserver's Xext/shm.c).
        // SAFETY: a fresh shared mapping of a file we just sized to `len`; the kernel picks the
        // address, so nothing else is overlapped. It is unmapped exactly once, in `Drop`.
        let ptr = unsafe {
            mmap(
                ptr::null_mut(),
                len,
                ProtFlags::READ,
                MapFlags::SHARED,
                &fd,
                0,
            )?
        };
        let segment = Segment {
            ptr,
            len,
            seg: 0,
            unsettled: false,
        };
        Ok((segment, fd))
    }

    /// Has the server copy the rows `runs` (half-open ranges of `area`, a rectangle of
    /// `window`) into the segment, each row at its own place (row `y` at `y * width * 4`),
    /// calls `meanwhile` once every request is sent, and returns what it returned after the
    /// server has answered them all. An error from the server for one request does not stop the
    /// wait for the others.
    pub fn get_rows<T>(
        &mut self,
        conn: &RustConnection,
        window: Window,
        area: Region,
        runs: &[(u32, u32)],
        meanwhile: impl FnOnce() -> T,
    ) -> Result<T, ReplyError> {
        let stride = area.width as usize * 4;
        let (x, w) = (area.x as i16, area.width as u16);
        let format = ImageFormat::Z_PIXMAP.into();
        let mut cookies = Vec::with_capacity(runs.len());
        for &(y0, y1) in runs {
            // The server checks that each image fits the segment (BadAccess otherwise).
            let (y, h) = ((area.y + y0) as i16, (y1 - y0) as u16);
            let offset = (y0 as usize * stride) as u32;
            // Unsettled from the moment a request may have left, until its answer is in.
            self.unsettled = true;
            cookies.push(conn.shm_get_image(window, x, y, w, h, !0, format, self.seg, offset)?);
        }
        let then = meanwhile();
        let mut refused = None;
        for cookie in cookies {
            match cookie.reply() {
                Ok(_) => {}
                // Answered with an error: that request is over too.
                Err(ReplyError::X11Error(e)) => refused = refused.or(Some(e)),
                Err(e) => return Err(e),
            }
        }
        self.unsettled = false;
        match refused {
            Some(e) => Err(ReplyError::X11Error(e)),
            None => Ok(then),
        }
    }

    /// The bytes as the server last wrote them, or `None` if it may still be writing (a wait
    /// for its answers failed).
    pub fn bytes(&self) -> Option<&[u8]> {
        if self.unsettled {
            return None;
        }
        // SAFETY: `ptr` maps `len` readable bytes for the life of `self`, and no write is under
        // way: see the module's comment.
        Some(unsafe { std::slice::from_raw_parts(self.ptr as *const u8, self.len) })
    }

    /// Tells the server to let go of the segment (best effort: it lets go anyway when the
    /// connection closes).
    pub fn detach(&self, conn: &RustConnection) {
        let _ = conn.shm_detach(self.seg);
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` came from the successful `mmap` in `attach` and are unmapped once.
        let _ = unsafe { munmap(self.ptr as *mut c_void, self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_segment_shows_what_is_written_and_lends_nothing_while_written() {
        let (mut seg, fd) = Segment::map(4096).unwrap();
        // What the server writes through the descriptor shows in our read-only mapping.
        std::fs::File::from(fd).write_all(&[1, 2, 3, 4]).unwrap();
        assert_eq!(&seg.bytes().unwrap()[..4], &[1, 2, 3, 4]);
        assert_eq!(seg.bytes().unwrap().len(), 4096);
        seg.unsettled = true;
        assert!(seg.bytes().is_none());
    }
}
