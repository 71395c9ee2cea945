//! Byte sources.
//!
//! - [`Source`]: one contiguous run of a file's bytes, owned or mapped, for the loader,
//!   which keeps it while it reads frames.
//! - [`Store`]: where a dataset read by `dcmread` keeps its values for as long as it lives.
//!   Every header value is an owned copy; only bulk values (pixel data, large binary values)
//!   may stay in a mapping of the file. So nothing a header holds depends on the file
//!   staying as it was, and a mapping read after another writer changed the file is refused
//!   rather than read (see `mapping`).

use crate::mapping::{FileChanged, FileId, Mapping, MAP_ALIGN};
use crate::parse::{Element, ParsedFile, ValueKind, PIXEL_TAGS, UNDEFINED_LENGTH};
use crate::vr::Vr;
use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

/// Fill `buf` from `file` at `offset` (a positional read where the platform has one).
pub fn read_exact_at(file: &File, buf: &mut [u8], offset: usize) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(buf, offset as u64)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = file;
        file.seek(SeekFrom::Start(offset as u64))
            .and_then(|_| file.read_exact(buf))
    }
}

/// A file's bytes in one piece.
pub enum Source {
    /// A read-only private mapping of the whole file.
    Mapped(Arc<Mapping>),
    /// Bytes held in memory.
    Owned(Vec<u8>),
}

impl Source {
    /// The source's bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Source::Mapped(map) => map.bytes(),
            Source::Owned(vec) => vec,
        }
    }
}

/// Top-level values at least this long, of a binary VR or pixel data, stay in the file's
/// mapping (when it is mapped); every other value is copied.
pub const BULK_MIN: usize = 64 * 1024;

/// True for a top-level element whose value may stay in a mapping: pixel data, or a value
/// of a binary VR, at least `BULK_MIN` bytes long and read now (not a sequence or deferred).
fn is_bulk(element: &Element) -> bool {
    element.kind == ValueKind::Bytes
        && element.value_len >= BULK_MIN
        && (PIXEL_TAGS.contains(&element.tag) || element.vr.is_some_and(Vr::is_bytes))
}

/// The byte ranges of a file parsed as `parsed` (of `len` bytes) that a dataset reads its
/// header from: the preamble, and every element (its header, its value, and an undefined
/// length's delimiter) but the bulk and deferred ones, joined where only a few bytes lie
/// between them.
/// Bytes that are no element's (trailing padding, garbage after the end) are not included.
pub fn header_ranges(parsed: &ParsedFile, len: usize) -> Vec<Range<usize>> {
    /// Ranges this close are copied as one.
    const JOIN: usize = 64;
    let dataset = match parsed.inflated {
        Some(_) => &[][..], // the dataset is the inflated body, held apart
        None => &parsed.dataset[..],
    };
    let mut ranges: Vec<Range<usize>> = parsed
        .meta
        .iter()
        .chain(&parsed.command)
        // A deferred value is read again from the file by pydicom when accessed.
        .chain(
            dataset
                .iter()
                .filter(|e| !is_bulk(e) && e.kind != ValueKind::Deferred),
        )
        .map(|e| {
            let delimiter = if e.length == UNDEFINED_LENGTH { 8 } else { 0 };
            let end = e
                .value_offset
                .saturating_add(e.value_len)
                .saturating_add(delimiter);
            e.value_offset.saturating_sub(12)..end.min(len)
        })
        .chain(parsed.has_preamble.then_some(0..132.min(len)))
        .filter(|r| r.start < r.end)
        .collect();
    ranges.sort_unstable_by_key(|r| r.start);
    let mut joined: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match joined.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(JOIN) => {
                last.end = last.end.max(r.end)
            }
            _ => joined.push(r),
        }
    }
    // A bulk value between two joined ranges stays out of them.
    let bulk: Vec<Range<usize>> = dataset
        .iter()
        .filter(|e| is_bulk(e))
        .map(|e| e.value_offset..e.value_offset + e.value_len)
        .collect();
    joined.into_iter().flat_map(|r| cut_out(r, &bulk)).collect()
}

