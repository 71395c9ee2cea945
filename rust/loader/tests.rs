//! The loader's tests: files built byte by byte, described and read as pydicom would.

use super::pixel_file::{Data, Frames, PixelFile, HEAD, RLE_LOSSLESS};
use super::*;
use crate::pixels::lut::{Transform, VoiFunction, Window};
use crate::pixels::native::SampleFormat;
use crate::source::Source;
use crate::tags::{
    self, BITS_ALLOCATED, BITS_STORED, COLUMNS, NUMBER_OF_FRAMES, PHOTOMETRIC_INTERPRETATION,
    PIXEL_DATA, PIXEL_REPRESENTATION, RESCALE_INTERCEPT, RESCALE_SLOPE, ROWS, SAMPLES_PER_PIXEL,
    VOILUT_FUNCTION, WINDOW_CENTER, WINDOW_WIDTH,
};
use crate::test_support::{words, Bytes};
use std::fs::File;

/// One explicit VR element in the given byte order.
fn element(tag: u32, vr: &str, value: &[u8], little: bool) -> Vec<u8> {
    let mut bytes = Bytes::default();
    bytes.explicit_in(tag, vr, value, little);
    bytes.0
}

fn us(v: u16, little: bool) -> Vec<u8> {
    words([v], little)
}

/// A Part 10 file: 16-bit signed, Bits Stored 12, `rows` x 3, `frames` frames, with
/// `extra` elements (sorted by the caller) before the pixel data.
fn file(ts: &str, samples: &[i16], rows: u16, frames: u16, extra: &[Vec<u8>]) -> Vec<u8> {
    let little = ts != "1.2.840.10008.1.2.2";
    let mut out = vec![0; 128];
    out.extend_from_slice(b"DICM");
    let mut uid = ts.as_bytes().to_vec();
    if uid.len() % 2 == 1 {
        uid.push(0);
    }
    out.extend(element(tags::TRANSFER_SYNTAX_UID, "UI", &uid, true));
    let mut body = Vec::new();
    body.extend(element(SAMPLES_PER_PIXEL, "US", &us(1, little), little));
    body.extend(element(
        PHOTOMETRIC_INTERPRETATION,
        "CS",
        b"MONOCHROME2 ",
        little,
    ));
    if frames > 1 {
        let n = format!("{frames} ");
        body.extend(element(
            NUMBER_OF_FRAMES,
            "IS",
            &n.as_bytes()[..n.len() & !1],
            little,
        ));
    }
    body.extend(element(ROWS, "US", &us(rows, little), little));
    body.extend(element(COLUMNS, "US", &us(3, little), little));
    body.extend(element(BITS_ALLOCATED, "US", &us(16, little), little));
    body.extend(element(BITS_STORED, "US", &us(12, little), little));
    body.extend(element(PIXEL_REPRESENTATION, "US", &us(1, little), little));
    for e in extra {
        body.extend_from_slice(e);
    }
    let data = words(samples.iter().map(|&v| v as u16), little);
    body.extend(element(PIXEL_DATA, "OW", &data, little));
    out.extend(body);
    out
}

fn open(bytes: Vec<u8>) -> Result<PixelFile, Fallback> {
    PixelFile::from_source(Source::Owned(bytes))
}

fn raw(file: &PixelFile, index: usize) -> Vec<i16> {
    let mut out = vec![0u8; file.frame_len()];
    let mut scratch = Scratch::default();
    let t = Transform::default();
    file.read_frame(index, Slot::Raw(&mut out), &t, &mut scratch)
        .unwrap();
    out.chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

// 0x0FFF is -1 in 12 bits; 0x7FF stays 2047.
const SAMPLES: [i16; 12] = [0, 1, -1, 0x0FFF, 0x07FF, -2048, 5, 6, 7, 8, 9, 10];

#[test]
fn native_frames_in_either_byte_order() {
    for ts in ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"] {
        let f = open(file(ts, &SAMPLES, 2, 2, &[])).unwrap();
        assert_eq!(f.number_of_frames(), 2);
        assert_eq!(raw(&f, 0), [0, 1, -1, -1, 2047, -2048]);
        assert_eq!(raw(&f, 1), [5, 6, 7, 8, 9, 10]);
        let mut out = vec![0u8; 12];
        let err = f.read_frame(
            2,
            Slot::Raw(&mut out),
            &Transform::default(),
            &mut Scratch::default(),
        );
        assert!(err.is_err());
    }
}

