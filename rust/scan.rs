//! The bulk scanner: chosen elements of many files, read in parallel, from as few header bytes
//! as the wanted tags need. Pixel data is never read.
//!
//! Each file is read in growing steps (a few KiB, then more, then a mapping: see
//! `read::settle`) until the walk, which goes on to the pixel data (top-level tags need not
//! ascend, and pydicom reads them all), fits in what was read. Values come back as
//! owned bytes with their VR and byte order; turning them into Python values is the binding
//! layer's job.

use crate::charset::Charset;
use crate::dictionary;
use crate::errors::{ParseError, NOT_DICOM};
use crate::parse::{self, Element, Encoding, ReadOptions, ValueKind};
use crate::read::{self, HeadReads, Settled};
use crate::tags::SPECIFIC_CHARACTER_SET;
use crate::values::{self, Text, Value as Decoded};
use crate::vr::Vr;
use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Mutex;

/// The preamble and `DICM`: a file shorter than this is read as a bare dataset (forced).
const PREAMBLE_AND_PREFIX: usize = 132;

/// Bytes read before each walk of a file, in turn; past the last, the file is mapped. The
/// walk goes on to the pixel data, and a CT's header (Pixel Data at about 6 KiB in
/// pydicom's CT_small.dcm and the bench corpus made from it) fits the first read.
const READS: HeadReads<'static> = HeadReads {
    heads: &[8 * 1024, 64 * 1024],
    whole_read: 0,
};

/// One wanted element: `items` name the sequence item to enter at each level (a tag and an
/// item index), `tag` the element in the innermost dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPath {
    pub items: Vec<(u32, usize)>,
    pub tag: u32,
}

impl TagPath {
    /// The top-level tag the path starts from.
    pub fn first_tag(&self) -> u32 {
        self.items.first().map_or(self.tag, |(tag, _)| *tag)
    }
}

/// A value found: its bytes as stored, the VR to convert it with (`None` when the walk could
/// not tell: implicit VR and no dictionary entry), and its encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<'a> {
    pub tag: u32,
    /// The VR as read (None when implicit).
    pub raw_vr: Option<Vr>,
    /// The VR pydicom would convert with, where the walk alone can tell.
    pub vr: Option<Vr>,
    pub bytes: &'a [u8],
    pub encoding: Encoding,
}

/// A value left for pydicom: its element as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawValue {
    pub tag: u32,
    /// The VR as read (None when implicit).
    pub vr: Option<Vr>,
    pub bytes: Vec<u8>,
    pub encoding: Encoding,
}

/// A value as a plain Python value would hold it.
#[derive(Debug, Clone, PartialEq)]
pub enum Plain {
    /// pydicom's empty value for binary numbers and AT.
    Empty,
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    /// More than one value.
    List(Vec<Plain>),
}

/// A wanted element of one file: converted here, or left for pydicom (its bytes as found).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Plain(Plain),
    Raw(RawValue),
}

/// What one file gave: a value (or None) per wanted path, and its (0008,0005) bytes when a
/// raw value needs them.
#[derive(Debug, Clone, PartialEq)]
pub struct FileValues {
    pub values: Vec<Option<Value>>,
    pub charset: Option<Vec<u8>>,
}