/// `range` less every range of `holes`.
fn cut_out(range: Range<usize>, holes: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut pieces = vec![range];
    for hole in holes {
        pieces = pieces
            .into_iter()
            .flat_map(|p| {
                if hole.end <= p.start || hole.start >= p.end {
                    return vec![p];
                }
                [p.start..hole.start, hole.end..p.end]
                    .into_iter()
                    .filter(|r| r.start < r.end)
                    .collect()
            })
            .collect();
    }
    pieces
}

/// A dataset's bytes: owned copies of the ranges header values are read from, and for bulk
/// values the file's mapping. Offsets are the byte stream's (the file's, or the owned bytes').
pub struct Store {
    /// Owned copies, by start offset, ascending and disjoint.
    owned: Vec<(usize, Vec<u8>)>,
    /// The whole file's mapping, holding every byte not owned.
    mapped: Option<Arc<Mapping>>,
    len: usize,
}

impl Store {
    /// All of `bytes`, owned.
    pub fn owned(bytes: Vec<u8>) -> Store {
        let len = bytes.len();
        Store {
            owned: vec![(0, bytes)],
            mapped: None,
            len,
        }
    }

    /// The file `mapping` shows, with copies of `ranges` (ascending, disjoint, within the
    /// mapping) taken from `copies` where it has them (bytes already read, by start
    /// offset), else from the mapping.
    pub fn mapped(
        mapping: Arc<Mapping>,
        ranges: &[Range<usize>],
        copies: &[(usize, &[u8])],
    ) -> Store {
        let bytes = mapping.bytes();
        let owned = ranges
            .iter()
            .map(|r| {
                let held = copies.iter().find_map(|(start, copy)| {
                    let from = r.start.checked_sub(*start)?;
                    copy.get(from..from + r.len())
                });
                (r.start, held.unwrap_or(&bytes[r.clone()]).to_vec())
            })
            .collect();
        Store {
            owned,
            len: bytes.len(),
            mapped: Some(mapping),
        }
    }

    /// The length of the byte stream.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for an empty stream.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The owned copy holding all of `start..end`, if one does.
    fn owned_range(&self, start: usize, end: usize) -> Option<&[u8]> {
        let i = self
            .owned
            .partition_point(|(s, _)| *s <= start)
            .checked_sub(1)?;
        let (s, bytes) = &self.owned[i];
        bytes.get(start - s..end - s)
    }

    /// Bytes `start..end`, cut to the stream's end: from an owned copy, or (bulk values)
    /// from the mapping once it is known that no other writer changed the file.
    pub fn get(&self, start: usize, end: usize) -> Result<&[u8], FileChanged> {
        let end = end.min(self.len);
        let start = start.min(end);
        if let Some(bytes) = self.owned_range(start, end) {
            return Ok(bytes);
        }
        match &self.mapped {
            Some(mapping) => {
                mapping.check()?;
                Ok(&mapping.bytes()[start..end])
            }
            None => Ok(&[]),
        }
    }

    /// Bytes `start..end` (cut to the stream's end) appended to `out`, piece by piece when
    /// they span owned copies and mapped bytes.
    pub fn copy_to(&self, start: usize, end: usize, out: &mut Vec<u8>) -> Result<(), FileChanged> {
        let end = end.min(self.len);
        let mut pos = start.min(end);
        while pos < end {
            let i = self.owned.partition_point(|(s, _)| *s <= pos);
            let within = i
                .checked_sub(1)
                .map(|i| &self.owned[i])
                .filter(|(s, b)| pos < s + b.len());
            let next = match within {
                Some((s, bytes)) => {
                    let stop = end.min(s + bytes.len());
                    out.extend_from_slice(&bytes[pos - s..stop - s]);
                    stop
                }
                None => {
                    let stop = self.owned.get(i).map_or(end, |(s, _)| end.min(*s));
                    out.extend_from_slice(self.get(pos, stop)?);
                    stop
                }
            };
            pos = next;
        }
        Ok(())
    }

    /// The file mapped for bulk values, if any.
    pub fn mapping(&self) -> Option<&Arc<Mapping>> {
        self.mapped.as_ref()
    }

    /// The path of the mapped file, when there is one.
    pub fn path(&self) -> Option<&Path> {
        self.mapped.as_ref().and_then(|m| m.path())
    }

