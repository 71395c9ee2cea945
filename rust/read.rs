//! Reading a file for `dcmread`: how much of it is read, and what stays mapped.
//!
//! Every header value ends up as owned bytes (a [`Store`]); only bulk values of a large file
//! stay in its mapping. The usual image file is settled by its first bytes (and, when a
//! little follows its pixel data, its last bytes), with its pixel data mapped untouched; a
//! small file is read whole; a large one is walked through a mapping whose pages the walk
//! lets go of as it passes, and its header ranges copied out.

use crate::errors::ParseError;
use crate::mapping::{FileId, Mapping};
use crate::parse::{self, ParsedFile, ReadOptions};
use crate::source::{header_ranges, read_exact_at, read_start, Store};
use std::fs::File;
use std::io;
use std::path::Path;

/// How much of a file is read, in turn, to find its header: most headers fit in the first
/// read (a page-cache copy costs less than a mapping's page faults); bigger ones get one
/// more try before the whole file is read or mapped.
const HEAD_READS: [usize; 2] = [8 * 1024, 64 * 1024];

/// Files up to this size that the head reads do not settle are read whole: a read costs
/// less than mapping, walking and copying the header out of the mapping.
pub const WHOLE_READ: u64 = 1024 * 1024;

/// The most bytes after the pixel data read to finish a header read from a file's first
/// bytes; a longer tail gets the file walked whole.
const TAIL_READ: usize = 64 * 1024;

/// A file read for a dataset: its bytes as the dataset keeps them, the walk, and the file's
/// identity when opened.
pub struct ReadFile {
    pub store: Store,
    pub parsed: ParsedFile,
    pub id: FileId,
}

/// Read and walk the file at `path` with `opts`. The outer error is the file's (it cannot be
/// opened or read), the inner the walk's.
pub fn read_file(path: &Path, opts: &ReadOptions) -> io::Result<Result<ReadFile, ParseError>> {
    read_file_with_limits(path, opts, &HEAD_READS, WHOLE_READ)
}

/// `read_file` with other head sizes and whole-read limit (tests and fuzzing take small
/// files down the paths of large ones).
pub fn read_file_with_limits(
    path: &Path,
    opts: &ReadOptions,
    heads: &[usize],
    whole_read: u64,
) -> io::Result<Result<ReadFile, ParseError>> {
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    let id = FileId::from_metadata(&metadata);
    let len = metadata.len();
    let file_len = usize::try_from(len).unwrap_or(usize::MAX);
    let owned = |bytes: Vec<u8>| {
        parse::parse_file(&bytes, opts).map(|parsed| ReadFile {
            store: Store::owned(bytes),
            parsed,
            id,
        })
    };
    for &limit in heads {
        let head = read_start(&file, len, limit)?;
        if head.len() == file_len {
            return Ok(owned(head));
        }
        if opts.stop_before_pixels {
            let head_len = head.len();
            match parse::parse_file(&head, opts) {
                Ok(parsed) if ends_within(&parsed, head_len) => {
                    let store = Store::owned(head);
                    return Ok(Ok(ReadFile { store, parsed, id }));
                }
                _ => continue,
            }
        }
        let mut tail = None;
        let parsed = parse::parse_file_from_head(&head, file_len, opts, |from| {
            let bytes = read_tail(&file, from, file_len)?;
            tail = Some((from, bytes.clone()));
            Some(bytes)
        });
        if let Some(parsed) = parsed {
            let mapping = Mapping::whole(&file, len, Some(path))?;
            let mut copies = vec![(0, &head[..])];
            copies.extend(tail.as_ref().map(|(from, bytes)| (*from, &bytes[..])));
            let store = Store::mapped(mapping, &header_ranges(&parsed, file_len), &copies);
            return Ok(Ok(ReadFile { store, parsed, id }));
        }
    }
    if len <= whole_read {
        return Ok(owned(read_start(&file, len, file_len)?));
    }
    let mapping = Mapping::whole(&file, len, Some(path))?;
    // The walk lets go of the pages it has passed: a file of garbage (a run of zero bytes
    // is a run of empty elements) then costs a few pages of memory, not its size.
    let parsed = parse::parse_file_reporting(mapping.bytes(), opts, &|walked| {
        mapping.release_before(walked)
    });
    Ok(parsed.map(|parsed| ReadFile {
        store: Store::mapped(mapping.clone(), &header_ranges(&parsed, file_len), &[]),
        parsed,
        id,
    }))
}

/// True when everything the walk read lies within the first `len` bytes, with room for
/// the longest element header after where it stopped; then those bytes alone give the
/// same walk as the whole file.
fn ends_within(parsed: &ParsedFile, len: usize) -> bool {
    parsed.inflated.is_none() && !parsed.overran && parsed.end.saturating_add(12) <= len
}

