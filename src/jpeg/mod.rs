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

impl Subsampling {
    /// Rows of one MCU: 16 with vertical chroma subsampling, else 8. A band of the screen is
    /// one MCU row, so the screen source and the band encoder both cut pictures by it.
    pub fn mcu_height(self) -> u32 {
        match self {
            Subsampling::S420 => 16,
            Subsampling::S422 | Subsampling::S444 => 8,
        }
    }

    /// Columns of one MCU: 16 with horizontal chroma subsampling, else 8.
    pub fn mcu_width(self) -> u32 {
        match self {
            Subsampling::S420 | Subsampling::S422 => 16,
            Subsampling::S444 => 8,
        }
    }
}
