#![no_main]
//! `loader::PixelFile` on arbitrary bytes: describing a file, working out its rescale and
//! window, and reading its frames (raw, and float32 under each processing) never panic,
//! and a frame read raw and as float32 with nothing applied agree: each float32 is the raw
//! (Bits Stored corrected) sample cast, and both reads succeed or fail together.
//!
//! Also, the file opened from a path with a short head read (the path larger files take:
//! the walk stops before the pixel data, RLE items are found by reading their headers) is
//! described whenever the whole file is, and reads every frame as it does.
//!
//! The input is a Part 10 file. Frames of more than 4 Mi samples are skipped (the caller
//! allocates every frame it asks for, as pydicom does).

use dcmfast::loader::{PixelFile, Processing, Scratch, Slot};
use dcmfast::pixels::lut::Transform;
use dcmfast::source::Source;
use libfuzzer_sys::fuzz_target;

/// Frame `index` read raw, or None when it cannot be.
fn raw_frame(file: &PixelFile, index: usize, scratch: &mut Scratch) -> Option<Vec<u8>> {
    let samples = file.geometry().samples()?;
    let mut raw = vec![0u8; samples * file.sample_format().bytes];
    let plain = Transform::default();
    let read = file.read_frame(index, Slot::Raw(&mut raw), &plain, scratch);
    read.ok().map(|_| raw)
}

fuzz_target!(|data: &[u8]| {
    let Ok(file) = PixelFile::from_source(Source::Owned(data.to_vec())) else {
        return;
    };
    let format = file.sample_format();
    let Some(samples) = file.geometry().samples().filter(|&n| n <= 1 << 22) else {
        return;
    };
    let mut scratch = Scratch::default();
    let path = std::env::temp_dir().join(format!("dcmfast-fuzz-{}.dcm", std::process::id()));
    std::fs::write(&path, data).expect("temporary file");
    for head in [data.len() / 2, data.len().saturating_sub(1)] {
        let opened = PixelFile::open_with_head(&path, head).expect("described as a whole");
        assert_eq!(opened.geometry(), file.geometry());
        assert_eq!(opened.sample_format(), format);
        assert_eq!(opened.number_of_frames(), file.number_of_frames());
        for index in 0..file.number_of_frames().min(3) {
            let want = raw_frame(&file, index, &mut scratch);
            assert_eq!(
                raw_frame(&opened, index, &mut scratch),
                want,
                "frame {index}"
            );
        }
    }
    // One frame beyond the last, too.
    for index in (0..file.number_of_frames().min(3)).chain([file.number_of_frames()]) {
        let mut raw = vec![0u8; samples * format.bytes];
        let plain = Transform::default();
        let got_raw = file.read_frame(index, Slot::Raw(&mut raw), &plain, &mut scratch);
        let mut floats = vec![f32::NAN; samples];
        let got_float = file.read_frame(index, Slot::Float(&mut floats), &plain, &mut scratch);
        assert_eq!(got_raw.is_ok(), got_float.is_ok(), "frame {index}");
        if got_raw.is_ok() {
            for (sample, &value) in raw.chunks_exact(format.bytes).zip(&floats) {
                let mut le = [0u8; 8];
                le[..format.bytes].copy_from_slice(sample);
                let unsigned = u64::from_le_bytes(le);
                let shift = 64 - 8 * format.bytes as u32;
                let cast = if format.signed {
                    (((unsigned << shift) as i64) >> shift) as f32
                } else {
                    unsigned as f32
                };
                assert_eq!(cast.to_bits(), value.to_bits(), "frame {index}");
            }
        }
        for (modality_lut, voi_lut, voi_index) in [
            (true, false, 0),
            (false, true, 0),
            (true, true, 0),
            (true, true, 1),
        ] {
            let processing = Processing {
                modality_lut,
                voi_lut,
                voi_index,
            };
            if let Ok(transform) = file.transform(processing) {
                let mut out = vec![0f32; samples];
                let read = file.read_frame(index, Slot::Float(&mut out), &transform, &mut scratch);
                assert_eq!(read.is_ok(), got_raw.is_ok(), "frame {index}");
            }
        }
    }
});