/// Why a file gave no values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanError {
    /// Not a DICOM file (no preamble and prefix, and `force` not given).
    NotDicom,
    /// The path is a directory (the caller lists it).
    Directory,
    /// The file could not be read: the OS error number, when there is one, and the
    /// message (the OS's text for the number, as Python's `strerror`).
    Io { errno: Option<i32>, message: String },
    /// Not a regular file (a named pipe, a socket, a device): not read.
    NotRegular(&'static str),
    /// The walk met bytes pydicom reads with a warning, or refuses: pydicom decides.
    Irregular(String),
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanError::NotDicom => f.write_str(NOT_DICOM),
            ScanError::Directory => f.write_str("is a directory"),
            ScanError::Io { message, .. } | ScanError::Irregular(message) => f.write_str(message),
            ScanError::NotRegular(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for ScanError {}

impl From<io::Error> for ScanError {
    fn from(err: io::Error) -> Self {
        match err.kind() {
            io::ErrorKind::IsADirectory => ScanError::Directory,
            _ => {
                let errno = err.raw_os_error();
                let text = err.to_string();
                // io::Error shows an OS error as "<strerror> (os error N)".
                let message = match errno {
                    Some(n) => text
                        .strip_suffix(&format!(" (os error {n})"))
                        .unwrap_or(&text)
                        .to_string(),
                    None => text,
                };
                ScanError::Io { errno, message }
            }
        }
    }
}

impl From<ParseError> for ScanError {
    fn from(err: ParseError) -> Self {
        match err {
            ParseError::NotDicom => ScanError::NotDicom,
            other => ScanError::Irregular(other.to_string()),
        }
    }
}

/// What to read from every file.
#[derive(Debug, Clone)]
pub struct Plan {
    paths: Vec<TagPath>,
    /// The dictionary VR of each path's tag: looked up once, not for every implicit-VR file.
    dictionary_vrs: Vec<Option<Vr>>,
    opts: ReadOptions,
    /// pydicom's `use_none_as_empty_text_VR_value`: empty text is None, not ''.
    empty_text_is_none: bool,
}

impl Plan {
    /// A plan for `paths`, read with `opts` as pydicom's reader options (force and the VR
    /// settings); the scan sets what else it needs.
    pub fn new(paths: Vec<TagPath>, opts: ReadOptions, empty_text_is_none: bool) -> Plan {
        let mut wanted: Vec<u32> = paths.iter().map(TagPath::first_tag).collect();
        wanted.push(SPECIFIC_CHARACTER_SET);
        wanted.sort_unstable();
        wanted.dedup();
        // The walk goes on to the pixel data: tags need not ascend, and pydicom finds
        // every element, the last of repeated ones (its dataset is a dict).
        let opts = ReadOptions {
            stop_before_pixels: true,
            specific_tags: Some(wanted),
            defer_size: None,
            ..opts
        };
        let dictionary_vrs = paths
            .iter()
            .map(|path| dictionary::dictionary_vr(path.tag))
            .collect();
        Plan {
            paths,
            dictionary_vrs,
            opts,
            empty_text_is_none,
        }
    }
}

/// One file's result, with its index in the scanned paths.
pub type Outcome = (usize, Result<FileValues, ScanError>);

/// Files a thread takes at a time (and hands on together: fewer wake-ups of the consumer).
const CHUNK: usize = 64;

/// Scan `paths` on `workers` threads: the calling thread and `workers - 1` more. Every file's
/// outcome reaches `consume` on the calling thread (in no set order), which between its own
/// chunks takes what the others have found, so the consumer's work overlaps the scanning
/// without a thread more than `workers`. `scan_here` runs the calling thread's chunks and
/// `wait` its waits for the others' (the binding layer releases the GIL in both). An error
/// from `consume` stops the scan and is returned.
///
/// The other threads' outcomes are dropped only after the scan (memory for one batch of
/// paths): freeing memory another thread is allocating from makes the allocator take that
/// thread's lock, and doing it file by file kept two workers well short of twice one.
pub fn scan_files<E>(
    paths: &[PathBuf],
    plan: &Plan,
    workers: usize,
    scan_here: impl Fn(Range<usize>) -> Vec<Outcome>,
    wait: impl Fn(&Mutex<Receiver<Vec<Outcome>>>) -> Option<Vec<Outcome>>,
    mut consume: impl FnMut(&Outcome) -> Result<(), E>,
) -> Result<(), E> {
    let next = AtomicUsize::new(0);
    let claim = || {
        let start = next.fetch_add(CHUNK, Ordering::Relaxed).min(paths.len());
        start..paths.len().min(start + CHUNK)
    };
    // Bounded, so memory stays bounded when `consume` is the slower side.
    let (sender, receiver) = mpsc::sync_channel::<Vec<Outcome>>(workers.max(1) * 4);
    let receiver = Mutex::new(receiver);
    let others = workers.clamp(1, paths.len().div_ceil(CHUNK).max(1)) - 1;
    let mut received = Vec::new();
    std::thread::scope(|scope| {
        for _ in 0..others {
            let sender = sender.clone();
            scope.spawn(move || loop {
                let range = claim();
                if range.is_empty() || sender.send(scan_range(paths, plan, range)).is_err() {
                    break; // all claimed, or the consumer stopped
                }
            });
        }
        drop(sender);
        let result = (|| {
            loop {
                let ready: Vec<_> = {
                    let receiver = receiver.lock().unwrap_or_else(|e| e.into_inner());
                    receiver.try_iter().collect()
                };
                for chunk in ready {
                    chunk.iter().try_for_each(&mut consume)?;
                    received.push(chunk);
                }
                let range = claim();
                if range.is_empty() {
                    break;
                }
                scan_here(range).iter().try_for_each(&mut consume)?;
            }
            while let Some(chunk) = wait(&receiver) {
                chunk.iter().try_for_each(&mut consume)?;
                received.push(chunk);
            }
            Ok(())
        })();
        // Workers blocked on a full channel see it closed and stop.
        drop(receiver);
        result
    })
}

/// Scan the files of `paths` in `range`.
pub fn scan_range(paths: &[PathBuf], plan: &Plan, range: Range<usize>) -> Vec<Outcome> {
    let mut opener = Opener::default();
    let mut head = Vec::new();
    range
        .map(|i| {
            let outcome = opener.open(&paths[i]).map_err(ScanError::from);
            (
                i,
                outcome.and_then(|file| scan_file(file, plan, READS, &mut head)),
            )
        })
        .collect()
}

/// Scan the file at `path`, read as `reads` says (tests and fuzzing take small files down
/// the paths of large ones).
pub fn scan_path_with_reads(
    path: &Path,
    plan: &Plan,
    reads: HeadReads,
) -> Result<FileValues, ScanError> {
    let file = read::open_nonblocking(path)?;
    scan_file(file, plan, reads, &mut Vec::new())
}

/// Opens files one after another, relative to their directory when the previous file was
/// in the same one: the kernel then looks up one name, not every component of the path.
/// That saves time on every open of a deep path, and two scanning threads no longer meet in
/// the same directories' lookups (benches/report_scan.py, 1 vs 2 workers).
#[derive(Default)]
struct Opener {
    /// The previous file's directory, and a handle on it once two files shared it.
    #[cfg(unix)]
    directory: Option<(PathBuf, Option<rustix::fd::OwnedFd>)>,
}

impl Opener {
    #[cfg(unix)]
    fn open(&mut self, path: &Path) -> io::Result<File> {
        use rustix::fs::{Mode, OFlags};
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return read::open_nonblocking(path);
        };
        match &mut self.directory {
            Some((previous, handle)) if previous == parent => {
                if handle.is_none() {
                    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
                    let dir = if parent.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        parent
                    };
                    *handle = rustix::fs::open(dir, flags, Mode::empty()).ok();
                }
                match handle {
                    // The flags std's File::open uses, and `open_nonblocking`'s.
                    Some(dir) => rustix::fs::openat(
                        &*dir,
                        name,
                        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK,
                        Mode::empty(),
                    )
                    .map(File::from)
                    .map_err(io::Error::from),
                    None => read::open_nonblocking(path),
                }
            }
            _ => {
                self.directory = Some((parent.to_path_buf(), None));
                read::open_nonblocking(path)
            }
        }
    }

    #[cfg(not(unix))]
    fn open(&mut self, path: &Path) -> io::Result<File> {
        read::open_nonblocking(path)
    }
}

