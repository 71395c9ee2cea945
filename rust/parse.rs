//! The element walk: preamble, file meta, command set and dataset, over a `&[u8]`.
//!
//! It records each top-level element's tag, VR, length and value offset without copying values.
//! Undefined-length sequences are walked only to find where they end; their items become datasets
//! when first accessed. The walk reproduces pydicom 3.0.2's reader decisions (VR switches, stop
//! rules, short values, delimiter scans) and reports anything pydicom would warn about or raise on
//! as a [`ParseError`], so that callers can hand such files to pydicom's own reader.

use crate::dictionary;
use crate::errors::{ParseError, Result};
use crate::tags::{
    DOUBLE_FLOAT_PIXEL_DATA, FLOAT_PIXEL_DATA, ITEM, ITEM_DELIMITATION_ITEM, PIXEL_DATA,
    SEQUENCE_DELIMITATION_ITEM, SPECIFIC_CHARACTER_SET, TRANSFER_SYNTAX_UID,
};
use crate::values::{tag_of, u16_of, u32_of};
use crate::vr::{self, Vr};
use flate2::{Decompress, FlushDecompress, Status};
use std::borrow::Cow;
use std::cell::Cell;
use std::ops::Range;

/// The length that marks an undefined-length value.
pub const UNDEFINED_LENGTH: u32 = 0xFFFF_FFFF;
/// The pixel data elements, in tag order.
pub const PIXEL_TAGS: [u32; 3] = [FLOAT_PIXEL_DATA, DOUBLE_FLOAT_PIXEL_DATA, PIXEL_DATA];
/// Sequences nested deeper than this are left to pydicom (whose own recursion limit decides).
pub const MAX_DEPTH: usize = 64;
/// Largest inflated body accepted from a deflated file; a bigger one is treated as a bomb.
pub const MAX_INFLATED: usize = 1 << 31;

/// Byte order and VR encoding of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    /// Implicit VR (no VR in element headers).
    pub implicit: bool,
    /// Little-endian numbers.
    pub little: bool,
}

impl Encoding {
    const IMPLICIT_LE: Encoding = Encoding {
        implicit: true,
        little: true,
    };
    const EXPLICIT_LE: Encoding = Encoding {
        implicit: false,
        little: true,
    };
    const EXPLICIT_BE: Encoding = Encoding {
        implicit: false,
        little: false,
    };
}

/// How an element's value is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// The value bytes are `value_offset..value_offset + value_len` (possibly fewer than
    /// `length` when the input is truncated, as pydicom keeps short values).
    Bytes,
    /// Longer than `defer_size`: not read now (pydicom's deferred read).
    Deferred,
    /// An undefined-length sequence; `value_len` spans its items, up to the delimiter.
    Sequence,
}

/// One top-level element as found in the byte source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element {
    /// Group << 16 | element.
    pub tag: u32,
    /// The VR as pydicom's raw element carries it: `None` when implicit.
    pub vr: Option<Vr>,
    /// The length field (`UNDEFINED_LENGTH` for undefined).
    pub length: u32,
    /// Offset of the value's first byte (pydicom's `value_tell`).
    pub value_offset: usize,
    /// Bytes of value present in the source.
    pub value_len: usize,
    /// How the value is held.
    pub kind: ValueKind,
}

impl Element {
    /// Where its value's bytes lie in the source: `value_len` of them from `value_offset`.
    pub fn value_range(&self) -> Range<usize> {
        self.value_offset..self.value_offset.saturating_add(self.value_len)
    }
}

/// What `dcmread` may ask of the walk.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Read files without the preamble and `DICM` prefix.
    pub force: bool,
    /// Stop at (7FE0,0008), (7FE0,0009) or (7FE0,0010) at the top level.
    pub stop_before_pixels: bool,
    /// Keep only these top-level tags, in any order (the walk sorts a copy when they are
    /// not sorted); (0008,0005) is always kept.
    pub specific_tags: Option<Vec<u32>>,
    /// Defer values longer than this many bytes.
    pub defer_size: Option<u64>,
    /// pydicom `config.settings.infer_sq_for_un_vr`.
    pub infer_sq_for_un_vr: bool,
    /// pydicom `config.replace_un_with_known_vr`.
    pub replace_un_with_known_vr: bool,
    /// pydicom `config.assume_implicit_vr_switch`.
    pub assume_implicit_vr_switch: bool,
}

impl ReadOptions {
    /// pydicom's defaults.
    pub fn pydicom_defaults() -> ReadOptions {
        ReadOptions {
            infer_sq_for_un_vr: true,
            replace_un_with_known_vr: true,
            assume_implicit_vr_switch: true,
            ..ReadOptions::default()
        }
    }

    /// These options with `specific_tags` sorted and without repeats, as the walk's
    /// lookups need them; borrowed as they are when they already are (the usual case).
    fn with_sorted_tags(&self) -> Cow<'_, ReadOptions> {
        match &self.specific_tags {
            Some(tags) if !tags.windows(2).all(|w| w[0] < w[1]) => {
                let mut tags = tags.clone();
                tags.sort_unstable();
                tags.dedup();
                Cow::Owned(ReadOptions {
                    specific_tags: Some(tags),
                    ..self.clone()
                })
            }
            _ => Cow::Borrowed(self),
        }
    }
}

