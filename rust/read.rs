//! Reading files: opening them, and how much of each is read before it is walked.
//!
//! `dcmread` ([`read_file`]), the bulk scanner and the loader read files by one logic,
//! [`settle`]: a file's first bytes are read in growing reads (each reader gives its own
//! sizes), and after each the reader's walk says whether those bytes settle the file (the
//! test they share is [`ends_within`]); a file no head settles is read whole when it is small,
//! else mapped.
//!
//! For `dcmread`, every header value ends up as owned bytes (a [`Store`]); only bulk values
//! of a large file stay in its mapping. The usual image file is settled by its first bytes
//! (and, when a little follows its pixel data, its last bytes), with its pixel data mapped
//! untouched; a small file is read whole; a large one is walked through a mapping whose pages
//! the walk lets go of as it passes, and its header ranges copied out.

use crate::errors::ParseError;
use crate::mapping::{FileId, Mapping};
use crate::parse::{self, ParsedFile, ReadOptions};
use crate::source::{header_ranges, read_exact_at, Store};
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

/// Open `path` for reading without blocking in `open`: a named pipe with no writer would
/// block a plain open forever (and a read of one with a writer but no data). Reads of
/// regular files and directories are unaffected; callers check the file type (see
/// `not_regular`) before trusting what a read gives.
pub fn open_nonblocking(path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(path)
    }
    #[cfg(not(unix))]
    {
        File::open(path)
    }
}

/// The error for a file that is neither a regular file nor a directory (a named pipe, a
/// socket, a device): none of them is read, since a read may block or never end.
pub fn not_regular(file_type: std::fs::FileType) -> Option<&'static str> {
    if file_type.is_file() || file_type.is_dir() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("not a regular file: a named pipe (FIFO)");
        }
        if file_type.is_socket() {
            return Some("not a regular file: a socket");
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return Some("not a regular file: a device");
        }
    }
    Some("not a regular file")
}

/// How a reader reads a file: the sizes its first bytes are read up to, in turn (ascending),
/// and the longest file no head settles that it reads whole rather than maps.
#[derive(Debug, Clone, Copy)]
pub struct HeadReads<'a> {
    /// How many of the file's first bytes each read has read, in all.
    pub heads: &'a [usize],
    /// The longest file read whole when no head settles it; a longer one is mapped.
    pub whole_read: u64,
}

/// Where [`settle`] found a file's bytes.
pub enum Settled<T> {
    /// A head settled the file: what the walk made of it. The head is in the buffer.
    Head(T),
    /// All of the file is in the buffer.
    Whole,
    /// The file is mapped whole.
    Mapped(Arc<Mapping>),
    /// No head settled a file that is not a regular one (a device): it is read no further.
    NotRegular(&'static str),
}

/// Read the start of `file` into `buf` in growing reads, up to each of `reads.heads` bytes
/// in turn, asking `walk` after each whether those bytes settle the file (`Some`: what it
/// made of them) or more are needed (`None`). A file no head settles is read whole into
/// `buf` when it is at most `reads.whole_read` bytes long, else mapped (recording `path`).
/// `walk` is not asked about the file's last bytes: they are `Settled::Whole`.
///
/// With the file's metadata (`meta`), reads stop at its length. Without it, the file ends
/// where a read comes up short, and its metadata is looked up only when no head settles it:
/// a file its head settles costs no `fstat`. Reads go on from the file's cursor (a file
/// just opened is read from its start), each head only adding to the one before.
pub fn settle<T, E: From<io::Error>>(
    file: &File,
    meta: Option<&Metadata>,
    path: Option<&Path>,
    reads: HeadReads,
    buf: &mut Vec<u8>,
    mut walk: impl FnMut(&[u8]) -> Result<Option<T>, E>,
) -> Result<Settled<T>, E> {
    buf.clear();
    let len = meta.map(|meta| usize::try_from(meta.len()).unwrap_or(usize::MAX));
    for &head in reads.heads {
        let want = head
            .min(len.unwrap_or(usize::MAX))
            .saturating_sub(buf.len());
        let got = read_more(file, buf, want)?;
        let whole = match len {
            Some(len) => buf.len() >= len,
            None => got < want,
        };
        if whole {
            return Ok(Settled::Whole);
        }
        if let Some(settled) = walk(buf)? {
            return Ok(Settled::Head(settled));
        }
    }
    let looked_up;
    let meta = match meta {
        Some(meta) => meta,
        None => {
            looked_up = file.metadata()?;
            &looked_up
        }
    };
    if let Some(what) = not_regular(meta.file_type()) {
        return Ok(Settled::NotRegular(what));
    }
    if meta.len() <= reads.whole_read {
        // The file is its first `len` bytes, even where more were read (a file of /proc
        // tells a length of 0).
        let len = usize::try_from(meta.len()).unwrap_or(usize::MAX);
        buf.truncate(len);
        read_more(file, buf, len - buf.len())?;
        return Ok(Settled::Whole);
    }
    Ok(Settled::Mapped(Mapping::whole(file, meta.len(), path)?))
}

/// Append up to `want` more bytes of `file`, from its cursor, to `buf`; how many came.
fn read_more(file: &File, buf: &mut Vec<u8>, want: usize) -> io::Result<usize> {
    buf.reserve_exact(want);
    file.take(want as u64).read_to_end(buf)
}

/// True when everything the walk read lies within the first `len` bytes, with room for
/// the longest element header after where it stopped; then those bytes alone give the
/// same walk as the whole file. Never for a deflated file: its walk ends at the file's end.
pub fn ends_within(parsed: &ParsedFile, len: usize) -> bool {
    parsed.inflated.is_none() && !parsed.overran && parsed.end.saturating_add(12) <= len
}

/// How `dcmread` reads a file: most headers fit in the first read (a page-cache copy costs
/// less than a mapping's page faults); bigger ones get one more try. Files up to the
/// whole-read limit that the heads do not settle are read whole: a read costs less than
/// mapping, walking and copying the header out of the mapping.
pub const DATASET_READS: HeadReads<'static> = HeadReads {
    heads: &[8 * 1024, 64 * 1024],
    whole_read: 1024 * 1024,
};

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
    read_file_with_limits(path, opts, DATASET_READS)
}