/// Receive the next outcomes (None when every worker is done).
pub fn next_outcomes(receiver: &Mutex<Receiver<Vec<Outcome>>>) -> Option<Vec<Outcome>> {
    receiver
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .recv()
        .ok()
}

/// Scan one file opened without blocking (see `Opener`). A file that is not a regular one
/// (a named pipe, a device) is an error whatever a read of it gave; its type is looked up
/// only when the file is too short for DICOM or gave an error, so a regular file costs
/// no `fstat`.
fn scan_file(
    file: File,
    plan: &Plan,
    reads: HeadReads,
    head: &mut Vec<u8>,
) -> Result<FileValues, ScanError> {
    let not_regular = |file: &File| match file.metadata() {
        Ok(meta) if meta.is_dir() => Some(ScanError::Directory),
        Ok(meta) => read::not_regular(meta.file_type()).map(ScanError::NotRegular),
        Err(_) => None,
    };
    let outcome = scan_opened(&file, plan, reads, head);
    if outcome.is_err() || head.len() < PREAMBLE_AND_PREFIX {
        if let Some(err) = not_regular(&file) {
            return Err(err);
        }
    }
    outcome
}

/// Scan one opened file, read into `head` (a buffer kept from file to file, so reading
/// allocates nothing).
fn scan_opened(
    file: &File,
    plan: &Plan,
    reads: HeadReads,
    head: &mut Vec<u8>,
) -> Result<FileValues, ScanError> {
    let whole = |bytes: &[u8]| {
        values_in(bytes, plan, false)?
            .ok_or_else(|| ScanError::Irregular("header walk did not settle".into()))
    };
    match read::settle(file, None, None, reads, head, |bytes| {
        values_in(bytes, plan, true)
    })? {
        Settled::Head(values) => Ok(values),
        Settled::Whole => whole(head),
        Settled::Mapped(mapping) => whole(mapping.bytes()),
        Settled::NotRegular(what) => Err(ScanError::NotRegular(what)),
    }
}