/// A parsed Part 10 file (or a forced read of a bare dataset).
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFile {
    /// True when bytes 0..128 are a preamble followed by `DICM`.
    pub has_preamble: bool,
    /// Group 2 elements (explicit VR little endian), offsets into the file.
    pub meta: Vec<Element>,
    /// Group 0 elements (implicit VR little endian), offsets into the file.
    pub command: Vec<Element>,
    /// The Transfer Syntax UID as pydicom converts it, if the meta has one.
    pub transfer_syntax: Option<String>,
    /// The dataset's encoding.
    pub encoding: Encoding,
    /// The inflated dataset of a deflated file; `dataset` offsets then refer to it.
    pub inflated: Option<Vec<u8>>,
    /// Top-level dataset elements in file order.
    pub dataset: Vec<Element>,
    /// Where pydicom's reader leaves the stream after reading: in the dataset's source,
    /// or the end of the file for a deflated one.
    pub end: usize,
    /// Some decision looked for bytes past the end of the input (at the very end of a
    /// dataset that is normal; it matters when the input is only a file's first bytes).
    pub overran: bool,
}

/// Parse a whole file held in `buf`.
pub fn parse_file(buf: &[u8], opts: &ReadOptions) -> Result<ParsedFile> {
    parse_file_reporting(buf, opts, &|_| {})
}

/// `parse_file`, telling `walked` now and then the offset below which the top-level walk
/// has read all it will read (a mapped file's pages there may be let go).
pub fn parse_file_reporting(
    buf: &[u8],
    opts: &ReadOptions,
    walked: &dyn Fn(usize),
) -> Result<ParsedFile> {
    let opts = &*opts.with_sorted_tags();
    let mut walker = Walker::new(buf, opts);
    walker.walked = walked;
    let has_preamble = buf.len() >= 132 && &buf[128..132] == b"DICM";
    if !has_preamble && !opts.force {
        return Err(ParseError::NotDicom);
    }
    let mut pos = if has_preamble { 132 } else { 0 };

    // File meta: explicit VR LE by rule; pydicom warns and re-reads if it looks implicit.
    if let Some((tag, code)) = walker.peek_sniff(pos, true) {
        if !vr::looks_explicit(code) && tag >> 16 == 2 {
            return Err(irregular(pos, Some(tag), "implicit VR file meta"));
        }
    }
    let meta_top = Level::top(Stop::OutsideGroup(2));
    let (meta, end) = walker.walk(pos, Limit::End, Encoding::EXPLICIT_LE, &meta_top, 0)?;
    pos = end;

    // Command set: implicit VR LE by rule. pydicom reads one wherever the file meta ends,
    // so that read also consumes a stray item delimiter or a partial header found there
    // (the file meta's read stops after an item delimiter, leaving what follows it).
    let mut command = Vec::new();
    let sniff = walker.peek_sniff(pos, true);
    let explicit = sniff.is_some_and(|(_, code)| vr::looks_explicit(code));
    let read = match sniff {
        Some((tag, _)) if tag >> 16 == 0 && explicit => {
            return Err(irregular(pos, Some(tag), "explicit VR command set"));
        }
        Some((tag, _)) => tag >> 16 == 0 || tag == ITEM_DELIMITATION_ITEM || buf.len() - pos < 8,
        None => pos < buf.len(),
    };
    if read {
        let enc = if explicit {
            Encoding::EXPLICIT_LE
        } else {
            Encoding::IMPLICIT_LE
        };
        let level = Level::top(Stop::OutsideGroup(0));
        (command, pos) = walker.walk(pos, Limit::End, enc, &level, 0)?;
    }

    let transfer_syntax = meta
        .iter()
        .rev()
        .find(|e| e.tag == TRANSFER_SYNTAX_UID)
        .map(|e| uid_value(value_bytes(buf, e)));
    let mut inflated = None;
    let encoding = if pos >= buf.len() {
        Encoding::IMPLICIT_LE
    } else {
        match transfer_syntax.as_deref() {
            None => sniff_encoding(buf, pos)?,
            Some("1.2.840.10008.1.2") => Encoding::IMPLICIT_LE,
            Some("1.2.840.10008.1.2.2") => Encoding::EXPLICIT_BE,
            Some("1.2.840.10008.1.2.1.99") => {
                inflated = Some(inflate(&buf[pos..], pos)?);
                Encoding::EXPLICIT_LE
            }
            Some(_) => Encoding::EXPLICIT_LE,
        }
    };

    let (dataset, end) = match &inflated {
        Some(bytes) => (
            walk_dataset(&Walker::new(bytes, opts), 0, encoding)?.0,
            buf.len(),
        ),
        None => {
            let (dataset, end) = walk_dataset(&walker, pos, encoding)?;
            (dataset, end.max(pos))
        }
    };
    Ok(ParsedFile {
        has_preamble,
        meta,
        command,
        transfer_syntax,
        encoding,
        inflated,
        dataset,
        end,
        overran: walker.overran.get(),
    })
}

