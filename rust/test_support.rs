//! DICOM byte streams for tests: a little builder of elements and Part 10 files.

use crate::tags::{self, TRANSFER_SYNTAX_UID};
use crate::vr::Vr;

/// Little builder for element streams.
#[derive(Default)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    pub fn tag(&mut self, tag: u32, little: bool) -> &mut Self {
        let (g, e) = ((tag >> 16) as u16, tag as u16);
        if little {
            self.0.extend(g.to_le_bytes());
            self.0.extend(e.to_le_bytes());
        } else {
            self.0.extend(g.to_be_bytes());
            self.0.extend(e.to_be_bytes());
        }
        self
    }
    pub fn explicit(&mut self, tag: u32, vr: &str, value: &[u8]) -> &mut Self {
        self.explicit_in(tag, vr, value, true)
    }
    /// An explicit VR element in either byte order.
    pub fn explicit_in(&mut self, tag: u32, vr: &str, value: &[u8], little: bool) -> &mut Self {
        self.tag(tag, little).0.extend(vr.as_bytes());
        let len = value.len() as u32;
        let code = vr.as_bytes().try_into().ok();
        if code
            .and_then(Vr::from_code)
            .is_some_and(Vr::has_long_header)
        {
            self.0.extend([0, 0]);
            self.0.extend(if little {
                len.to_le_bytes()
            } else {
                len.to_be_bytes()
            });
        } else {
            let len = len as u16;
            self.0.extend(if little {
                len.to_le_bytes()
            } else {
                len.to_be_bytes()
            });
        }
        self.0.extend(value);
        self
    }
    pub fn explicit_undefined(&mut self, tag: u32, vr: &str) -> &mut Self {
        self.tag(tag, true).0.extend(vr.as_bytes());
        self.0.extend([0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        self
    }
    pub fn implicit(&mut self, tag: u32, value: &[u8]) -> &mut Self {
        self.tag(tag, true)
            .0
            .extend((value.len() as u32).to_le_bytes());
        self.0.extend(value);
        self
    }
    pub fn marker(&mut self, tag: u32, length: u32) -> &mut Self {
        self.tag(tag, true).0.extend(length.to_le_bytes());
        self
    }
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.extend(bytes);
        self
    }
}

/// 16-bit values in either byte order.
pub fn words(values: impl IntoIterator<Item = u16>, little: bool) -> Vec<u8> {
    values
        .into_iter()
        .flat_map(|v| {
            if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        })
        .collect()
}

/// A preamble and file meta naming `syntax`.
pub fn part10(syntax: &str) -> Bytes {
    let mut b = Bytes::default();
    b.raw(&[0; 128]).raw(b"DICM");
    let mut uid = syntax.as_bytes().to_vec();
    if uid.len() % 2 == 1 {
        uid.push(0);
    }
    b.explicit(tags::FILE_META_INFORMATION_VERSION, "OB", &[0, 1])
        .explicit(TRANSFER_SYNTAX_UID, "UI", &uid);
    b
}