/// The wanted values of a file held in `buf`, or begun there when `partial`: then `None`
/// when the walk needs bytes beyond `buf`. A partial result, when given, is the one the
/// whole file gives.
pub fn values_in(buf: &[u8], plan: &Plan, partial: bool) -> Result<Option<FileValues>, ScanError> {
    if partial && buf.len() < PREAMBLE_AND_PREFIX {
        return Ok(None); // whether the file has a preamble is not known yet
    }
    let parsed = match parse::parse_file(buf, &plan.opts) {
        Ok(parsed) => parsed,
        // The first 132 bytes decide that; more would not change it.
        Err(ParseError::NotDicom) => return Err(ScanError::NotDicom),
        Err(_) if partial => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    // The values are the dataset's elements, not where the reader stops: a deflated body
    // inflated from the first bytes (its stream ended there) holds them all.
    let settled = parsed.inflated.is_some() || read::ends_within(&parsed, buf.len());
    if partial && !settled {
        return Ok(None);
    }
    // A deflated body is inflated whole; its elements point into it.
    let body = parsed.inflated.as_deref().unwrap_or(buf);
    let charset =
        find(&parsed.dataset, SPECIFIC_CHARACTER_SET).map(|e| parse::value_bytes(body, e));
    let text_charset = charset.map_or(Charset::AsciiAsItself, Charset::of_value);
    let mut values = Vec::with_capacity(plan.paths.len());
    let mut any_raw = false;
    for (path, &dictionary_vr) in plan.paths.iter().zip(&plan.dictionary_vrs) {
        let found = if path.items.is_empty() && path.tag >> 16 == 2 {
            find(&parsed.meta, path.tag).map(|e| found(buf, e, META_ENCODING, dictionary_vr))
        } else {
            match follow(
                body,
                &parsed.dataset,
                parsed.encoding,
                path,
                dictionary_vr,
                &plan.opts,
            ) {
                Ok(found) => found,
                // The rest of a file cut short may hold the item.
                Err(_) if partial => return Ok(None),
                Err(err) => return Err(err.into()),
            }
        };
        values.push(found.map(|found| {
            match plain(&found, text_charset, plan.empty_text_is_none) {
                Some(value) => Value::Plain(value),
                None => {
                    any_raw = true;
                    Value::Raw(RawValue {
                        tag: found.tag,
                        vr: found.raw_vr,
                        bytes: found.bytes.to_vec(),
                        encoding: found.encoding,
                    })
                }
            }
        }));
    }
    let charset = charset.filter(|_| any_raw).map(<[u8]>::to_vec);
    Ok(Some(FileValues { values, charset }))
}

/// The value as the plain value pydicom's conversion gives (after `str`, `int`, `float`),
/// when its bytes alone decide it; None when pydicom must convert it. `charset` is the
/// policy for the file's character set.
pub fn plain(found: &Found, charset: Charset, empty_text_is_none: bool) -> Option<Plain> {
    let decoded = values::decode(found.vr?, found.bytes, found.encoding.little, charset);
    // Read in place: moving the value out costs the scan a copy of it per element.
    let text = |s: &Text| Plain::Text(String::from(&**s));
    Some(match decoded.as_ref()? {
        Decoded::Empty => Plain::Empty,
        Decoded::EmptyText if empty_text_is_none => Plain::Empty,
        Decoded::EmptyText => Plain::Text(String::new()),
        Decoded::Unsigned(items) => one_or_list(items.iter().map(|&v| Plain::UInt(v))),
        Decoded::Signed(items) => one_or_list(items.iter().map(|&v| Plain::Int(v))),
        Decoded::Floats(items) => one_or_list(items.iter().map(|&v| Plain::Float(v))),
        Decoded::Tags(items) => one_or_list(items.iter().map(|&tag| Plain::UInt(tag.into()))),
        Decoded::Bytes(bytes) => Plain::Bytes(bytes.to_vec()),
        Decoded::Strings(items) | Decoded::Names(items) | Decoded::Uids(items) => {
            one_or_list(items.iter().map(text))
        }
        Decoded::IntegerStrings(items) => one_or_list(items.iter().map(|(v, _)| Plain::Int(*v))),
        Decoded::DecimalStrings(items) => one_or_list(items.iter().map(|(v, _)| Plain::Float(*v))),
    })
}

/// One value as itself, several as a list (as pydicom's converters give them).
fn one_or_list(mut items: impl Iterator<Item = Plain>) -> Plain {
    // One value (the usual case) without a list to hold it.
    let Some(first) = items.next() else {
        return Plain::List(Vec::new());
    };
    let Some(second) = items.next() else {
        return first;
    };
    let mut list = vec![first, second];
    list.extend(items);
    Plain::List(list)
}

const META_ENCODING: Encoding = Encoding {
    implicit: false,
    little: true,
};

/// The element `tag` in `elements`: the last of repeated ones, as pydicom's dataset
/// keeps the one it read last.
fn find(elements: &[Element], tag: u32) -> Option<&Element> {
    elements.iter().rev().find(|e| e.tag == tag)
}

/// The element `path` names, entering sequence items from the dataset `elements`.
fn follow<'a>(
    buf: &'a [u8],
    elements: &[Element],
    encoding: Encoding,
    path: &TagPath,
    dictionary_vr: Option<Vr>,
    opts: &ReadOptions,
) -> Result<Option<Found<'a>>, ParseError> {
    let mut owned;
    let (mut elements, mut encoding) = (elements, encoding);
    for &(tag, index) in &path.items {
        let Some(seq) = find(elements, tag) else {
            return Ok(None);
        };
        if !is_sequence(seq) {
            return Ok(None);
        }
        let mut items = parse::sequence_items(buf, seq, encoding, opts, index + 1)?;
        if items.len() <= index {
            return Ok(None);
        }
        (owned, encoding) = items.swap_remove(index);
        elements = &owned;
    }
    Ok(find(elements, path.tag).map(|e| found(buf, e, encoding, dictionary_vr)))
}