/// The bytes of `file` (of `len` bytes) from offset `from` to its end, when there are no
/// more than `TAIL_READ` of them.
fn read_tail(file: &File, from: usize, len: usize) -> Option<Vec<u8>> {
    let want = len.checked_sub(from).filter(|&n| n <= TAIL_READ)?;
    let mut bytes = vec![0; want];
    read_exact_at(file, &mut bytes, from).ok()?;
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Element;
    use crate::tags;
    use crate::tags::{ITEM, SEQUENCE_DELIMITATION_ITEM};
    use crate::test_support::{part10, Bytes};

    const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";

    /// Files that take each reading path: large pixel data (mapped), encapsulated data,
    /// elements after the pixel data, a large binary value, trailing zero bytes.
    fn files() -> Vec<Vec<u8>> {
        let pixels: Vec<u8> = (0..1_200_000u32).map(|i| (i % 241) as u8).collect();
        let header = |b: &mut Bytes| {
            b.explicit(tags::SPECIFIC_CHARACTER_SET, "CS", b"ISO_IR 100")
                .explicit(tags::PATIENT_NAME, "PN", b"Doe^J ")
                .explicit_undefined(tags::REFERENCED_SERIES_SEQUENCE, "SQ")
                .marker(ITEM, 0xFFFF_FFFF)
                .explicit(tags::REFERENCED_SOP_CLASS_UID, "UI", b"1.2.3\0")
                .marker(tags::ITEM_DELIMITATION_ITEM, 0)
                .marker(SEQUENCE_DELIMITATION_ITEM, 0)
                .explicit(tags::ROWS, "US", &2u16.to_le_bytes());
        };
        let mut files = Vec::new();
        for small in [false, true] {
            let pixels = if small { &pixels[..5000] } else { &pixels[..] };
            let mut b = part10(EXPLICIT_LE);
            header(&mut b);
            b.explicit(tags::PIXEL_DATA, "OW", pixels);
            files.push(b.0.clone());
            b.explicit(tags::DATA_SET_TRAILING_PADDING, "OB", &[0; 10]);
            files.push(b.0.clone());
            b.raw(&[0; 200_000]);
            files.push(b.0);
            let mut b = part10("1.2.840.10008.1.2.5");
            header(&mut b);
            b.explicit_undefined(tags::PIXEL_DATA, "OB")
                .marker(ITEM, 0)
                .marker(ITEM, pixels.len() as u32)
                .raw(pixels)
                .marker(SEQUENCE_DELIMITATION_ITEM, 0);
            files.push(b.0);
            let mut b = part10(EXPLICIT_LE);
            header(&mut b);
            b.explicit(tags::ENCAPSULATED_DOCUMENT, "OB", pixels)
                .explicit(tags::GRAPHIC_ANNOTATION_SEQUENCE, "LO", b"after ");
            files.push(b.0);
        }
        files
    }

    fn check_values(name: &str, store: &Store, data: &[u8], elements: &[Element]) {
        for e in elements {
            let range = e.value_offset..e.value_offset + e.value_len;
            let got = store.get(range.start, range.end).unwrap();
            assert_eq!(got, &data[range], "{name}: {:08X}", e.tag);
        }
    }

    #[test]
    fn every_value_reads_as_the_whole_walk_finds_it_and_headers_are_owned() {
        let dir = std::env::temp_dir().join(format!("dcmfast-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (n, data) in files().iter().enumerate() {
            let path = dir.join(format!("{n}.dcm"));
            for opts in [
                ReadOptions::pydicom_defaults(),
                ReadOptions {
                    stop_before_pixels: true,
                    ..ReadOptions::pydicom_defaults()
                },
            ] {
                let whole = parse::parse_file(data, &opts).unwrap();
                for (heads, whole_read) in
                    [(&HEAD_READS[..], WHOLE_READ), (&[64, 4096], 0), (&[], 0)]
                {
                    std::fs::write(&path, data).unwrap();
                    let read = read_file_with_limits(&path, &opts, heads, whole_read);
                    let read = read.unwrap().unwrap();
                    let name = format!("file {n}, heads {heads:?}");
                    assert_eq!(read.parsed, whole, "{name}");
                    check_values(&name, &read.store, data, &whole.dataset);
                    // Another writer empties the file: every header value is still there
                    // (a mapped one would be refused), and bulk values are refused.
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .unwrap()
                        .set_len(0)
                        .unwrap();
                    let header: Vec<Element> = whole
                        .meta
                        .iter()
                        .chain(&whole.dataset)
                        .filter(|e| e.value_len < crate::source::BULK_MIN)
                        .copied()
                        .collect();
                    check_values(&name, &read.store, data, &header);
                    assert_eq!(read.store.get(0, 128).unwrap(), &data[..128], "{name}");
                    let bulk = whole.dataset.iter().find(|e| e.value_len > 1_000_000);
                    if let (Some(bulk), Some(_)) = (bulk, read.store.mapping()) {
                        let end = bulk.value_offset + bulk.value_len;
                        assert!(read.store.get(bulk.value_offset, end).is_err(), "{name}");
                    }
                }
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