/// Walk the top-level dataset that starts at `start` in `buf`; returns its elements and
/// where pydicom's reader would leave the stream.
pub fn parse_dataset(
    buf: &[u8],
    start: usize,
    encoding: Encoding,
    opts: &ReadOptions,
) -> Result<(Vec<Element>, usize)> {
    walk_dataset(&Walker::new(buf, &opts.with_sorted_tags()), start, encoding)
}

fn walk_dataset(
    walker: &Walker<'_>,
    start: usize,
    encoding: Encoding,
) -> Result<(Vec<Element>, usize)> {
    let stop = if walker.opts.stop_before_pixels {
        Stop::PixelData
    } else {
        Stop::Never
    };
    if let Some((tag, code)) = walker.peek_sniff(start, encoding.little) {
        if vr::looks_explicit(code) == encoding.implicit {
            if stop.applies(tag) {
                return Ok((Vec::new(), start));
            }
            return Err(irregular(
                start,
                Some(tag),
                "VR encoding differs from the transfer syntax",
            ));
        }
    }
    let level = Level {
        stop,
        ..Level::top_dataset()
    };
    walker.walk(start, Limit::End, encoding, &level, 0)
}

/// The elements of the first `max_items` items of the sequence `element` (a top-level element
/// of `buf`, or one of an item read by this function), each with its encoding.
pub fn sequence_items(
    buf: &[u8],
    element: &Element,
    encoding: Encoding,
    opts: &ReadOptions,
    max_items: usize,
) -> Result<Vec<(Vec<Element>, Encoding)>> {
    let walker = Walker::new(buf, opts);
    let end = element.value_offset.saturating_add(element.value_len);
    let mut pos = element.value_offset;
    let mut items = Vec::new();
    while items.len() < max_items && pos < end {
        let (tag, length) = walker.item_header(pos, encoding.little, Some(element.tag))?;
        if tag == SEQUENCE_DELIMITATION_ITEM {
            break;
        }
        if tag != ITEM {
            return Err(irregular(pos, Some(tag), "item expected"));
        }
        let start = pos + 8;
        let item_encoding = walker.item_encoding(start, encoding);
        let limit = if length == UNDEFINED_LENGTH {
            Limit::ItemDelimiter
        } else {
            Limit::At(start.saturating_add(length as usize).min(end))
        };
        let (elements, next) = walker.walk(start, limit, item_encoding, &Level::ITEM, 1)?;
        items.push((elements, item_encoding));
        pos = match limit {
            Limit::At(item_end) => item_end,
            _ => next,
        };
    }
    Ok(items)
}

/// One item of a sequence read by `regular_sequence_items`.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceItem {
    /// Offset of its item tag.
    pub offset: usize,
    /// True when its length is undefined (it ends at an item delimiter).
    pub undefined_length: bool,
    pub elements: Vec<Element>,
}

/// The items of a defined-length sequence whose value is `value` (offsets relative to it,
/// as pydicom's `convert_SQ` reads the value on its own), each item a dataset of `encoding`
/// whose elements are all plain raw elements: defined length, complete, no character set
/// of its own. None for anything else (an implicit item in explicit data, a delimiter or a
/// stray tag where an item belongs, an item overrunning the value or its own length, a
/// nested undefined-length element, truncation), which pydicom's reader then reads.
pub fn regular_sequence_items(value: &[u8], encoding: Encoding) -> Option<Vec<SequenceItem>> {
    let opts = ReadOptions::pydicom_defaults();
    let walker = Walker::new(value, &opts);
    let mut pos = 0;
    let mut items = Vec::new();
    while pos < value.len() {
        let (tag, length) = walker.item_header(pos, encoding.little, None).ok()?;
        let start = pos + 8;
        if tag != ITEM || walker.item_encoding(start, encoding) != encoding {
            return None;
        }
        let undefined_length = length == UNDEFINED_LENGTH;
        let limit = if undefined_length {
            Limit::ItemDelimiter
        } else {
            let end = start.checked_add(length as usize)?;
            (end <= value.len()).then_some(Limit::At(end))?
        };
        let (elements, next) = walker.walk(start, limit, encoding, &Level::ITEM, 1).ok()?;
        let plain = |e: &Element| {
            e.kind == ValueKind::Bytes
                && e.length != UNDEFINED_LENGTH
                && e.value_len == e.length as usize
                && e.tag != SPECIFIC_CHARACTER_SET
        };
        if !elements.iter().all(plain) || matches!(limit, Limit::At(end) if end != next) {
            return None;
        }
        items.push(SequenceItem {
            offset: pos,
            undefined_length,
            elements,
        });
        pos = next;
    }
    Some(items)
}

/// The bytes of `element` present in `buf`.
pub fn value_bytes<'a>(buf: &'a [u8], element: &Element) -> &'a [u8] {
    let range = element.value_range();
    let end = range.end.min(buf.len());
    &buf[range.start.min(end)..end]
}

