//! JPEG facts that every layer needs, kept at the bottom so sources, encoders, tests and benches
//! share one copy: the settings a user chooses ([`Quality`], [`Subsampling`]), a marker walker
//! ([`markers`]) and the standard Huffman tables ([`tables`]).

pub mod markers;
pub mod tables;

/// JPEG quality, 1..=100, validated at the border.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quality(u8);

impl Quality {
    pub fn new(q: u8) -> Option<Quality> {
        (1..=100).contains(&q).then_some(Quality(q))
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

/// Chroma subsampling: how many luma pixels share one chroma sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subsampling {
    S420,
    S422,
    S444,
}
