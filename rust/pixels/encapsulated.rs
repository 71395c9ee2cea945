//! Encapsulated pixel data (DICOM PS3.5 Annex A.4): where each frame's bytes are, as
//! pydicom 3.0.2's `encaps.generate_frames` and `get_frame` find them.
//!
//! Only the unambiguous layouts are mapped here, each frame being one contiguous byte range:
//! an Extended Offset Table, or one fragment per frame (with a Basic Offset Table that agrees,
//! or none). Everything else (frames split over fragments, JPEG marker searches, malformed
//! items) returns `None`, and the caller leaves the data to pydicom, whose warnings and errors
//! then apply by construction.

use crate::tags::{ITEM, SEQUENCE_DELIMITATION_ITEM};
use crate::values::{tag_of, u32_of};
use std::ops::Range;

/// An encapsulated value as an item walk reads it: held in memory, or read from a file at
/// need (then only the item headers and the Basic Offset Table are read).
pub trait ValueBytes {
    /// How many bytes the value has.
    fn size(&self) -> usize;
    /// Fill `buf` from `pos`; false when the value has fewer bytes there.
    fn read_at(&self, pos: usize, buf: &mut [u8]) -> bool;
}

impl ValueBytes for [u8] {
    fn size(&self) -> usize {
        self.len()
    }

    fn read_at(&self, pos: usize, buf: &mut [u8]) -> bool {
        let end = pos.checked_add(buf.len());
        match end.and_then(|end| self.get(pos..end)) {
            Some(bytes) => {
                buf.copy_from_slice(bytes);
                true
            }
            None => false,
        }
    }
}

/// The item header at `pos`: its tag when 4 bytes are there, and its length when 8 are.
fn header_at<V: ValueBytes + ?Sized>(
    data: &V,
    pos: usize,
    little: bool,
) -> Option<(u32, Option<u32>)> {
    let mut raw = [0u8; 8];
    if data.read_at(pos, &mut raw) {
        let [a, b, c, d, e, f, g, h] = raw;
        return Some((
            tag_of([a, b, c, d], little),
            Some(u32_of([e, f, g, h], little)),
        ));
    }
    let tag = &mut raw[..4];
    data.read_at(pos, tag)
        .then(|| (tag_of([tag[0], tag[1], tag[2], tag[3]], little), None))
}

/// The encapsulated value's items: the Basic Offset Table and the fragments' byte ranges
/// (item headers excluded, clamped to `data` as pydicom's reads are).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Items {
    /// Offsets of the Basic Offset Table (empty when it is).
    pub basic_offsets: Vec<u32>,
    /// Where the first fragment's item starts (just after the Basic Offset Table).
    pub first_fragment: usize,
    /// Fragment values.
    pub fragments: Vec<Range<usize>>,
    /// Offset of each fragment's item header from `first_fragment`.
    pub item_offsets: Vec<usize>,
    /// Where the walk met a Sequence Delimitation Item (None when it ran to the end of
    /// `data`).
    pub delimiter: Option<usize>,
}

/// Walk the items of an encapsulated value, or None where pydicom would raise.
pub fn items<V: ValueBytes + ?Sized>(data: &V, little: bool) -> Option<Items> {
    let (tag, length) = header_at(data, 0, little)?;
    if tag != ITEM {
        return None;
    }
    let length = length? as usize;
    if length % 4 != 0 || length > data.size().saturating_sub(8) {
        return None;
    }
    let mut table = vec![0u8; length];
    if !data.read_at(8, &mut table) {
        return None;
    }
    let basic_offsets = table
        .chunks_exact(4)
        .map(|c| u32_of([c[0], c[1], c[2], c[3]], little))
        .collect();
    let first_fragment = 8 + length;
    let mut fragments = Vec::new();
    let mut item_offsets = Vec::new();
    let mut pos = first_fragment;
    let mut delimiter = None;
    // pydicom stops at the delimiter or when fewer than 4 bytes are left for a tag.
    while let Some((tag, length)) = header_at(data, pos, little) {
        match tag {
            ITEM => {
                let length = length?;
                if length == u32::MAX {
                    return None;
                }
                let start = pos + 8;
                let end = start.saturating_add(length as usize);
                fragments.push(start.min(data.size())..end.min(data.size()));
                item_offsets.push(pos - first_fragment);
                pos = end;
            }
            SEQUENCE_DELIMITATION_ITEM => {
                delimiter = Some(pos);
                break;
            }
            _ => return None,
        }
    }
    Some(Items {
        basic_offsets,
        first_fragment,
        fragments,
        item_offsets,
        delimiter,
    })
}