/// What `parse_file` gives for a whole file of `file_len` bytes, found from its first bytes
/// `head` and, when the file goes on after its pixel data, from its last bytes, or None
/// when they cannot tell. They can when the header ends within `head` with Pixel Data of
/// defined length (the usual image file): its value need not be read (or mapped) to index
/// the file. `tail(from)` gives the bytes from offset `from` to the end of the file (None
/// when it would rather not: too many, or unreadable); elements there (a GE file's trailing
/// padding) are walked as the whole walk would. Only for reads that keep and defer nothing
/// (no `specific_tags` or `defer_size`).
pub fn parse_file_from_head(
    head: &[u8],
    file_len: usize,
    opts: &ReadOptions,
    tail: impl FnOnce(usize) -> Option<Vec<u8>>,
) -> Option<ParsedFile> {
    if opts.specific_tags.is_some()
        || opts.defer_size.is_some()
        || opts.stop_before_pixels
        || head.len() > file_len
        || head.len() < file_len.min(132)
    {
        return None;
    }
    let until_pixels = ReadOptions {
        stop_before_pixels: true,
        ..opts.clone()
    };
    let mut parsed = parse_file(head, &until_pixels).ok()?;
    // The walk must have stopped at pixel data it could see, after a first element that
    // passed the transfer syntax check (which a whole walk applies to the pixel data when
    // it comes first).
    if parsed.overran || parsed.inflated.is_some() || parsed.dataset.is_empty() {
        return None;
    }
    let pixels = pixel_data_at(head, &parsed, &until_pixels)?;
    let length = pixels.length as usize;
    let value_end = pixels.value_offset.checked_add(length)?;
    if pixels.length == UNDEFINED_LENGTH || length == 0 || value_end > file_len {
        return None;
    }
    parsed.dataset.push(Element {
        value_len: length,
        ..pixels
    });
    // The rest of the top level, walked from the end of the pixel data as the whole walk
    // goes on there (to the end of the file, having looked for one more header).
    let rest = if value_end == file_len {
        Vec::new()
    } else {
        tail(value_end)?
    };
    if rest.len() != file_len - value_end {
        return None;
    }
    let walker = Walker::new(&rest, opts);
    let (elements, end) = walker
        .walk(0, Limit::End, parsed.encoding, &Level::top_dataset(), 0)
        .ok()?;
    // A tag after the pixel data that does not ascend may repeat one before it, which the
    // whole walk records once: it decides.
    if elements.iter().any(|e| e.tag <= PIXEL_DATA) {
        return None;
    }
    parsed.dataset.extend(elements.into_iter().map(|e| Element {
        value_offset: e.value_offset + value_end,
        ..e
    }));
    parsed.end = end + value_end;
    parsed.overran = walker.overran.get();
    Some(parsed)
}

/// The Pixel Data element whose header is where `parsed` (a walk of `buf` that stopped
/// before the pixel data) ended, when it is one read in the dataset's encoding with a VR
/// pydicom reads pixel data by (OB or OW, or implicit); its value is not looked at.
pub fn pixel_data_at(buf: &[u8], parsed: &ParsedFile, opts: &ReadOptions) -> Option<Element> {
    let pixels = element_at(buf, parsed.end, parsed.encoding, opts)?;
    let vr_as_walked = match pixels.vr {
        None => parsed.encoding.implicit,
        Some(vr) => !parsed.encoding.implicit && matches!(vr, Vr::OB | Vr::OW),
    };
    (pixels.tag == PIXEL_DATA && vr_as_walked).then_some(pixels)
}

/// The element whose header is at `pos` in `buf`, read in `encoding` as the walk reads one,
/// or None where the walk would stop or raise there. Its value is not looked at: `value_len`
/// counts the bytes present of a defined length, and is 0 for an undefined one.
pub fn element_at(
    buf: &[u8],
    pos: usize,
    encoding: Encoding,
    opts: &ReadOptions,
) -> Option<Element> {
    let header = Walker::new(buf, opts).header(pos, encoding).ok()??;
    let value_len = match header.length {
        UNDEFINED_LENGTH => 0,
        length => (length as usize).min(buf.len().saturating_sub(header.value_offset)),
    };
    Some(Element {
        tag: header.tag,
        vr: header.vr,
        length: header.length,
        value_offset: header.value_offset,
        value_len,
        kind: ValueKind::Bytes,
    })
}

/// A UI value as pydicom converts it for comparison: trailing NULs and spaces dropped.
fn uid_value(bytes: &[u8]) -> String {
    let text: String = bytes.iter().map(|&b| b as char).collect();
    text.trim_end_matches(['\0', ' ']).to_string()
}

/// pydicom's guess when the meta names no transfer syntax: a VR at bytes 4-5 means explicit, a
/// group number of 1024 or more means big endian.
fn sniff_encoding(buf: &[u8], pos: usize) -> Result<Encoding> {
    let Some(head) = buf.get(pos..pos + 6) else {
        return Err(ParseError::Truncated {
            offset: pos,
            tag: None,
        });
    };
    if Vr::from_code([head[4], head[5]]).is_none() {
        return Ok(Encoding::IMPLICIT_LE);
    }
    let group = u16_of([head[0], head[1]], true);
    Ok(if group >= 1024 {
        Encoding::EXPLICIT_BE
    } else {
        Encoding::EXPLICIT_LE
    })
}

