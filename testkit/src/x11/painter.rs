//! Draws on the root window of a display as any X client would: the screen tests and the
//! screen bench put known content on Xvfb with it.

use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ChangeGCAux, ConnectionExt as _, CreateGCAux, Rectangle};
use x11rb::rust_connection::RustConnection;

pub struct Painter {
    pub conn: RustConnection,
    pub root: u32,
    pub gc: u32,
}

impl Painter {
    pub fn new(display: &str) -> Painter {
        let (conn, n) = x11rb::connect(Some(display)).expect("connect to Xvfb");
        let root = conn.setup().roots[n].root;
        let gc = conn.generate_id().expect("an X id");
        // No GraphicsExpose/NoExpose events for copy_area: nobody reads them.
        conn.create_gc(
            gc,
            root,
            &CreateGCAux::new().foreground(0).graphics_exposures(0),
        )
        .expect("CreateGC");
        Painter { conn, root, gc }
    }

    /// Waits until the server has done everything sent so far (one round trip).
    pub fn sync(&self) {
        self.conn
            .get_input_focus()
            .expect("GetInputFocus")
            .reply()
            .expect("the X server answers");
    }

    /// Fills a rectangle with 0xRRGGBB and waits until the server has done it.
    pub fn fill(&self, rgb: u32, x: i16, y: i16, w: u16, h: u16) {
        self.conn
            .change_gc(self.gc, &ChangeGCAux::new().foreground(rgb))
            .expect("ChangeGC");
        let r = Rectangle {
            x,
            y,
            width: w,
            height: h,
        };
        self.conn
            .poly_fill_rectangle(self.root, self.gc, &[r])
            .expect("PolyFillRectangle");
        self.sync();
    }
}
