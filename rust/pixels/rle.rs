//! RLE Lossless (DICOM PS3.5 Annex G) frame decoding, with pydicom 3.0.2's exact results:
//! the output is pydicom's `_rle_decode_frame` layout (planar configuration 1, each sample's
//! bytes little endian), its errors carry pydicom's messages, and its one warning is returned
//! for the caller to emit.
//!
//! A frame's segments are decoded in lockstep, a step of pixels at a time, each step staged in
//! a small buffer that stays in the L1 cache and then written out interleaved: the output is
//! written once, sequentially, with no per-segment plane and no second pass. Two output
//! layouts: pydicom's plugin layout (one plane per sample), and the layout of pydicom's final
//! array (rows, columns, samples; C order), which whole arrays are decoded into directly,
//! frames in parallel. Every read and write is bounds-checked by slicing, and output beyond
//! a segment's `rows * columns` bytes is counted, never written.

use super::parallel::map_queued;
use std::fmt;

/// Byte order of the segments of one sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentOrder {
    /// Most significant byte first, as the standard says (pydicom's `">"`).
    Big,
    /// Least significant byte first: non-conformant data (pydicom's `"<"`).
    Little,
    /// Any other option value: pydicom then reads segments in big-endian order but places
    /// them as if little endian (it flips byte positions only for exactly `">"`).
    Other,
}

/// Where a frame's decoded samples go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One plane per sample (planar configuration 1): what pydicom's RLE plugins return.
    Planar,
    /// Samples of a pixel together (rows, columns, samples): pydicom's final array.
    Interleaved,
}

/// Why a frame cannot be decoded; `Display` gives pydicom's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RleError {
    /// BitsAllocated is not a multiple of 8 (pydicom raises NotImplementedError).
    BitsAllocated(u32),
    /// The frame is shorter than its 64-byte header.
    ShortHeader,
    /// The header names more than 15 segments.
    TooManySegments(u32),
    /// The segment count is not samples x bytes per sample.
    SegmentCount { found: usize, expected: usize },
    /// A segment decoded to fewer than rows x columns bytes.
    ShortSegment { found: usize, expected: usize },
    /// The output would not fit in memory (rows x columns x samples x bytes overflows).
    TooLarge,
}

impl fmt::Display for RleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RleError::BitsAllocated(bits) => write!(
                f,
                "Unable to decode RLE encoded pixel data with {bits} bits allocated"
            ),
            RleError::ShortHeader => write!(f, "The RLE header can only be 64 bytes long"),
            RleError::TooManySegments(n) => write!(
                f,
                "The RLE header specifies an invalid number of segments ({n})"
            ),
            RleError::SegmentCount { found, expected } => write!(
                f,
                "The number of RLE segments in the pixel data doesn't match the expected \
                 amount ({found} vs. {expected} segments)"
            ),
            RleError::ShortSegment { found, expected } => write!(
                f,
                "The amount of decoded RLE segment data doesn't match the expected amount \
                 ({found} vs. {expected} bytes)"
            ),
            RleError::TooLarge => write!(f, "The decoded RLE frame would be too large"),
        }
    }
}

impl std::error::Error for RleError {}

/// The shape of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameShape {
    pub rows: u32,
    pub columns: u32,
    pub samples_per_pixel: u32,
    pub bits_allocated: u32,
}

impl FrameShape {
    /// Bytes of one decoded frame, or an error when the size overflows.
    pub fn frame_len(&self) -> Result<usize, RleError> {
        if self.bits_allocated % 8 != 0 {
            return Err(RleError::BitsAllocated(self.bits_allocated));
        }
        (self.rows as usize)
            .checked_mul(self.columns as usize)
            .and_then(|n| n.checked_mul(self.samples_per_pixel as usize))
            .and_then(|n| n.checked_mul(self.bits_allocated as usize / 8))
            .ok_or(RleError::TooLarge)
    }
}

/// What decoding found that pydicom warns about: segments longer than rows x columns (each
/// entry is (decoded length, expected length)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Padding(pub Vec<(usize, usize)>);