    /// `start..start + len` copied into a new vector: read afresh from the mapped file (one
    /// positional read: cheaper than faulting the pages of a mapping in), or from the
    /// mapping when the path no longer names the mapped file or it is detached.
    pub fn read_bulk(&self, start: usize, len: usize) -> Result<Vec<u8>, FileChanged> {
        let mut bytes = vec![0; len];
        self.read_bulk_into(start, &mut bytes)?;
        Ok(bytes)
    }

    /// `read_bulk` into `out` (its length is the length read).
    pub fn read_bulk_into(&self, start: usize, out: &mut [u8]) -> Result<(), FileChanged> {
        let len = out.len();
        let end = start.saturating_add(len);
        if let Some(bytes) = self.owned_range(start, end) {
            out.copy_from_slice(bytes);
            return Ok(());
        }
        if let Some((file, id)) = self.open_mapped_file() {
            if let Some(mapping) = &self.mapped {
                mapping.check_file(&id)?;
            }
            if read_exact_at(&file, out, start).is_ok() {
                return Ok(());
            }
        }
        let bytes = self.get(start, end)?;
        if bytes.len() != len {
            let path = self.path().map(Path::to_path_buf).unwrap_or_default();
            return Err(FileChanged { path });
        }
        out.copy_from_slice(bytes);
        Ok(())
    }

    /// The mapped file (not detached) opened again by its path, with what it is now, when
    /// the path still names it (changed or not).
    fn open_mapped_file(&self) -> Option<(File, FileId)> {
        let mapping = self.mapped.as_ref().filter(|m| !m.is_detached())?;
        let file = File::open(mapping.path()?).ok()?;
        let id = FileId::of(&file).ok()?;
        mapping.shows(&id).then_some((file, id))
    }

    /// A fresh copy-on-write mapping of bytes `start..start + len` of the mapped file, or
    /// None when the path no longer names that file unchanged, the range is empty or out of
    /// bounds, or the file cannot be mapped: the caller then copies.
    pub fn private_range(&self, start: usize, len: usize) -> Option<PrivateRange> {
        let mapping = self.mapped.as_ref()?;
        let end = start.checked_add(len)?;
        if len == 0 || end > self.len {
            return None;
        }
        let (file, id) = self.open_mapped_file()?;
        mapping.check_file(&id).ok()?;
        // Mapping offsets must be aligned; map from the aligned offset before `start`.
        let aligned = start - start % MAP_ALIGN;
        let skip = start - aligned;
        let map = Mapping::private_range(&file, aligned as u64, skip + len, mapping.path()).ok()?;
        Some(PrivateRange { map, skip, len })
    }
}

/// A private, writable mapping of a byte range of a file: `len` bytes from `skip` bytes into
/// the mapping (which starts on an aligned offset).
pub struct PrivateRange {
    map: Arc<Mapping>,
    skip: usize,
    len: usize,
}

impl PrivateRange {
    /// The range's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.map.bytes()[self.skip..self.skip + self.len]
    }

    /// A pointer to the range's first byte, writable (writes stay in this process's private
    /// pages), and its length.
    pub fn as_mut_ptr(&self) -> (*mut u8, usize) {
        let base = self
            .map
            .bytes_mut_ptr()
            .expect("a private range is mapped writable");
        (base.wrapping_add(self.skip), self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_span_owned_and_mapped_bytes() {
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        let path = std::env::temp_dir().join(format!("dcmfast-store-{}", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let file = File::open(&path).unwrap();
        let mapping = Mapping::whole(&file, bytes.len() as u64, Some(&path)).unwrap();
        let store = Store::mapped(mapping, &[0..100, 150_000..150_010], &[(0, &bytes[..50])]);
        assert_eq!(store.get(10, 20).unwrap(), &bytes[10..20]);
        assert_eq!(
            store.get(150_002, 150_004).unwrap(),
            &bytes[150_002..150_004]
        );
        let mut out = Vec::new();
        store.copy_to(90, 150_005, &mut out).unwrap();
        assert_eq!(out, &bytes[90..150_005]);
        assert_eq!(
            store.read_bulk(70_000, 1000).unwrap(),
            &bytes[70_000..71_000]
        );
        assert_eq!(store.read_bulk(10, 20).unwrap(), &bytes[10..30]);
        let range = store.private_range(100_000, 5000).unwrap();
        assert_eq!(range.bytes(), &bytes[100_000..105_000]);
        std::fs::remove_file(&path).unwrap();
    }
}