/// Inflate a raw deflate stream (no zlib header), as pydicom's `zlib.decompress(data, -15)`:
/// bytes after the end of the stream are ignored, a stream cut short is an error.
fn inflate(data: &[u8], offset: usize) -> Result<Vec<u8>> {
    let error = |message: String| ParseError::Inflate { offset, message };
    let mut inflater = Decompress::new(false);
    let mut out = Vec::with_capacity(data.len().saturating_mul(4).clamp(1 << 12, 1 << 26));
    loop {
        if out.len() == out.capacity() {
            if out.len() >= MAX_INFLATED {
                return Err(error("inflated body exceeds 2 GiB".into()));
            }
            out.reserve(out.len());
        }
        let (before_in, before_out) = (inflater.total_in(), inflater.total_out());
        let consumed = (before_in as usize).min(data.len());
        let status = inflater
            .decompress_vec(&data[consumed..], &mut out, FlushDecompress::None)
            .map_err(|e| error(e.to_string()))?;
        if status == Status::StreamEnd {
            return Ok(out);
        }
        let stalled = inflater.total_in() == before_in && inflater.total_out() == before_out;
        if stalled && out.len() < out.capacity() {
            return Err(error("incomplete or truncated stream".into()));
        }
    }
}

fn irregular(offset: usize, tag: Option<u32>, what: &'static str) -> ParseError {
    ParseError::Irregular { offset, tag, what }
}

/// Where a dataset ends.
#[derive(Clone, Copy)]
enum Limit {
    /// At the end of input (top level).
    End,
    /// At an Item Delimitation Item (undefined-length item).
    ItemDelimiter,
    /// At this offset (defined-length item).
    At(usize),
}

/// Top-level stop rules (pydicom's `stop_when`).
#[derive(Clone, Copy)]
enum Stop {
    Never,
    OutsideGroup(u16),
    PixelData,
}

impl Stop {
    fn applies(self, tag: u32) -> bool {
        match self {
            Stop::Never => false,
            Stop::OutsideGroup(group) => (tag >> 16) as u16 != group,
            Stop::PixelData => PIXEL_TAGS.contains(&tag),
        }
    }
}

/// What differs between the top level and nested levels.
struct Level {
    /// Keep the elements found (only the top level does).
    record: bool,
    /// Inside a sequence: running out of input is an error pydicom raises, not a quiet end.
    nested: bool,
    /// Apply `specific_tags` and `defer_size`.
    filters: bool,
    stop: Stop,
}

impl Level {
    fn top(stop: Stop) -> Level {
        Level {
            record: true,
            nested: false,
            filters: false,
            stop,
        }
    }

    /// The dataset's top level, walked to the end of the input.
    fn top_dataset() -> Level {
        Level {
            record: true,
            nested: false,
            filters: true,
            stop: Stop::Never,
        }
    }

    const NESTED: Level = Level {
        record: false,
        nested: true,
        filters: false,
        stop: Stop::Never,
    };

    /// A nested dataset whose elements are wanted.
    const ITEM: Level = Level {
        record: true,
        ..Level::NESTED
    };
}

/// Where each recorded tag is, for tags that come again: pydicom's reader keeps a dataset
/// in a dict, so a repeated tag takes the new value in the first one's place. Without this
/// a file of zero bytes would record an element for every 8 of them.
#[derive(Default)]
struct Recorded {
    /// The greatest tag recorded: a greater one is new (the usual, ascending, case).
    greatest: Option<u32>,
    /// Every recorded tag's index, made at the first tag that is not greater.
    at: Option<std::collections::HashMap<u32, usize>>,
}

impl Recorded {
    fn record(&mut self, elements: &mut Vec<Element>, element: Element) {
        let tag = element.tag;
        if self.greatest.is_none_or(|g| tag > g) {
            self.greatest = Some(tag);
            if let Some(at) = &mut self.at {
                at.insert(tag, elements.len());
            }
            elements.push(element);
            return;
        }
        let at = self.at.get_or_insert_with(|| {
            elements
                .iter()
                .enumerate()
                .map(|(i, e)| (e.tag, i))
                .collect()
        });
        match at.get(&tag) {
            Some(&i) => elements[i] = element,
            None => {
                at.insert(tag, elements.len());
                elements.push(element);
            }
        }
    }
}

/// An element header as read.
struct Header {
    tag: u32,
    vr: Option<Vr>,
    length: u32,
    value_offset: usize,
}

struct Walker<'a> {
    buf: &'a [u8],
    opts: &'a ReadOptions,
    /// Set when a read wanted bytes past the end of `buf`.
    overran: Cell<bool>,
    /// Where the last `specific_tags` lookup ended: top-level tags ascend, so the next
    /// lookup usually starts there.
    wanted_from: Cell<usize>,
    /// Told, every `WALKED_EVERY` top-level elements, where the top-level walk is.
    walked: &'a dyn Fn(usize),
}