impl Padding {
    /// Judge a segment that decoded to `found` bytes where `expected` were wanted: too few
    /// is pydicom's error, too many its padding warning (recorded here).
    fn judge(&mut self, found: usize, expected: usize) -> Result<(), RleError> {
        if found < expected {
            return Err(RleError::ShortSegment { found, expected });
        }
        if found != expected {
            self.0.push((found, expected));
        }
        Ok(())
    }

    /// pydicom's warning text for each padded segment.
    pub fn messages(&self) -> impl Iterator<Item = String> + '_ {
        self.0.iter().map(|(found, expected)| {
            format!(
                "The decoded RLE segment contains non-conformant padding - {found} vs. \
                 {expected} bytes expected"
            )
        })
    }
}

/// Decode one RLE frame into `out`, which must be `shape.frame_len()` bytes. Padded
/// segments met before an error are in the error's `Padding` too, since pydicom warns about
/// each as it meets it.
pub fn decode_frame(
    src: &[u8],
    shape: FrameShape,
    order: SegmentOrder,
    out: &mut [u8],
) -> Result<Padding, (RleError, Padding)> {
    decode_frame_as(src, shape, order, Layout::Planar, out)
}

/// One frame's outcome: its padding warnings, or the error and the warnings before it.
pub type FrameResult = Result<Padding, (RleError, Padding)>;

/// Decode one RLE frame into `out` (`shape.frame_len()` bytes) in `layout`.
pub fn decode_frame_as(
    src: &[u8],
    shape: FrameShape,
    order: SegmentOrder,
    layout: Layout,
    out: &mut [u8],
) -> FrameResult {
    let mut padding = Padding::default();
    match decode_into(src, shape, order, layout, out, &mut padding) {
        Ok(()) => Ok(padding),
        Err(err) => Err((err, padding)),
    }
}

/// The checks pydicom makes before it allocates the output, in its order: bit depth, header
/// length, segment count. Returns the segment offsets, then the end of `src`.
pub fn check_header(src: &[u8], shape: FrameShape) -> Result<Vec<usize>, RleError> {
    if shape.bits_allocated % 8 != 0 {
        return Err(RleError::BitsAllocated(shape.bits_allocated));
    }
    let header: &[u8; 64] = src
        .get(..64)
        .and_then(|h| h.try_into().ok())
        .ok_or(RleError::ShortHeader)?;
    let word = |i: usize| {
        u32::from_le_bytes([
            header[4 * i],
            header[4 * i + 1],
            header[4 * i + 2],
            header[4 * i + 3],
        ])
    };
    let nr_segments = word(0);
    if nr_segments > 15 {
        return Err(RleError::TooManySegments(nr_segments));
    }
    let bytes_per_sample = (shape.bits_allocated / 8) as usize;
    let samples = shape.samples_per_pixel as usize;
    let expected = samples * bytes_per_sample;
    if nr_segments as usize != expected {
        return Err(RleError::SegmentCount {
            found: nr_segments as usize,
            expected,
        });
    }
    let mut offsets: Vec<usize> = (1..=expected).map(|i| word(i) as usize).collect();
    offsets.push(src.len());
    Ok(offsets)
}

/// The usual transparent huge page size.
const HUGE_PAGE: usize = 2 << 20;

/// Decode `frames` (one encoded frame each) into consecutive frames of `out`
/// (`frames.len() * shape.frame_len()` bytes) in `layout`, on up to `threads` threads, then
/// call `after` on each decoded frame while it is still in cache. Every frame is decoded
/// whatever the others' outcome; results are in frame order.
pub fn decode_frames(
    frames: &[&[u8]],
    shape: FrameShape,
    order: SegmentOrder,
    layout: Layout,
    out: &mut [u8],
    threads: usize,
    after: &(dyn Fn(&mut [u8]) + Sync),
) -> Result<Vec<FrameResult>, RleError> {
    let frame_len = shape.frame_len()?;
    let total = frame_len
        .checked_mul(frames.len())
        .ok_or(RleError::TooLarge)?;
    assert_eq!(out.len(), total, "output buffer must hold every frame");
    let decode = |src: &[u8], out: &mut [u8]| {
        let result = decode_frame_as(src, shape, order, layout, out);
        if result.is_ok() {
            after(out);
        }
        result
    };
    // Empty frames have no bytes to split the output by.
    if frame_len == 0 {
        let mut none: [u8; 0] = [];
        return Ok(frames
            .iter()
            .map(|src| decode_frame_as(src, shape, order, layout, &mut none))
            .collect());
    }
    // Runs of frames taken in turn from a queue, each written only to its own part of
    // `out`. A run spans about 2 MiB of output, so threads fault in (and the kernel zeroes)
    // separate huge pages rather than meeting in the same one (benches/report_rle.py).
    // No run is longer than a thread's share.
    let run = (HUGE_PAGE / frame_len)
        .min(frames.len().div_ceil(threads.max(1)))
        .max(1);
    let work: Vec<_> = frames
        .chunks(run)
        .zip(out.chunks_mut(frame_len * run))
        .collect();
    let runs = map_queued(work, threads, |(srcs, out): (&[&[u8]], &mut [u8])| {
        srcs.iter()
            .zip(out.chunks_mut(frame_len))
            .map(|(src, out)| decode(src, out))
            .collect::<Vec<_>>()
    });
    Ok(runs.into_iter().flatten().collect())
}