/// `read_file` with other head sizes and whole-read limit (tests and fuzzing take small
/// files down the paths of large ones).
pub fn read_file_with_limits(
    path: &Path,
    opts: &ReadOptions,
    reads: HeadReads,
) -> io::Result<Result<ReadFile, ParseError>> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    let id = FileId::from_metadata(&meta);
    let file_len = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    let mut buf = Vec::new();
    let settled = settle(&file, Some(&meta), Some(path), reads, &mut buf, |head| {
        Ok::<_, io::Error>(walk_head(&file, head, file_len, opts))
    })?;
    let read = |store, parsed| ReadFile { store, parsed, id };
    Ok(match settled {
        Settled::Head(HeadWalk::Within(parsed)) => Ok(read(Store::owned(buf), parsed)),
        Settled::Head(HeadWalk::AroundPixels(parsed, tail)) => {
            let mapping = Mapping::whole(&file, meta.len(), Some(path))?;
            let mut copies = vec![(0, &buf[..])];
            copies.extend(tail.as_ref().map(|(from, bytes)| (*from, &bytes[..])));
            let store = Store::mapped(mapping, &header_ranges(&parsed, file_len), &copies);
            Ok(read(store, parsed))
        }
        Settled::Whole => {
            parse::parse_file(&buf, opts).map(|parsed| read(Store::owned(buf), parsed))
        }
        Settled::Mapped(mapping) => {
            // The walk lets go of the pages it has passed: a file of garbage (a run of zero
            // bytes is a run of empty elements) then costs a few pages of memory, not its size.
            let parsed = parse::parse_file_reporting(mapping.bytes(), opts, &|walked| {
                mapping.release_before(walked)
            });
            parsed.map(|parsed| {
                let ranges = header_ranges(&parsed, file_len);
                read(Store::mapped(mapping.clone(), &ranges, &[]), parsed)
            })
        }
        Settled::NotRegular(what) => return Err(io::Error::other(what)),
    })
}

/// What a head of a file settles for a dataset.
enum HeadWalk {
    /// The whole walk lies within the head, which holds the dataset's bytes.
    Within(ParsedFile),
    /// The walk went on after the pixel data (its value left in the file), through the tail
    /// read after it (offset, bytes), if any.
    AroundPixels(ParsedFile, Option<(usize, Vec<u8>)>),
}

