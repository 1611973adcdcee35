//! A memory segment shared with the X server (MIT-SHM), so a 1080p grab is one request and a
//! memcpy (~0.7 ms here) instead of 8 MB through the socket (~56 ms with plain `GetImage`).
//!
//! The segment is an anonymous `memfd` handed to the server with `ShmAttachFd` (SHM 1.2, the
//! route of x11rb's `examples/shared_memory.rs`), so no System V segment can leak when the
//! process dies. This file is the only `unsafe` of the screen source.

use std::ffi::c_void;
use std::ptr;

use rustix::fd::OwnedFd;
use rustix::fs::{MemfdFlags, ftruncate, memfd_create};
use rustix::mm::{MapFlags, ProtFlags, mmap, munmap};

/// A read-only view of `len` bytes the X server writes into.
pub struct Segment {
    ptr: *mut c_void,
    len: usize,
}

// SAFETY: the mapping is owned by this value alone and is only read through `&self`; moving it to
// another thread (the capture thread) is as safe as moving a `Vec`.
unsafe impl Send for Segment {}

impl Segment {
    /// Creates a segment of `len` bytes; returns it with the fd to pass to the server.
    pub fn new(len: usize) -> std::io::Result<(Segment, OwnedFd)> {
        let fd = memfd_create("deskcam-shm", MemfdFlags::CLOEXEC)?;
        ftruncate(&fd, len as u64)?;
        // SAFETY: a fresh shared mapping of a file we just sized to `len`; the kernel picks the
        // address, so nothing else is overlapped. It is unmapped exactly once, in `Drop`.
        let ptr = unsafe {
            mmap(
                ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED,
                &fd,
                0,
            )?
        };
        Ok((Segment { ptr, len }, fd))
    }

    /// The bytes the server wrote by the last completed `ShmGetImage` (its reply has arrived,
    /// so the server is done writing until the next request).
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` bytes for the life of `self`. The server writes only while
        // serving a ShmGetImage, and the caller reads only after that request's reply.
        unsafe { std::slice::from_raw_parts(self.ptr as *const u8, self.len) }
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` came from the successful `mmap` in `new` and are unmapped once.
        let _ = unsafe { munmap(self.ptr, self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn segment_sees_writes_through_its_fd() {
        let (seg, fd) = Segment::new(4096).unwrap();
        let mut f = std::fs::File::from(fd);
        f.write_all(&[1, 2, 3, 4]).unwrap();
        assert_eq!(&seg.bytes()[..4], &[1, 2, 3, 4]);
        assert_eq!(seg.bytes().len(), 4096);
    }
}