fn is_sequence(element: &Element) -> bool {
    element.kind == ValueKind::Sequence
        || element.vr == Some(Vr::SQ)
        || (element.vr.is_none() && dictionary::dictionary_vr(element.tag) == Some(Vr::SQ))
}

/// `element` as found; `dictionary_vr` is its tag's dictionary VR.
fn found<'a>(
    buf: &'a [u8],
    element: &Element,
    encoding: Encoding,
    dictionary_vr: Option<Vr>,
) -> Found<'a> {
    let vr = match element.vr {
        Some(Vr::UN) | None => dictionary_vr.or(element.vr),
        vr => vr,
    };
    Found {
        tag: element.tag,
        raw_vr: element.vr,
        vr,
        bytes: parse::value_bytes(buf, element),
        encoding,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags;
    use crate::test_support::{self, Bytes};
    use std::io::Read;

    const EXPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1";

    fn explicit_le(tag: u32, vr: &str, value: &[u8]) -> Vec<u8> {
        let mut bytes = Bytes::default();
        bytes.explicit(tag, vr, value);
        bytes.0
    }

    fn file(body: &[u8]) -> Vec<u8> {
        let mut bytes = test_support::part10(EXPLICIT_VR_LITTLE_ENDIAN);
        bytes.raw(body);
        bytes.0
    }

    fn item(body: &[u8]) -> Vec<u8> {
        let mut bytes = Bytes::default();
        bytes.marker(tags::ITEM, body.len() as u32).raw(body);
        bytes.0
    }

    fn plan(paths: Vec<TagPath>) -> Plan {
        Plan::new(paths, ReadOptions::pydicom_defaults(), false)
    }

    fn top(tag: u32) -> TagPath {
        TagPath { items: vec![], tag }
    }

    #[test]
    fn finds_top_level_meta_and_nested_values() {
        let mut inner = explicit_le(tags::SERIES_INSTANCE_UID, "UI", b"1.2.3\0");
        inner = item(&inner);
        let second = item(&explicit_le(tags::SERIES_INSTANCE_UID, "UI", b"4.5\0"));
        let mut body = explicit_le(tags::MODALITY, "CS", b"CT");
        body.extend(explicit_le(
            tags::REFERENCED_SERIES_SEQUENCE,
            "SQ",
            &[inner, second].concat(),
        ));
        body.extend(explicit_le(tags::ROWS, "US", &512u16.to_le_bytes()));
        let buf = file(&body);
        let paths = vec![
            top(tags::MODALITY),
            top(tags::TRANSFER_SYNTAX_UID),
            TagPath {
                items: vec![(tags::REFERENCED_SERIES_SEQUENCE, 1)],
                tag: tags::SERIES_INSTANCE_UID,
            },
            TagPath {
                items: vec![(tags::REFERENCED_SERIES_SEQUENCE, 2)],
                tag: tags::SERIES_INSTANCE_UID,
            },
            top(tags::PATIENT_NAME),
        ];
        let values = values_in(&buf, &plan(paths), false).unwrap().unwrap();
        let text = |s: &str| Some(Value::Plain(Plain::Text(s.into())));
        assert_eq!(
            values.values,
            vec![
                text("CT"),
                text("1.2.840.10008.1.2.1"),
                text("4.5"),
                None,
                None
            ]
        );
        assert!(values.charset.is_none());
    }

    #[test]
    fn values_pydicom_would_correct_are_left_raw() {
        let mut body = explicit_le(tags::SPECIFIC_CHARACTER_SET, "CS", b"ISO_IR 100");
        body.extend(explicit_le(tags::PATIENT_NAME, "PN", b"M\xfcller"));
        body.extend(explicit_le(tags::INSTANCE_NUMBER, "IS", b"1.5 "));
        body.extend(explicit_le(tags::ROWS, "US", &[1, 2, 3]));
        let buf = file(&body);
        let paths = vec![
            top(tags::PATIENT_NAME),
            top(tags::INSTANCE_NUMBER),
            top(tags::ROWS),
        ];
        let values = values_in(&buf, &plan(paths), false).unwrap().unwrap();
        assert!(values
            .values
            .iter()
            .all(|v| matches!(v, Some(Value::Raw(_)))));
        assert_eq!(values.charset.as_deref(), Some(&b"ISO_IR 100"[..]));
    }

    #[test]
    fn numbers_follow_byte_order_and_multiplicity() {
        const PLAIN: Charset = Charset::AsciiAsItself;
        fn found(vr: Vr, bytes: &[u8], little: bool) -> Found<'_> {
            Found {
                tag: tags::ROWS,
                raw_vr: Some(vr),
                vr: Some(vr),
                bytes,
                encoding: Encoding {
                    implicit: false,
                    little,
                },
            }
        }
        assert_eq!(
            plain(&found(Vr::US, &[1, 2], false), PLAIN, false),
            Some(Plain::UInt(0x0102))
        );
        assert_eq!(
            plain(&found(Vr::SS, &[0xFF, 0xFF, 2, 0], true), PLAIN, false),
            Some(Plain::List(vec![Plain::Int(-1), Plain::Int(2)]))
        );
        assert_eq!(
            plain(&found(Vr::FL, &[], true), PLAIN, false),
            Some(Plain::Empty)
        );
        assert_eq!(
            plain(&found(Vr::DS, b"1.5\\2 ", true), PLAIN, false),
            Some(Plain::List(vec![Plain::Float(1.5), Plain::Float(2.0)]))
        );
        assert_eq!(plain(&found(Vr::LO, b"caf\xe9", true), PLAIN, false), None);
    }

    #[test]
    fn every_file_is_scanned_once_on_any_number_of_workers() {
        let dir = std::env::temp_dir().join(format!("dcmfast-scan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut paths = Vec::new();
        for i in 0..150u16 {
            let path = dir.join(format!("{i}.dcm"));
            std::fs::write(
                &path,
                file(&explicit_le(tags::ROWS, "US", &i.to_le_bytes())),
            )
            .unwrap();
            paths.push(path);
        }
        paths.push(dir.join("missing.dcm"));
        let plan = plan(vec![top(tags::ROWS)]);
        for workers in [1, 2, 5] {
            let mut seen = vec![None; paths.len()];
            let here = |range| scan_range(&paths, &plan, range);
            let wait = |receiver: &_| next_outcomes(receiver);
            scan_files(&paths, &plan, workers, here, wait, |(i, outcome)| {
                assert!(seen[*i].is_none(), "scanned twice");
                seen[*i] = Some(outcome.clone());
                Ok::<(), ()>(())
            })
            .unwrap();
            for (i, outcome) in seen.iter().enumerate().take(150) {
                let values = outcome.as_ref().unwrap().as_ref().unwrap();
                assert_eq!(
                    values.values,
                    vec![Some(Value::Plain(Plain::UInt(i as u64)))]
                );
            }
            assert!(matches!(seen[150], Some(Err(ScanError::Io { .. }))));
        }
        // A consumer error stops the scan.
        let here = |range| scan_range(&paths, &plan, range);
        let wait = |receiver: &_| next_outcomes(receiver);
        let stopped = scan_files(&paths, &plan, 2, here, wait, |_| Err("stop"));
        assert_eq!(stopped, Err("stop"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn opening_beside_the_previous_file_opens_what_the_path_names() {
        let dir = std::env::temp_dir().join(format!("dcmfast-opener-{}", std::process::id()));
        let other = dir.join("other");
        std::fs::create_dir_all(other.join("sub")).unwrap();
        for (path, text) in [
            (dir.join("a"), "a"),
            (dir.join("b"), "b"),
            (other.join("c"), "c"),
        ] {
            std::fs::write(path, text).unwrap();
        }
        let paths = [
            dir.join("a"),
            dir.join("b"),
            dir.join("missing"),
            dir.join("b"),
            other.join("sub"),
            other.join("c"),
            other.join("sub/../c"),
            other.join("c/"),
            dir.join("a"),
            other.join("missing"),
        ];
        let mut opener = Opener::default();
        for path in &paths {
            let read = |file: io::Result<File>| {
                file.and_then(|mut f| {
                    let mut text = String::new();
                    f.read_to_string(&mut text).map(|_| text)
                })
                .map_err(|e| e.to_string())
            };
            assert_eq!(read(opener.open(path)), read(File::open(path)), "{path:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_partial_head_asks_for_more() {
        let mut body = explicit_le(tags::MODALITY, "CS", b"CT");
        body.extend(explicit_le(tags::PATIENT_NAME, "PN", b"Doe^J"));
        let buf = file(&body);
        let plan = plan(vec![top(tags::PATIENT_NAME)]);
        assert_eq!(values_in(&buf[..buf.len() - 3], &plan, true), Ok(None));
        assert!(values_in(&buf, &plan, false).unwrap().is_some());
    }

    #[test]
    fn not_dicom_and_garbage_are_errors() {
        let plan = plan(vec![top(tags::PATIENT_NAME)]);
        assert_eq!(values_in(b"hello", &plan, false), Err(ScanError::NotDicom));
        let mut truncated = file(&explicit_le(
            tags::REFERENCED_SERIES_SEQUENCE,
            "SQ",
            &item(b""),
        ));
        truncated.truncate(truncated.len() - 4);
        let sequence = TagPath {
            items: vec![(tags::REFERENCED_SERIES_SEQUENCE, 0)],
            tag: 1,
        };
        assert!(values_in(&truncated, &super::tests::plan(vec![sequence]), false).is_err());
    }
}