#[test]
fn rescale_and_window_from_the_dataset() {
    let extra = [
        element(WINDOW_CENTER, "DS", b"40\\300 ", true),
        element(WINDOW_WIDTH, "DS", b"400 ", true),
        element(RESCALE_INTERCEPT, "DS", b"-1024 ", true),
        element(RESCALE_SLOPE, "DS", b"2 ", true),
    ];
    let f = open(file("1.2.840.10008.1.2.1", &SAMPLES, 2, 2, &extra)).unwrap();
    let both = Processing {
        modality_lut: true,
        voi_lut: true,
        voi_index: 1,
    };
    let t = f.transform(both).unwrap();
    let r = t.rescale.unwrap();
    assert_eq!((r.slope, r.intercept), (2.0, -1024.0));
    let w = Window::new(VoiFunction::Linear, 300.0, 400.0, 12, true, Some(r));
    assert_eq!(t.window, w);
    let mut out = vec![0f32; 6];
    f.read_frame(0, Slot::Float(&mut out), &t, &mut Scratch::default())
        .unwrap();
    let want: Vec<f32> = [0i16, 1, -1, -1, 2047, -2048]
        .iter()
        .map(|&v| w.unwrap().apply(v as f64 * 2.0 - 1024.0) as f32)
        .collect();
    assert_eq!(out, want);
    // VOI index 2 is beyond the two centers: pydicom raises, so pydicom decides.
    assert!(f
        .transform(Processing {
            voi_index: 2,
            ..both
        })
        .is_err());
    let only_modality = Processing {
        voi_lut: false,
        ..both
    };
    assert_eq!(f.transform(only_modality).unwrap().window, None);
}

#[test]
fn unusual_files_are_left_to_pydicom() {
    // Another codec.
    assert!(open(file("1.2.840.10008.1.2.4.50", &SAMPLES, 2, 2, &[])).is_err());
    // A short Pixel Data value, and one of the wrong number of frames.
    assert!(open(file("1.2.840.10008.1.2.1", &SAMPLES[..10], 2, 2, &[])).is_err());
    assert!(open(file("1.2.840.10008.1.2.1", &SAMPLES, 2, 3, &[])).is_err());
    assert!(open(b"not dicom".to_vec()).is_err());
    // A YBR photometric interpretation.
    let mut ybr = file("1.2.840.10008.1.2.1", &SAMPLES, 2, 2, &[]);
    let at = ybr.windows(12).position(|w| w == b"MONOCHROME2 ").unwrap();
    ybr[at..at + 12].copy_from_slice(b"YBR_FULL    ");
    assert!(open(ybr).is_err());
    // An unusual window function.
    let extra = [
        element(WINDOW_CENTER, "DS", b"40", true),
        element(WINDOW_WIDTH, "DS", b"40", true),
        element(VOILUT_FUNCTION, "CS", b"LOG ", true),
    ];
    let f = open(file("1.2.840.10008.1.2.1", &SAMPLES, 2, 2, &extra)).unwrap();
    let voi = Processing {
        voi_lut: true,
        ..Processing::default()
    };
    assert!(f.transform(voi).is_err());
    assert!(f.transform(Processing::default()).is_ok());
}