/// The segments of a frame in the order pydicom decodes them: (sample, the segment's index
/// in the header, the byte of the little-endian output sample it fills).
fn segment_layout(
    shape: FrameShape,
    order: SegmentOrder,
) -> impl Iterator<Item = (usize, usize, usize)> {
    let bytes_per_sample = (shape.bits_allocated / 8) as usize;
    let samples = shape.samples_per_pixel as usize;
    (0..samples).flat_map(move |sample| {
        (0..bytes_per_sample).map(move |byte| {
            // Segment order within a sample, as pydicom iterates it.
            let byte_offset = match order {
                SegmentOrder::Little => byte,
                SegmentOrder::Big | SegmentOrder::Other => bytes_per_sample - 1 - byte,
            };
            // Output is little endian: the most significant segment goes to the last byte.
            let out_byte = match order {
                SegmentOrder::Big => bytes_per_sample - byte_offset - 1,
                SegmentOrder::Little | SegmentOrder::Other => byte_offset,
            };
            (sample, sample * bytes_per_sample + byte_offset, out_byte)
        })
    })
}

/// Decode one frame in `layout`. Warnings and errors are pydicom's: segments are judged in
/// the order pydicom decodes them, each by its total length.
fn decode_into(
    src: &[u8],
    shape: FrameShape,
    order: SegmentOrder,
    layout: Layout,
    out: &mut [u8],
    padding: &mut Padding,
) -> Result<(), RleError> {
    let offsets = check_header(src, shape)?;
    let frame_len = shape.frame_len()?;
    assert_eq!(out.len(), frame_len, "output buffer must hold one frame");
    let bytes_per_sample = (shape.bits_allocated / 8) as usize;
    let pixels = shape.rows as usize * shape.columns as usize;
    // (segment reader, byte within a sample), in the order pydicom decodes segments, which
    // takes the samples in turn.
    let mut segments = Vec::with_capacity(offsets.len());
    for (_, index, out_byte) in segment_layout(shape, order) {
        let data = py_slice(src, offsets[index], offsets[index + 1]);
        segments.push((Segment::new(data), out_byte));
    }
    // No pixels or no segments (0 samples or bits): nothing to write, only lengths to judge.
    if pixels > 0 && !segments.is_empty() {
        match layout {
            // Each sample's segments into its own plane.
            Layout::Planar => {
                let plane = pixels * bytes_per_sample;
                for (group, out) in segments
                    .chunks_mut(bytes_per_sample)
                    .zip(out.chunks_mut(plane))
                {
                    decode_lockstep(group, out, pixels, |_| 0);
                }
            }
            // All segments together: a sample's bytes follow the previous sample's.
            Layout::Interleaved => decode_lockstep(&mut segments, out, pixels, |k| {
                k / bytes_per_sample * bytes_per_sample
            }),
        }
    }
    for (segment, _) in segments {
        padding.judge(segment.finish(), pixels)?;
    }
    Ok(())
}

/// Pixels decoded per step of `decode_lockstep`.
const STEP: usize = 2048;

