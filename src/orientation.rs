//! Which way up a camera's picture is served: `--rotate` plus `--flip` and `--mirror`, folded into
//! one mapping from output pixels to source pixels, so an encoder reads each output row straight
//! from the captured buffer (a turned picture costs no copy of its own).

use std::fmt;

use crate::geometry::Resolution;

/// `--rotate`: clockwise quarter turns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rotation {
    #[default]
    R0,
    R90,
    R180,
    R270,
}

impl Rotation {
    pub fn degrees(self) -> u32 {
        match self {
            Rotation::R0 => 0,
            Rotation::R90 => 90,
            Rotation::R180 => 180,
            Rotation::R270 => 270,
        }
    }

    /// Whether the picture's width and height trade places.
    pub fn sideways(self) -> bool {
        matches!(self, Rotation::R90 | Rotation::R270)
    }
}

impl fmt::Display for Rotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.degrees())
    }
}

/// Output pixel `(ox, oy)` shows source pixel `(sx, sy)` with `(u, v) = transpose ? (oy, ox) :
/// (ox, oy)`, `sx = neg_x ? W-1-u : u`, `sy = neg_y ? H-1-v : v` (W, H: the source size). The
/// eight ways a rectangle can lie all have this form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Orientation {
    pub transpose: bool,
    pub neg_x: bool,
    pub neg_y: bool,
}

/// Where one output row starts in the source and which way it runs there (one of `dx`, `dy` is
/// zero, the other ±1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Walk {
    pub x: usize,
    pub y: usize,
    pub dx: isize,
    pub dy: isize,
}

impl Walk {
    /// The source pixel of output column `i`.
    #[inline]
    pub fn at(&self, i: usize) -> (usize, usize) {
        (
            self.x.wrapping_add_signed(self.dx * i as isize),
            self.y.wrapping_add_signed(self.dy * i as isize),
        )
    }

    /// Whether the row is a plain left-to-right run of one source row.
    pub fn is_forward_row(&self) -> bool {
        self.dx == 1 && self.dy == 0
    }
}

impl Orientation {
    /// The picture turned by `rotation`, then upside down (`flip`) and left to right (`mirror`)
    /// as the viewer sees it.
    pub fn new(rotation: Rotation, flip: bool, mirror: bool) -> Orientation {
        // The rotation alone: 90 = transpose + upside down, 270 = transpose + left to right.
        let (transpose, nx, ny) = match rotation {
            Rotation::R0 => (false, false, false),
            Rotation::R90 => (true, false, true),
            Rotation::R180 => (false, true, true),
            Rotation::R270 => (true, true, false),
        };
        // Flip and mirror act on the turned picture: sideways, its rows are source columns.
        let (fx, fy) = if transpose {
            (flip, mirror)
        } else {
            (mirror, flip)
        };
        Orientation {
            transpose,
            neg_x: nx ^ fx,
            neg_y: ny ^ fy,
        }
    }

    pub fn is_identity(&self) -> bool {
        *self == Orientation::default()
    }

    /// The size of the output for a source of `size`.
    pub fn output_size(&self, size: Resolution) -> Resolution {
        if self.transpose {
            Resolution {
                width: size.height,
                height: size.width,
            }
        } else {
            size
        }
    }

    /// Output row `oy` of a `width` x `height` source.
    pub fn row(&self, oy: usize, width: usize, height: usize) -> Walk {
        let step = |neg: bool| if neg { -1 } else { 1 };
        let start = |neg: bool, v: usize, len: usize| if neg { len - 1 - v } else { v };
        if self.transpose {
            // u = oy (fixed), v = ox (runs): the row is a source column.
            Walk {
                x: start(self.neg_x, oy, width),
                y: start(self.neg_y, 0, height),
                dx: 0,
                dy: step(self.neg_y),
            }
        } else {
            Walk {
                x: start(self.neg_x, 0, width),
                y: start(self.neg_y, oy, height),
                dx: step(self.neg_x),
                dy: 0,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where each output pixel of a 3x2 source comes from, as output rows of source indices.
    fn picture(o: Orientation) -> Vec<Vec<usize>> {
        let (w, h) = (3usize, 2usize);
        let out = o.output_size(Resolution {
            width: w as u32,
            height: h as u32,
        });
        (0..out.height as usize)
            .map(|oy| {
                let walk = o.row(oy, w, h);
                (0..out.width as usize)
                    .map(|i| {
                        let (x, y) = walk.at(i);
                        y * w + x
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn quarter_turns_go_clockwise() {
        // Source:  0 1 2
        //          3 4 5
        let r = |rot| picture(Orientation::new(rot, false, false));
        assert_eq!(r(Rotation::R0), vec![vec![0, 1, 2], vec![3, 4, 5]]);
        assert_eq!(r(Rotation::R90), vec![vec![3, 0], vec![4, 1], vec![5, 2]]);
        assert_eq!(r(Rotation::R180), vec![vec![5, 4, 3], vec![2, 1, 0]]);
        assert_eq!(r(Rotation::R270), vec![vec![2, 5], vec![1, 4], vec![0, 3]]);
    }

    #[test]
    fn flip_and_mirror_act_on_the_turned_picture() {
        let o = |rot, flip, mirror| picture(Orientation::new(rot, flip, mirror));
        assert_eq!(
            o(Rotation::R0, true, false),
            vec![vec![3, 4, 5], vec![0, 1, 2]]
        );
        assert_eq!(
            o(Rotation::R0, false, true),
            vec![vec![2, 1, 0], vec![5, 4, 3]]
        );
        // Turned, then mirrored as seen: the rows of R90 reversed.
        assert_eq!(
            o(Rotation::R90, false, true),
            vec![vec![0, 3], vec![1, 4], vec![2, 5]]
        );
        // Turned, then upside down as seen: the rows of R90 in reverse order.
        assert_eq!(
            o(Rotation::R90, true, false),
            vec![vec![5, 2], vec![4, 1], vec![3, 0]]
        );
        // 180 is flip + mirror.
        assert_eq!(
            Orientation::new(Rotation::R180, false, false),
            Orientation::new(Rotation::R0, true, true)
        );
        assert!(Orientation::new(Rotation::R180, true, true).is_identity());
    }
}