/// Each frame's byte range in `data`, when every frame is one contiguous range: from the
/// Extended Offset Table (`extended`: offsets, lengths) when given, else one fragment per
/// frame. None when the layout is any other (pydicom then decides).
pub fn frame_ranges<V: ValueBytes + ?Sized>(
    data: &V,
    little: bool,
    number_of_frames: usize,
    extended: Option<(&[u64], &[u64])>,
) -> Option<Vec<Range<usize>>> {
    item_frame_ranges(
        items(data, little)?,
        data.size(),
        number_of_frames,
        extended,
    )
}

/// `frame_ranges` of a value of `size` bytes whose items are `items`.
pub fn item_frame_ranges(
    items: Items,
    size: usize,
    number_of_frames: usize,
    extended: Option<(&[u64], &[u64])>,
) -> Option<Vec<Range<usize>>> {
    if let Some((offsets, lengths)) = extended {
        // pydicom reads `length` bytes after each offset's item header, whatever the items.
        if offsets.len() != number_of_frames || lengths.len() != number_of_frames {
            return None;
        }
        let ranges = offsets
            .iter()
            .zip(lengths)
            .map(|(&offset, &length)| {
                let start = usize::try_from(offset)
                    .ok()?
                    .checked_add(items.first_fragment + 8)?;
                let end = start.checked_add(usize::try_from(length).ok()?)?;
                Some(start.min(size)..end.min(size))
            })
            .collect::<Option<Vec<_>>>()?;
        return Some(ranges);
    }
    if items.fragments.len() != number_of_frames || number_of_frames == 0 {
        return None;
    }
    if !items.basic_offsets.is_empty() {
        // The table must point at each fragment in turn, then every frame is one fragment.
        let agrees = items.basic_offsets.len() == number_of_frames
            && items
                .basic_offsets
                .iter()
                .zip(&items.item_offsets)
                .all(|(&table, &item)| table as usize == item);
        if !agrees {
            return None;
        }
    }
    Some(items.fragments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(value: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFE, 0xFF, 0x00, 0xE0];
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        out.extend_from_slice(value);
        out
    }

    fn encapsulate(table: &[u32], fragments: &[&[u8]]) -> Vec<u8> {
        let table: Vec<u8> = table.iter().flat_map(|o| o.to_le_bytes()).collect();
        let mut out = item(&table);
        for fragment in fragments {
            out.extend(item(fragment));
        }
        out
    }

    #[test]
    fn one_fragment_per_frame_with_or_without_table() {
        let data = encapsulate(&[], &[b"ab", b"cdef"]);
        let ranges = frame_ranges(&data[..], true, 2, None).unwrap();
        assert_eq!(&data[ranges[0].clone()], b"ab");
        assert_eq!(&data[ranges[1].clone()], b"cdef");
        let data = encapsulate(&[0, 10], &[b"ab", b"cdef"]);
        let ranges = frame_ranges(&data[..], true, 2, None).unwrap();
        assert_eq!(&data[ranges[1].clone()], b"cdef");
        // A table that disagrees, or frames spanning fragments: pydicom's business.
        assert_eq!(
            frame_ranges(&encapsulate(&[0, 4], &[b"ab", b"cd"])[..], true, 2, None),
            None
        );
        assert_eq!(
            frame_ranges(&encapsulate(&[], &[b"ab", b"cd", b"ef"])[..], true, 2, None),
            None
        );
    }

    #[test]
    fn extended_offsets_and_malformed_items() {
        let data = encapsulate(&[], &[b"abcd", b"ef"]);
        let ranges = frame_ranges(&data[..], true, 2, Some((&[0, 12], &[4, 2]))).unwrap();
        assert_eq!(&data[ranges[0].clone()], b"abcd");
        assert_eq!(&data[ranges[1].clone()], b"ef");
        // A stray tag, an undefined-length item, a bad table length.
        let mut bad = encapsulate(&[], &[b"ab"]);
        bad.extend_from_slice(&[0x08, 0x00, 0x10, 0x00]);
        assert_eq!(items(&bad[..], true), None);
        let mut undefined = encapsulate(&[], &[]);
        undefined.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(items(&undefined[..], true), None);
        assert_eq!(items(&item(b"abc")[..], true), None);
        // A fragment longer than the data is cut short, as pydicom's read is.
        let mut short = encapsulate(&[], &[b"abcd"]);
        short.truncate(short.len() - 2);
        let found = items(&short[..], true).unwrap();
        assert_eq!(&short[found.fragments[0].clone()], b"ab");
    }
}
