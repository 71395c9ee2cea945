#![no_main]
//! `loader::PixelFile` on arbitrary bytes: describing a file, working out its rescale and
//! window, and reading its frames (raw, and float32 under each processing) never panic,
//! and a frame read raw and as float32 with nothing applied agree: each float32 is the raw
//! (Bits Stored corrected) sample cast, and both reads succeed or fail together.
//!
//! The input is a Part 10 file. Frames of more than 4 Mi samples are skipped (the caller
//! allocates every frame it asks for, as pydicom does).

use dcmfast::loader::{PixelFile, Processing, Scratch, Slot};
use dcmfast::pixels::lut::Transform;
use dcmfast::source::Source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(file) = PixelFile::from_source(Source::Owned(data.to_vec())) else {
        return;
    };
    let format = file.sample_format();
    let Some(samples) = file.geometry().samples().filter(|&n| n <= 1 << 22) else {
        return;
    };
    let mut scratch = Scratch::default();
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