/// What `head`, the first bytes of `file` (of `file_len` bytes), settles for a dataset read
/// with `opts`, if anything.
fn walk_head(file: &File, head: &[u8], file_len: usize, opts: &ReadOptions) -> Option<HeadWalk> {
    if opts.stop_before_pixels {
        let parsed = parse::parse_file(head, opts).ok()?;
        return ends_within(&parsed, head.len()).then_some(HeadWalk::Within(parsed));
    }
    let mut tail = None;
    let parsed = parse::parse_file_from_head(head, file_len, opts, |from| {
        let bytes = read_tail(file, from, file_len)?;
        tail = Some((from, bytes.clone()));
        Some(bytes)
    })?;
    Some(HeadWalk::AroundPixels(parsed, tail))
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

    /// A directory of its own for one test's files, removed when dropped.
    struct TempDir(std::path::PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!("dcmfast-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn file(&self, name: &str, bytes: &[u8]) -> std::path::PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const SCAN_LIKE: HeadReads<'static> = HeadReads {
        heads: &[8 * 1024, 64 * 1024],
        whole_read: 0,
    };

    /// `settle` of the file at `path` (its metadata given or not) with a walk that settles
    /// on the head of `settles_at` bytes, if any: what it gave, the buffer, and the length of
    /// every head the walk was asked about.
    fn settle_file(
        path: &Path,
        with_meta: bool,
        reads: HeadReads,
        settles_at: Option<usize>,
    ) -> io::Result<(Settled<usize>, Vec<u8>, Vec<usize>)> {
        let file = open_nonblocking(path)?;
        let meta = file.metadata()?;
        let mut buf = Vec::new();
        let mut asked = Vec::new();
        let settled = settle(
            &file,
            with_meta.then_some(&meta),
            None,
            reads,
            &mut buf,
            |head| {
                asked.push(head.len());
                Ok::<_, io::Error>((Some(head.len()) == settles_at).then_some(head.len()))
            },
        )?;
        Ok((settled, buf, asked))
    }

    #[test]
    fn a_head_that_settles_ends_the_reads() {
        let dir = TempDir::new("settle-head");
        let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        let path = dir.file("a", &data);
        for with_meta in [false, true] {
            let (settled, buf, asked) =
                settle_file(&path, with_meta, SCAN_LIKE, Some(8192)).unwrap();
            assert!(matches!(settled, Settled::Head(8192)));
            assert_eq!((buf, asked), (data[..8192].to_vec(), vec![8192]));
            let (settled, buf, asked) =
                settle_file(&path, with_meta, SCAN_LIKE, Some(65536)).unwrap();
            assert!(matches!(settled, Settled::Head(65536)));
            assert_eq!((buf, asked), (data[..65536].to_vec(), vec![8192, 65536]));
        }
    }

    #[test]
    fn a_file_no_head_settles_is_mapped_or_read_whole() {
        let dir = TempDir::new("settle-none");
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let path = dir.file("a", &data);
        for with_meta in [false, true] {
            let (settled, _, asked) = settle_file(&path, with_meta, SCAN_LIKE, None).unwrap();
            let Settled::Mapped(mapping) = settled else {
                panic!("not mapped")
            };
            assert_eq!((mapping.bytes(), asked), (&data[..], vec![8192, 65536]));
            let reads = HeadReads {
                whole_read: 100_000,
                ..SCAN_LIKE
            };
            let (settled, buf, asked) = settle_file(&path, with_meta, reads, None).unwrap();
            assert!(matches!(settled, Settled::Whole));
            assert_eq!((buf, asked), (data.clone(), vec![8192, 65536]));
        }
    }

    #[test]
    fn a_file_shorter_than_a_head_is_whole_without_a_walk_of_it() {
        let dir = TempDir::new("settle-short");
        for len in [0, 5000, 8192, 20_000] {
            let data = vec![7; len];
            let path = dir.file("a", &data);
            for with_meta in [false, true] {
                let (settled, buf, asked) = settle_file(&path, with_meta, SCAN_LIKE, None).unwrap();
                assert!(matches!(settled, Settled::Whole), "{len} bytes");
                assert_eq!(buf, data, "{len} bytes");
                // A file of exactly one head's length ends there by its metadata; without
                // it, the next read finds the end (the walk was asked about the head).
                let partial = len > 8192 || (len == 8192 && !with_meta);
                assert_eq!(asked, if partial { vec![8192] } else { vec![] });
            }
        }
    }

    #[test]
    fn a_walk_that_grows_past_a_head_settles_on_a_longer_one() {
        let dir = TempDir::new("settle-walk");
        let sbp = ReadOptions {
            stop_before_pixels: true,
            ..ReadOptions::pydicom_defaults()
        };
        // A header longer than the first head, then longer than every head.
        for private in [20_000, 100_000] {
            let mut b = part10(EXPLICIT_LE);
            b.explicit(tags::PATIENT_NAME, "PN", b"Doe^J ")
                .explicit(0x0009_1010, "OB", &vec![1; private])
                .explicit(tags::PIXEL_DATA, "OW", &[0; 200_000]);
            let path = dir.file("a", &b.0);
            let whole = parse::parse_file(&b.0, &sbp).unwrap();
            for with_meta in [false, true] {
                let file = open_nonblocking(&path).unwrap();
                let meta = file.metadata().unwrap();
                let (mut buf, mut asked) = (Vec::new(), Vec::new());
                let meta = with_meta.then_some(&meta);
                let settled = settle(&file, meta, None, SCAN_LIKE, &mut buf, |head| {
                    asked.push(head.len());
                    let parsed = parse::parse_file(head, &sbp).ok();
                    Ok::<_, io::Error>(parsed.filter(|p| ends_within(p, head.len())))
                });
                match settled.unwrap() {
                    Settled::Head(parsed) => {
                        assert_eq!(private, 20_000);
                        assert_eq!(parsed, whole);
                    }
                    Settled::Mapped(mapping) => {
                        assert_eq!(private, 100_000);
                        assert_eq!(parse::parse_file(mapping.bytes(), &sbp).unwrap(), whole);
                    }
                    _ => panic!("neither settled nor mapped"),
                }
                assert_eq!(asked, vec![8192, 65536]);
            }
        }
    }

    #[test]
    fn only_a_walk_that_ends_within_the_head_is_the_whole_walk() {
        let sbp = ReadOptions {
            stop_before_pixels: true,
            ..ReadOptions::pydicom_defaults()
        };
        let mut b = part10(EXPLICIT_LE);
        b.explicit(tags::PATIENT_NAME, "PN", b"Doe^J ")
            .explicit_undefined(tags::REFERENCED_SERIES_SEQUENCE, "SQ")
            .marker(ITEM, 0xFFFF_FFFF)
            .explicit(tags::REFERENCED_SOP_CLASS_UID, "UI", b"1.2.3\0")
            .marker(tags::ITEM_DELIMITATION_ITEM, 0)
            .marker(SEQUENCE_DELIMITATION_ITEM, 0)
            .explicit(tags::ROWS, "US", &2u16.to_le_bytes())
            .explicit(tags::PIXEL_DATA, "OW", &[0; 64]);
        let whole = parse::parse_file(&b.0, &sbp).unwrap();
        let mut settled = 0;
        for cut in 0..=b.0.len() {
            let head = &b.0[..cut];
            let Ok(parsed) = parse::parse_file(head, &sbp) else {
                continue;
            };
            if ends_within(&parsed, cut) {
                assert_eq!(parsed, whole, "cut at {cut}");
                settled += 1;
            }
        }
        // Settled from the Pixel Data header (12 bytes) on.
        assert_eq!(settled, b.0.len() - whole.end - 11);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_device_no_head_settles_is_not_read_further_and_a_pipe_ends_at_once() {
        let (settled, buf, asked) =
            settle_file(Path::new("/dev/zero"), false, SCAN_LIKE, None).unwrap();
        let Settled::NotRegular(what) = settled else {
            panic!("read as a regular file")
        };
        assert_eq!(what, "not a regular file: a device");
        assert_eq!((buf.len(), asked), (65536, vec![8192, 65536]));
        // A named pipe with no writer reads as empty (without blocking), as a whole file:
        // its readers look at its type when a file is too short to be DICOM.
        let dir = TempDir::new("settle-fifo");
        let fifo = dir.0.join("fifo");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR,
        )
        .unwrap();
        let (settled, buf, asked) = settle_file(&fifo, false, SCAN_LIKE, None).unwrap();
        assert!(matches!(settled, Settled::Whole));
        assert_eq!((buf.len(), asked.len()), (0, 0));
    }

    #[test]
    fn a_directory_is_an_error_of_its_kind() {
        let dir = TempDir::new("settle-dir");
        for with_meta in [false, true] {
            let err = settle_file(&dir.0, with_meta, SCAN_LIKE, None)
                .err()
                .unwrap();
            assert_eq!(err.kind(), io::ErrorKind::IsADirectory);
        }
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
                for reads in [
                    DATASET_READS,
                    HeadReads {
                        heads: &[64, 4096],
                        whole_read: 0,
                    },
                    HeadReads {
                        heads: &[],
                        whole_read: 0,
                    },
                ] {
                    std::fs::write(&path, data).unwrap();
                    let read = read_file_with_limits(&path, &opts, reads);
                    let read = read.unwrap().unwrap();
                    let name = format!("file {n}, heads {:?}", reads.heads);
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