/// How many top-level elements are walked between reports of progress.
const WALKED_EVERY: usize = 1 << 16;

impl<'a> Walker<'a> {
    fn new(buf: &'a [u8], opts: &'a ReadOptions) -> Self {
        Walker {
            buf,
            opts,
            overran: Cell::new(false),
            walked: &|_| {},
            wanted_from: Cell::new(0),
        }
    }

    fn bytes_at(&self, pos: usize, n: usize) -> Option<&'a [u8]> {
        let found = self.buf.get(pos..pos.checked_add(n)?);
        if found.is_none() {
            self.overran.set(true);
        }
        found
    }

    fn u32_at(&self, pos: usize, little: bool) -> Option<u32> {
        let b: [u8; 4] = self.bytes_at(pos, 4)?.try_into().ok()?;
        Some(u32_of(b, little))
    }

    fn tag_at(&self, pos: usize, little: bool) -> Option<u32> {
        let b: [u8; 4] = self.bytes_at(pos, 4)?.try_into().ok()?;
        Some(tag_of(b, little))
    }

    /// The first tag and the two bytes where an explicit VR would be (pydicom's
    /// `_is_implicit_vr` look-ahead), if six bytes are there.
    fn peek_sniff(&self, pos: usize, little: bool) -> Option<(u32, [u8; 2])> {
        let tag = self.tag_at(pos, little)?;
        let code = self.bytes_at(pos + 4, 2)?;
        Some((tag, [code[0], code[1]]))
    }

    /// Read the element header at `pos`; `None` when fewer than 8 bytes remain.
    fn header(&self, pos: usize, enc: Encoding) -> Result<Option<Header>> {
        // One bounds check for the 8 bytes every header form starts with.
        let Some(head) = self.bytes_at(pos, 8) else {
            return Ok(None);
        };
        let &[a, b, c, d, e, f, g, h]: &[u8; 8] = head.try_into().expect("8 bytes");
        let tag = tag_of([a, b, c, d], enc.little);
        let implicit = Header {
            tag,
            vr: None,
            length: u32_of([e, f, g, h], enc.little),
            value_offset: pos + 8,
        };
        if enc.implicit {
            return Ok(Some(implicit));
        }
        let code = [e, f];
        if let Some(vr) = Vr::from_code(code) {
            if vr.has_long_header() {
                let Some(length) = self.u32_at(pos + 8, enc.little) else {
                    return Err(ParseError::Truncated {
                        offset: pos,
                        tag: Some(tag),
                    });
                };
                return Ok(Some(Header {
                    tag,
                    vr: Some(vr),
                    length,
                    value_offset: pos + 12,
                }));
            }
            return Ok(Some(Header {
                tag,
                vr: Some(vr),
                length: u16_of([g, h], enc.little) as u32,
                value_offset: pos + 8,
            }));
        }
        if !vr::in_letter_range(code) && self.opts.assume_implicit_vr_switch {
            return Ok(Some(implicit));
        }
        Err(irregular(pos, Some(tag), "unknown VR"))
    }

    /// Walk one dataset from `pos`; returns its elements (when recording) and the offset after it.
    fn walk(
        &self,
        mut pos: usize,
        limit: Limit,
        enc: Encoding,
        level: &Level,
        depth: usize,
    ) -> Result<(Vec<Element>, usize)> {
        let capacity = match (&self.opts.specific_tags, level.record) {
            (_, false) => 0,
            // What a filtered top level keeps: the wanted tags (and the character set).
            (Some(tags), true) if level.filters => tags.len() + 1,
            // A file meta or command group: a handful of elements.
            _ if matches!(level.stop, Stop::OutsideGroup(_)) => 16,
            (_, true) => 64,
        };
        let mut elements = Vec::with_capacity(capacity);
        let mut recorded = Recorded::default();
        let mut walked = 0usize;
        loop {
            if depth == 0 {
                walked += 1;
                if walked % WALKED_EVERY == 0 {
                    (self.walked)(pos);
                }
            }
            if let Limit::At(end) = limit {
                if pos == end {
                    break;
                }
                if pos > end {
                    return Err(irregular(pos, None, "elements overrun their item"));
                }
            }
            if level.filters && matches!(limit, Limit::End) {
                pos = self.skip_unwanted(pos, enc);
            }
            let Some(header) = self.header(pos, enc)? else {
                if level.nested {
                    return Err(ParseError::Truncated {
                        offset: pos,
                        tag: None,
                    });
                }
                // pydicom read what was left of the header.
                pos = pos.max(self.buf.len());
                break;
            };
            let tag = header.tag;
            if tag == ITEM_DELIMITATION_ITEM {
                match limit {
                    Limit::ItemDelimiter => return Ok((elements, header.value_offset)),
                    // pydicom ends a top-level dataset quietly at a stray item delimiter.
                    Limit::End => {
                        pos = header.value_offset;
                        break;
                    }
                    Limit::At(_) => {
                        return Err(irregular(
                            pos,
                            Some(tag),
                            "item delimiter in a defined-length item",
                        ))
                    }
                }
            }
            if level.stop.applies(tag) {
                break;
            }
            pos = header.value_offset;
            let wanted = !level.filters || self.wanted(tag);
            let element = if header.length != UNDEFINED_LENGTH {
                let length = header.length as usize;
                let available = self.buf.len().saturating_sub(pos);
                if length > available && level.nested {
                    return Err(ParseError::Truncated {
                        offset: pos,
                        tag: Some(tag),
                    });
                }
                let deferred = level.filters
                    && tag != SPECIFIC_CHARACTER_SET
                    && self
                        .opts
                        .defer_size
                        .is_some_and(|d| header.length as u64 > d);
                let element = Element {
                    tag,
                    vr: header.vr,
                    length: header.length,
                    value_offset: pos,
                    value_len: length.min(available),
                    kind: if deferred {
                        ValueKind::Deferred
                    } else {
                        ValueKind::Bytes
                    },
                };
                // pydicom reads a value (stopping at the end of input) but seeks past one
                // it skips, which may leave the stream beyond the end.
                let skipped = deferred || !wanted;
                pos = pos.saturating_add(if skipped { length } else { element.value_len });
                element
            } else {
                let (element, next) = self.undefined_length(header, enc, level, depth)?;
                pos = next;
                element
            };
            if level.record && wanted {
                recorded.record(&mut elements, element);
            }
        }
        Ok((elements, pos))
    }

    /// The offset after the top-level elements from `pos` that `specific_tags` drops
    /// anyway: little-endian, defined-length, with a known VR (or implicit), below the next
    /// wanted tag and below pixel data. The general walk would skip each of them the same
    /// way; this loop does only that, at a fraction of the cost, and leaves everything else
    /// (wanted tags, sequences of undefined length, unknown VRs, the end of input, stops) to
    /// the general walk. It reads headers itself rather than through `header`: that one's
    /// generality (byte orders, errors, the truncation flag) shows in the bulk scan's time
    /// per file (benches/report_scan.py).
    fn skip_unwanted(&self, mut pos: usize, enc: Encoding) -> usize {
        let Some(tags) = &self.opts.specific_tags else {
            return pos;
        };
        if !enc.little {
            return pos;
        }
        // No wanted tag lies in [low, high): recomputed for a tag outside it (tags ascend in
        // a well-formed dataset, but need not).
        let (mut low, mut high) = (1, 0);
        loop {
            let Some(head) = self.buf.get(pos..pos + 8) else {
                return pos;
            };
            let tag = tag_of([head[0], head[1], head[2], head[3]], true);
            if !(low..high).contains(&tag) {
                let next = tags.partition_point(|&t| t < tag);
                low = tag;
                // Past the last wanted tag, up to pixel data: a tag may still come
                // again, out of order, but none of these elements is wanted.
                high = tags
                    .get(next)
                    .map_or(PIXEL_TAGS[0], |&t| t.min(PIXEL_TAGS[0]));
                if tag <= SPECIFIC_CHARACTER_SET {
                    high = high.min(SPECIFIC_CHARACTER_SET);
                }
                if tag >= high {
                    return pos;
                }
            }
            let (length, header_len) = if enc.implicit {
                (u32_of([head[4], head[5], head[6], head[7]], true), 8)
            } else {
                match Vr::from_code([head[4], head[5]]) {
                    None => return pos,
                    Some(vr) if !vr.has_long_header() => {
                        (u16_of([head[6], head[7]], true) as u32, 8)
                    }
                    Some(_) => match self.buf.get(pos + 8..pos + 12) {
                        Some(b) => (u32_of([b[0], b[1], b[2], b[3]], true), 12),
                        None => return pos,
                    },
                }
            };
            if length == UNDEFINED_LENGTH {
                return pos;
            }
            pos = (pos + header_len).saturating_add(length as usize);
        }
    }

    fn wanted(&self, tag: u32) -> bool {
        let Some(tags) = &self.opts.specific_tags else {
            return true;
        };
        let mut i = self.wanted_from.get().min(tags.len());
        if i > 0 && tags[i - 1] >= tag {
            // Out of order: search afresh.
            i = tags.partition_point(|&t| t < tag);
        }
        while tags.get(i).is_some_and(|&t| t < tag) {
            i += 1;
        }
        self.wanted_from.set(i);
        tag == SPECIFIC_CHARACTER_SET || tags.get(i) == Some(&tag)
    }

    /// An undefined-length element: a sequence (walked to its delimiter) or a value read up to
    /// the sequence delimiter (encapsulated pixel data and the like).
    fn undefined_length(
        &self,
        header: Header,
        enc: Encoding,
        level: &Level,
        depth: usize,
    ) -> Result<(Element, usize)> {
        let (tag, pos) = (header.tag, header.value_offset);
        let mut vr = header.vr;
        if vr == Some(Vr::UN) && self.opts.infer_sq_for_un_vr {
            vr = Some(Vr::SQ);
        }
        if vr.is_none() || (vr == Some(Vr::UN) && self.opts.replace_un_with_known_vr) {
            match dictionary::dictionary_vr(tag) {
                Some(found) => vr = Some(found),
                None => match self.tag_at(pos, enc.little) {
                    Some(ITEM) => vr = Some(Vr::SQ),
                    Some(_) => {}
                    None => {
                        return Err(ParseError::Truncated {
                            offset: pos,
                            tag: Some(tag),
                        })
                    }
                },
            }
        }
        if vr == Some(Vr::SQ) {
            let next = self.walk_sequence(pos, enc, depth + 1)?;
            let element = Element {
                tag,
                vr,
                length: UNDEFINED_LENGTH,
                value_offset: pos,
                value_len: next - 8 - pos,
                kind: ValueKind::Sequence,
            };
            return Ok((element, next));
        }
        let (value_end, next, items) = self.delimited_value(pos, tag, enc)?;
        let value_len = value_end - pos;
        // pydicom counts the delimiter's tag in the item walk but not in the byte scan.
        let deferred = level.filters
            && self.opts.defer_size.is_some_and(|d| {
                let counted = if items { value_len + 4 } else { value_len };
                d <= counted as u64
            });
        let element = Element {
            tag,
            vr,
            length: UNDEFINED_LENGTH,
            value_offset: pos,
            value_len,
            kind: if deferred {
                ValueKind::Deferred
            } else {
                ValueKind::Bytes
            },
        };
        Ok((element, next))
    }

    /// Find the end of an undefined-length value: walk items to the sequence delimiter, or, if
    /// they don't lead there, scan for the delimiter bytes (pydicom's
    /// `read_undefined_length_value`). Returns (value end, offset after delimiter, found by items).
    fn delimited_value(
        &self,
        start: usize,
        tag: u32,
        enc: Encoding,
    ) -> Result<(usize, usize, bool)> {
        let mut pos = start;
        loop {
            match self.tag_at(pos, enc.little) {
                Some(SEQUENCE_DELIMITATION_ITEM) => return Ok((pos, pos + 8, true)),
                Some(ITEM) => match self.u32_at(pos + 4, enc.little) {
                    Some(length) => pos = pos + 8 + length as usize,
                    None => break,
                },
                _ => break,
            }
        }
        let delimiter = if enc.little {
            SEQUENCE_DELIMITER_LE
        } else {
            SEQUENCE_DELIMITER_BE
        };
        match find(&self.buf[start.min(self.buf.len())..], &delimiter) {
            Some(at) => Ok((start + at, start + at + 8, false)),
            None => Err(ParseError::MissingDelimiter { offset: start, tag }),
        }
    }

    /// Walk the items of an undefined-length sequence; returns the offset after its delimiter.
    fn walk_sequence(&self, mut pos: usize, enc: Encoding, depth: usize) -> Result<usize> {
        if depth > MAX_DEPTH {
            return Err(ParseError::TooDeep {
                offset: pos,
                depth: MAX_DEPTH,
            });
        }
        loop {
            let (tag, length) = self.item_header(pos, enc.little, None)?;
            if tag == SEQUENCE_DELIMITATION_ITEM {
                return Ok(pos + 8);
            }
            if tag != ITEM {
                return Err(irregular(pos, Some(tag), "item expected"));
            }
            let start = pos + 8;
            let item_enc = self.item_encoding(start, enc);
            pos = if length == UNDEFINED_LENGTH {
                self.walk(start, Limit::ItemDelimiter, item_enc, &Level::NESTED, depth)?
                    .1
            } else {
                let end = start + length as usize;
                if end > self.buf.len() {
                    return Err(ParseError::Truncated {
                        offset: start,
                        tag: Some(ITEM),
                    });
                }
                self.walk(start, Limit::At(end), item_enc, &Level::NESTED, depth)?;
                end
            };
        }
    }

    /// The tag and length of the item (or delimiter) header at `pos`; running out of input
    /// there is a truncation of the sequence `within`.
    fn item_header(&self, pos: usize, little: bool, within: Option<u32>) -> Result<(u32, u32)> {
        match (self.tag_at(pos, little), self.u32_at(pos + 4, little)) {
            (Some(tag), Some(length)) => Ok((tag, length)),
            _ => Err(ParseError::Truncated {
                offset: pos,
                tag: within,
            }),
        }
    }

    /// Items of explicit-VR data may be implicit; pydicom sniffs each one.
    fn item_encoding(&self, start: usize, enc: Encoding) -> Encoding {
        if enc.implicit {
            return enc;
        }
        match self.peek_sniff(start, enc.little) {
            Some((_, code)) if !vr::looks_explicit(code) => Encoding {
                implicit: true,
                ..enc
            },
            _ => enc,
        }
    }
}

// A tag is written as group then element, each in the dataset's byte order.
const SEQUENCE_DELIMITER_LE: [u8; 4] = SEQUENCE_DELIMITATION_ITEM.rotate_left(16).to_le_bytes();
const SEQUENCE_DELIMITER_BE: [u8; 4] = SEQUENCE_DELIMITATION_ITEM.to_be_bytes();

fn find(haystack: &[u8], needle: &[u8; 4]) -> Option<usize> {
    haystack.windows(4).position(|w| w == needle)
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