/// Decode `pixels` pixels of `segments` in lockstep into `out`, where a pixel is one byte
/// of each segment: segment `k`'s byte goes to byte `base(k) + segments[k].1` of the pixel.
/// Stops early when a segment runs short (the frame is then an error, its output unused).
fn decode_lockstep(
    segments: &mut [(Segment<'_>, usize)],
    out: &mut [u8],
    pixels: usize,
    base: impl Fn(usize) -> usize,
) {
    let pixel_bytes = segments.len();
    let places: Vec<usize> = (0..pixel_bytes).map(|k| base(k) + segments[k].1).collect();
    if pixel_bytes == 1 {
        // One segment: decoded straight into the output.
        segments[0].0.fill(out, pixels);
        return;
    }
    // Each segment's share may be overrun by up to a run (see `fill`): into the next
    // segment's share, which is filled after it, or into the slack at the end.
    let mut staged = vec![0u8; STEP * pixel_bytes + MAX_RUN];
    let mut done = 0;
    while done < pixels {
        let n = STEP.min(pixels - done);
        let mut complete = true;
        for (k, (segment, _)) in segments.iter_mut().enumerate() {
            complete &= segment.fill(&mut staged[k * STEP..], n) == n;
        }
        if !complete {
            break;
        }
        let window = &mut out[done * pixel_bytes..(done + n) * pixel_bytes];
        interleave(window, &staged, &places, n);
        done += n;
    }
}

/// Write `n` pixels to `window` from the staged segment bytes (segment `k`'s at
/// `staged[k * STEP..]`), each to its byte of the pixel, `places[k]`.
fn interleave(window: &mut [u8], staged: &[u8], places: &[usize], n: usize) {
    let pixel_bytes = places.len();
    if pixel_bytes == 2 {
        // 16-bit single sample, the common case: two planes zipped (vectorizes).
        let (first, second) = (&staged[..n], &staged[STEP..STEP + n]);
        let (low, high) = if places[0] == 0 {
            (first, second)
        } else {
            (second, first)
        };
        for ((pixel, &lo), &hi) in window.chunks_exact_mut(2).zip(low).zip(high) {
            pixel[0] = lo;
            pixel[1] = hi;
        }
        return;
    }
    for (k, &at) in places.iter().enumerate() {
        let plane = &staged[k * STEP..k * STEP + n];
        for (pixel, &value) in window.chunks_exact_mut(pixel_bytes).zip(plane) {
            pixel[at] = value;
        }
    }
}

/// The longest PackBits run.
const MAX_RUN: usize = 128;

/// The bytes a run header stands for (none for the -128 no-op).
fn run_length(header: u8) -> usize {
    match header {
        0..=127 => header as usize + 1,
        129..=255 => 257 - header as usize,
        128 => 0,
    }
}

/// A PackBits segment decoded incrementally: each `fill` goes on where the last stopped.
struct Segment<'a> {
    src: &'a [u8],
    pos: usize,
    /// The rest of a run begun by an earlier `fill`.
    pending: Run<'a>,
    /// Bytes decoded so far.
    decoded: usize,
}

enum Run<'a> {
    None,
    Literal(&'a [u8]),
    Repeat(u8, usize),
}

impl<'a> Segment<'a> {
    fn new(src: &'a [u8]) -> Self {
        Segment {
            src,
            pos: 0,
            pending: Run::None,
            decoded: 0,
        }
    }

    /// Decode into `out[..want]` until that is full or the segment ends; returns the bytes
    /// written. A run cut short by the end of input is truncated, as pydicom does; -128 is
    /// a no-op; a replicate header without its value ends the segment. Bytes of
    /// `out` past `want` may be overwritten: whole runs are copied as fixed
    /// `MAX_RUN`-byte blocks where `out` and the input leave room, which avoids a
    /// variable-length copy per run (runs are short: tens of bytes in CT data).
    fn fill(&mut self, out: &mut [u8], want: usize) -> usize {
        let want = want.min(out.len());
        let mut n = 0;
        loop {
            match &mut self.pending {
                Run::None => {
                    // The fast path: whole runs that fit, each with a block of room after it.
                    while let (Some(block), Some(input)) = (
                        out.get_mut(n..n + MAX_RUN),
                        // (`pos` may be past the end, even usize::MAX, when the input is)
                        self.src
                            .get(self.pos..)
                            .and_then(|rest| rest.get(..1 + MAX_RUN)),
                    ) {
                        let header = input[0];
                        let len = run_length(header);
                        if header == 128 || n + len > want {
                            break;
                        }
                        if header < 128 {
                            block.copy_from_slice(&input[1..]);
                            self.pos += 1 + len;
                        } else {
                            block.fill(input[1]);
                            self.pos += 2;
                        }
                        n += len;
                    }
                    if n == want {
                        break;
                    }
                    let Some(&header) = self.src.get(self.pos) else {
                        break;
                    };
                    self.pos += 1;
                    match header {
                        0..=127 => {
                            let len = self.src.len();
                            let end = self.pos.saturating_add(header as usize + 1);
                            self.pending = Run::Literal(&self.src[self.pos.min(len)..end.min(len)]);
                            self.pos = end;
                        }
                        129..=255 => match self.src.get(self.pos) {
                            Some(&value) => {
                                self.pending = Run::Repeat(value, 257 - header as usize);
                                self.pos += 1;
                            }
                            None => self.pos = usize::MAX, // nothing more is read
                        },
                        128 => {}
                    }
                }
                Run::Literal(bytes) => {
                    let take = bytes.len().min(want - n);
                    out[n..n + take].copy_from_slice(&bytes[..take]);
                    *bytes = &bytes[take..];
                    n += take;
                    if !bytes.is_empty() {
                        break;
                    }
                    self.pending = Run::None;
                }
                Run::Repeat(value, left) => {
                    let take = (*left).min(want - n);
                    out[n..n + take].fill(*value);
                    *left -= take;
                    n += take;
                    if *left > 0 {
                        break;
                    }
                    self.pending = Run::None;
                }
            }
        }
        self.decoded += n;
        n
    }

    /// The segment's whole decoded length (pydicom's `len(segment)`): what was decoded
    /// plus what is left, counted without being written.
    fn finish(self) -> usize {
        let mut total = self.decoded
            + match self.pending {
                Run::None => 0,
                Run::Literal(bytes) => bytes.len(),
                Run::Repeat(_, left) => left,
            };
        let mut pos = self.pos;
        while let Some(&header) = self.src.get(pos) {
            pos += 1;
            match header {
                0..=127 => {
                    let n = header as usize + 1;
                    total += n.min(self.src.len().saturating_sub(pos));
                    pos = pos.saturating_add(n);
                }
                129..=255 => {
                    if pos >= self.src.len() {
                        break;
                    }
                    total += 257 - header as usize;
                    pos += 1;
                }
                128 => {}
            }
        }
        total
    }
}

/// `src[start:end]` with Python's clamping (an empty slice when `start >= end`).
fn py_slice(src: &[u8], start: usize, end: usize) -> &[u8] {
    let end = end.min(src.len());
    &src[start.min(end)..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(segments: &[&[u8]]) -> Vec<u8> {
        let mut header = vec![0u8; 64];
        header[..4].copy_from_slice(&(segments.len() as u32).to_le_bytes());
        let mut offset = 64u32;
        for (i, seg) in segments.iter().enumerate() {
            header[4 + 4 * i..8 + 4 * i].copy_from_slice(&offset.to_le_bytes());
            offset += seg.len() as u32;
        }
        let mut out = header;
        for seg in segments {
            out.extend_from_slice(seg);
        }
        out
    }

    fn error(result: Result<Padding, (RleError, Padding)>) -> RleError {
        result.expect_err("an error").0
    }

    fn shape(rows: u32, columns: u32, spp: u32, bits: u32) -> FrameShape {
        FrameShape {
            rows,
            columns,
            samples_per_pixel: spp,
            bits_allocated: bits,
        }
    }

    #[test]
    fn literal_and_replicate_runs_cross_rows() {
        // 2x3 8-bit: literal [1, 2], replicate 4 x 9.
        let src = frame(&[&[1, 1, 2, 0xFD, 9]]);
        let mut out = vec![0; 6];
        let padding = decode_frame(&src, shape(2, 3, 1, 8), SegmentOrder::Big, &mut out).unwrap();
        assert_eq!(out, [1, 2, 9, 9, 9, 9]);
        assert!(padding.0.is_empty());
    }

    #[test]
    fn sixteen_bit_output_is_little_endian() {
        // One pixel 0x1234: MSB segment first.
        let src = frame(&[&[0, 0x12], &[0, 0x34]]);
        let mut out = vec![0; 2];
        decode_frame(&src, shape(1, 1, 1, 16), SegmentOrder::Big, &mut out).unwrap();
        assert_eq!(out, [0x34, 0x12]);
        decode_frame(&src, shape(1, 1, 1, 16), SegmentOrder::Little, &mut out).unwrap();
        assert_eq!(out, [0x12, 0x34]);
    }

    #[test]
    fn rgb_is_planar() {
        let src = frame(&[&[1, 1, 2], &[1, 3, 4], &[1, 5, 6]]);
        let mut out = vec![0; 6];
        decode_frame(&src, shape(1, 2, 3, 8), SegmentOrder::Big, &mut out).unwrap();
        assert_eq!(out, [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn no_op_padding_and_errors() {
        let mut out = vec![0; 2];
        // -128 no-op, then a literal of 3 where 2 are expected: a padding warning.
        let src = frame(&[&[0x80, 2, 7, 8, 9]]);
        let padding = decode_frame(&src, shape(1, 2, 1, 8), SegmentOrder::Big, &mut out).unwrap();
        assert_eq!(out, [7, 8]);
        assert_eq!(padding.0, vec![(3, 2)]);
        let short = frame(&[&[0, 7]]);
        assert_eq!(
            error(decode_frame(
                &short,
                shape(1, 2, 1, 8),
                SegmentOrder::Big,
                &mut out
            )),
            RleError::ShortSegment {
                found: 1,
                expected: 2
            }
        );
        assert_eq!(
            error(decode_frame(
                &short[..10],
                shape(1, 2, 1, 8),
                SegmentOrder::Big,
                &mut out
            )),
            RleError::ShortHeader
        );
        let wrong = frame(&[&[1, 7, 8], &[1, 7, 8]]);
        assert!(matches!(
            error(decode_frame(
                &wrong,
                shape(1, 2, 1, 8),
                SegmentOrder::Big,
                &mut out
            )),
            RleError::SegmentCount {
                found: 2,
                expected: 1
            }
        ));
        let mut bad = frame(&[&[1, 7, 8]]);
        bad[..4].copy_from_slice(&16u32.to_le_bytes());
        assert_eq!(
            error(decode_frame(
                &bad,
                shape(1, 2, 1, 8),
                SegmentOrder::Big,
                &mut out
            )),
            RleError::TooManySegments(16)
        );
    }

    #[test]
    fn runs_cut_short_and_offsets_out_of_range() {
        let mut out = vec![0; 4];
        // A literal of 4 with only 2 bytes left: truncated, then too short.
        let src = frame(&[&[3, 1, 2]]);
        assert_eq!(
            error(decode_frame(
                &src,
                shape(2, 2, 1, 8),
                SegmentOrder::Big,
                &mut out
            )),
            RleError::ShortSegment {
                found: 2,
                expected: 4
            }
        );
        // An offset past the end gives an empty segment.
        let mut src = frame(&[&[0xFD, 5]]);
        src[4..8].copy_from_slice(&1000u32.to_le_bytes());
        assert_eq!(
            error(decode_frame(
                &src,
                shape(2, 2, 1, 8),
                SegmentOrder::Big,
                &mut out
            )),
            RleError::ShortSegment {
                found: 0,
                expected: 4
            }
        );
        // A replicate header without its value ends the segment (here after 128 bytes).
        let mut out = vec![0; 2 * 200];
        let segment = [0x81, 7, 0xFF];
        let src = frame(&[&segment, &segment]);
        for layout in [Layout::Planar, Layout::Interleaved] {
            let result = decode_frame_as(
                &src,
                shape(10, 20, 1, 16),
                SegmentOrder::Big,
                layout,
                &mut out,
            );
            assert_eq!(
                error(result),
                RleError::ShortSegment {
                    found: 128,
                    expected: 200
                }
            );
        }
    }

    #[test]
    fn not_a_multiple_of_eight_bits() {
        let mut out = vec![];
        assert_eq!(
            error(decode_frame(
                &[],
                shape(1, 1, 1, 12),
                SegmentOrder::Big,
                &mut out
            )),
            RleError::BitsAllocated(12)
        );
    }

    #[test]
    fn interleaved_layout_and_frames_in_parallel() {
        // 1x2 RGB 16-bit: R = [0x0102, 0x0304], G = [0x0506, 0x0708], B = [0x090A, 0x0B0C].
        let src = frame(&[
            &[1, 1, 3],
            &[1, 2, 4],
            &[1, 5, 7],
            &[1, 6, 8],
            &[1, 9, 11],
            &[1, 10, 12],
        ]);
        let shape = shape(1, 2, 3, 16);
        let mut out = vec![0; 12];
        decode_frame_as(
            &src,
            shape,
            SegmentOrder::Big,
            Layout::Interleaved,
            &mut out,
        )
        .unwrap();
        assert_eq!(out, [2, 1, 6, 5, 10, 9, 4, 3, 8, 7, 12, 11]);
        let mut planar = vec![0; 12];
        decode_frame(&src, shape, SegmentOrder::Big, &mut planar).unwrap();
        assert_eq!(planar, [2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11]);
        // Five frames on three threads, one of them short: every frame decoded, in order.
        let short = frame(&[&[0, 1], &[0, 1], &[0, 1], &[0, 1], &[0, 1], &[0, 1]]);
        let frames: Vec<&[u8]> = vec![&src, &src, &short, &src, &src];
        let mut all = vec![0; 60];
        let results = decode_frames(
            &frames,
            shape,
            SegmentOrder::Big,
            Layout::Interleaved,
            &mut all,
            3,
            &|_| {},
        )
        .unwrap();
        assert_eq!(results.len(), 5);
        assert!(results[2].is_err());
        for k in [0, 1, 3, 4] {
            assert!(results[k].is_ok());
            assert_eq!(all[12 * k..12 * k + 12], out);
        }
    }

    #[test]
    fn frames_in_runs_match_frames_one_by_one() {
        // Frames of 1 KiB to 3 MiB (runs of one to many frames), some short, on 1 to 3
        // threads: each frame's bytes and result are those of decoding it alone.
        for (rows, count) in [(16, 7), (512, 9), (1024, 5), (1536, 3)] {
            let shape = shape(rows, 1024, 1, 16);
            let frame_len = shape.frame_len().unwrap();
            let frames: Vec<Vec<u8>> = (0..count)
                .map(|k| {
                    // High bytes: replicate runs of k; low bytes: literal runs; the last
                    // frame's low segment cut short.
                    let (mut high, mut low) = (Vec::new(), Vec::new());
                    let mut left = frame_len / 2;
                    while left > 0 {
                        let n = left.min(128);
                        high.extend([(1 - n as i32) as u8, k as u8]);
                        if k + 1 < count || low.len() < 10 {
                            low.push((n - 1) as u8);
                            low.extend((0..n).map(|i| (i + k) as u8));
                        }
                        left -= n;
                    }
                    frame(&[&high, &low])
                })
                .collect();
            let srcs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
            let alone: Vec<(Vec<u8>, bool)> = srcs
                .iter()
                .map(|src| {
                    let mut out = vec![0; frame_len];
                    let ok = decode_frame_as(
                        src,
                        shape,
                        SegmentOrder::Big,
                        Layout::Interleaved,
                        &mut out,
                    )
                    .is_ok();
                    (out, ok)
                })
                .collect();
            for threads in 1..=3 {
                let mut all = vec![0; frame_len * count];
                let results = decode_frames(
                    &srcs,
                    shape,
                    SegmentOrder::Big,
                    Layout::Interleaved,
                    &mut all,
                    threads,
                    &|_| {},
                )
                .unwrap();
                assert_eq!(results.len(), count);
                for (k, (want, ok)) in alone.iter().enumerate() {
                    assert_eq!(results[k].is_ok(), *ok, "{rows} {threads} {k}");
                    assert_eq!(*ok, k + 1 < count, "{rows} {k}");
                    if *ok {
                        assert!(
                            all[k * frame_len..][..frame_len] == want[..],
                            "{rows} {threads} {k}"
                        );
                    }
                }
            }
        }
    }
}
