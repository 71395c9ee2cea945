#![no_main]
//! The copying writer's rule on any dataset bytes: a span it would copy lies within the
//! source, starts at the element's header (its tag in the byte order read) and ends at or
//! past its value; a value it calls canonical decodes; nothing panics.

use dcmfast::charset::Charset;
use dcmfast::parse::{parse_dataset, Encoding};
use dcmfast::source::Store;
use dcmfast::values::{self, decode};
use dcmfast::write_plan::{raw_span, reencodes_exactly};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let opts = common::options(data.first().copied().unwrap_or(0));
    let store = Store::owned(data.to_vec());
    for implicit in [true, false] {
        for little in [true, false] {
            let encoding = Encoding { implicit, little };
            let Ok((elements, _end)) = parse_dataset(data, 0, encoding, &opts) else {
                continue;
            };
            for e in &elements {
                if let Some(span) = raw_span(&store, e, encoding) {
                    assert!(
                        span.start <= e.value_offset && span.end <= data.len(),
                        "{e:?}"
                    );
                    assert!(span.end >= e.value_offset + e.value_len, "{e:?}");
                    let tag: [u8; 4] = data[span.start..span.start + 4].try_into().unwrap();
                    assert_eq!(values::tag_of(tag, little), e.tag);
                }
                let (Some(vr), Some(bytes)) = (e.vr, data.get(e.value_range())) else {
                    continue;
                };
                if reencodes_exactly(vr, bytes, little) && !bytes.is_empty() {
                    assert!(decode(vr, bytes, little, Charset::AsciiAsItself).is_some());
                }
            }
        }
    }
});