#[test]
fn batches_over_files_and_threads() {
    let dir = std::env::temp_dir().join(format!("dcmfast-loader-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = dir.join("a.dcm");
    let b = dir.join("b.dcm");
    std::fs::write(&a, file("1.2.840.10008.1.2.1", &SAMPLES, 2, 2, &[])).unwrap();
    std::fs::write(&b, file("1.2.840.10008.1.2.2", &SAMPLES, 2, 2, &[])).unwrap();
    let items = vec![
        (b.clone(), 1),
        (a.clone(), 0),
        (dir.join("missing.dcm"), 0),
        (a.clone(), 1),
        (b.clone(), 0),
    ];
    let geometry = FrameGeometry {
        rows: 2,
        columns: 3,
        samples_per_pixel: 1,
    };
    let format = SampleFormat {
        bytes: 2,
        little: true,
        signed: true,
    };
    for threads in [1, 2, 4] {
        let mut out = vec![0u8; 5 * 12];
        let batch = Batch::Raw(&mut out, format);
        let outcome = read_batch(
            &items,
            geometry,
            batch,
            Processing::default(),
            threads,
            &RecentFiles::default(),
        )
        .unwrap();
        assert_eq!(outcome.fallbacks.len(), 1);
        assert_eq!(outcome.fallbacks[0].0, 2);
        let values: Vec<i16> = out
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(&values[..6], &[5, 6, 7, 8, 9, 10]);
        assert_eq!(&values[6..12], &[0, 1, -1, -1, 2047, -2048]);
        assert_eq!(&values[12..18], &[0; 6]);
        assert_eq!(&values[24..], &[0, 1, -1, -1, 2047, -2048]);
    }
    // A batch of the wrong size is an error, not a panic.
    let mut short = vec![0f32; 7];
    let batch = Batch::Float(&mut short);
    let recent = RecentFiles::default();
    assert!(read_batch(&items, geometry, batch, Processing::default(), 2, &recent).is_err());
    // Another frame shape: every frame of that file falls back.
    let wide = FrameGeometry {
        columns: 2,
        rows: 3,
        ..geometry
    };
    let mut out = vec![0f32; 5 * 6];
    let outcome = read_batch(
        &items,
        wide,
        Batch::Float(&mut out),
        Processing::default(),
        2,
        &RecentFiles::default(),
    )
    .unwrap();
    assert_eq!(outcome.fallbacks.len(), 5);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn frames_read_after_the_header() {
    // Frames of 3000 x 3 samples: the files outgrow the head read.
    let samples: Vec<i16> = (0..18_000).map(|i| (i % 4096) as i16 - 2048).collect();
    let dir = std::env::temp_dir().join(format!("dcmfast-head-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let extra = [
        element(RESCALE_INTERCEPT, "DS", b"-3", true),
        element(RESCALE_SLOPE, "DS", b"2 ", true),
    ];
    for ts in ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"] {
        let path = dir.join(format!("{ts}.dcm"));
        let bytes = file(
            ts,
            &samples,
            3000,
            2,
            if ts.ends_with(".1") { &extra } else { &[] },
        );
        assert!(bytes.len() > HEAD);
        std::fs::write(&path, &bytes).unwrap();
        let f = PixelFile::open(&path).unwrap();
        assert!(matches!(f.data, Data::File(_)));
        let mapped = open(bytes.clone()).unwrap();
        for index in 0..2 {
            assert_eq!(raw(&f, index), raw(&mapped, index));
            assert_eq!(raw(&f, index)[..3], samples[index * 9000..index * 9000 + 3]);
        }
        let t = f
            .transform(Processing {
                modality_lut: true,
                ..Processing::default()
            })
            .unwrap();
        let (mut a, mut b) = (vec![0f32; 9000], vec![0f32; 9000]);
        f.read_frame(1, Slot::Float(&mut a), &t, &mut Scratch::default())
            .unwrap();
        mapped
            .read_frame(1, Slot::Float(&mut b), &t, &mut Scratch::default())
            .unwrap();
        assert_eq!(a, b);
        // Cut short: the length check fails from the head as from the whole file.
        std::fs::write(&path, &bytes[..bytes.len() - 2]).unwrap();
        assert!(PixelFile::open(&path).is_err());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// 16-bit samples as one RLE Lossless fragment: the high bytes' segment, then the low
/// bytes', each in literal runs (padded to even length with a no-op byte).
fn rle_fragment(samples: &[i16]) -> Vec<u8> {
    let segment = |byte: usize| {
        let bytes: Vec<u8> = samples.iter().map(|v| v.to_be_bytes()[byte]).collect();
        let mut out = Vec::new();
        for run in bytes.chunks(128) {
            out.push(run.len() as u8 - 1);
            out.extend_from_slice(run);
        }
        if out.len() % 2 == 1 {
            out.push(0x80);
        }
        out
    };
    let (high, low) = (segment(0), segment(1));
    let mut header = [0u32; 16];
    header[0] = 2;
    header[1] = 64;
    header[2] = 64 + high.len() as u32;
    let mut out: Vec<u8> = header.iter().flat_map(|v| v.to_le_bytes()).collect();
    out.extend(high);
    out.extend(low);
    out
}

/// An RLE Lossless file of `frames` frames of `rows` x 3 from `samples`, with a Basic
/// Offset Table when `table`.
fn rle_file(samples: &[i16], rows: u16, frames: u16, table: bool) -> Vec<u8> {
    let mut out = file(RLE_LOSSLESS, &[], rows, frames, &[]);
    out.truncate(out.len() - 12); // the empty native Pixel Data
    out.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0]);
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    let item = |value: &[u8]| {
        let mut item = vec![0xFE, 0xFF, 0x00, 0xE0];
        item.extend_from_slice(&(value.len() as u32).to_le_bytes());
        item.extend_from_slice(value);
        item
    };
    let per_frame = samples.len() / usize::from(frames);
    let fragments: Vec<Vec<u8>> = samples
        .chunks(per_frame)
        .map(|frame| item(&rle_fragment(frame)))
        .collect();
    let mut offsets = Vec::new();
    let mut at = 0u32;
    for fragment in &fragments {
        offsets.extend_from_slice(&at.to_le_bytes());
        at += fragment.len() as u32;
    }
    out.extend(item(if table { &offsets } else { &[] }));
    out.extend(fragments.concat());
    out.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
    out
}

#[test]
fn rle_frames_found_from_the_item_headers() {
    let samples: Vec<i16> = (0..18_000).map(|i| (i % 4096) as i16 - 2048).collect();
    let dir = std::env::temp_dir().join(format!("dcmfast-rle-head-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rle.dcm");
    let described = |bytes: &[u8]| {
        std::fs::write(&path, bytes).unwrap();
        let file = File::open(&path).unwrap();
        let head = Source::read_head(&file, bytes.len() as u64, HEAD).unwrap();
        PixelFile::describe(head, Some((file, bytes.len() as u64)))
    };
    for table in [false, true] {
        let bytes = rle_file(&samples, 3000, 2, table);
        assert!(bytes.len() > HEAD);
        // Found from the head and the item headers alone, as from the whole file.
        let from_head = described(&bytes).unwrap().unwrap();
        let whole = open(bytes.clone()).unwrap();
        match (&from_head.frames, &whole.frames) {
            (Frames::Rle(a), Frames::Rle(b)) => assert_eq!(a, b),
            _ => panic!("not RLE frames"),
        }
        let opened = PixelFile::open(&path).unwrap();
        for index in 0..2 {
            assert_eq!(raw(&opened, index), raw(&whole, index));
            assert_eq!(
                raw(&opened, index)[..3],
                samples[index * 9000..index * 9000 + 3]
            );
        }
    }
    // Items that do not lead to the delimiter (a fragment's length overshoots it) are
    // left to the whole file's walk, which finds the delimiter by its bytes.
    let mut bytes = rle_file(&samples, 3000, 2, false);
    let last = bytes.len() - 8 - rle_fragment(&samples[9000..]).len() - 4;
    let length = u32::from_le_bytes(bytes[last..last + 4].try_into().unwrap());
    bytes[last..last + 4].copy_from_slice(&(length + 2).to_le_bytes());
    assert!(described(&bytes).unwrap().is_none());
    assert_eq!(
        PixelFile::open(&path).map(|f| f.number_of_frames()).ok(),
        open(bytes.clone()).map(|f| f.number_of_frames()).ok()
    );
    // A stray tag among the items, or none of them: the whole file decides too.
    let mut bytes = rle_file(&samples, 3000, 2, false);
    let end = bytes.len();
    bytes[end - 8..end - 4].copy_from_slice(&[0x08, 0x00, 0x10, 0x00]);
    assert!(described(&bytes).unwrap().is_none());
    assert!(PixelFile::open(&path).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
