#![no_main]
//! `pixels::native::fits_bits_stored` and `correct_bits_stored` on arbitrary samples: the
//! check says "no change" exactly when the correction changes nothing, and the correction
//! is idempotent.
//!
//! Input layout: byte 0 chooses the sample width (1, 2, 4, 8 bytes), byte order and
//! signedness; byte 1 % 65 is Bits Stored; the rest are samples.

use dcmfast::pixels::native::{correct_bits_stored, fits_bits_stored, SampleFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&[how, stored], samples)) = data.split_first_chunk::<2>() else {
        return;
    };
    let format = SampleFormat {
        bytes: [1, 2, 4, 8][(how & 3) as usize],
        little: how & 4 == 0,
        signed: how & 8 != 0,
    };
    let bits_stored = u32::from(stored % 65);
    let mut corrected = samples.to_vec();
    correct_bits_stored(&mut corrected, format, bits_stored);
    let fits = fits_bits_stored(samples, format, bits_stored);
    assert_eq!(
        fits,
        corrected == samples,
        "{format:?} bits stored {bits_stored}"
    );
    assert!(fits_bits_stored(&corrected, format, bits_stored));
    let mut again = corrected.clone();
    correct_bits_stored(&mut again, format, bits_stored);
    assert_eq!(again, corrected);
});
