#![no_main]
//! The one value decoder: any VR code, either byte order, each character-set policy, any
//! bytes. It never panics, and what it makes is what the bytes hold: numbers fill the bytes
//! exactly, byte values are the bytes, strings are text of them, IS and DS values are what
//! their original strings say.

use dcmfast::charset::Charset;
use dcmfast::values::{decode, latin1, Value};
use dcmfast::vr::Vr;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [a, b, flags, bytes @ ..] = data else {
        return;
    };
    let Some(vr) = Vr::from_code([*a, *b]) else {
        return;
    };
    let little = flags & 1 == 1;
    let charset = match flags >> 1 & 3 {
        0 => Charset::AsciiAsItself,
        1 => Charset::AsciiAsItselfButNames,
        _ => Charset::Other,
    };
    let Some(value) = decode(vr, bytes, little, charset) else {
        return;
    };
    let text = latin1(bytes);
    // The size of one binary number of `vr`.
    let size = match vr {
        Vr::US | Vr::SS => 2,
        Vr::UL | Vr::SL | Vr::FL | Vr::AT => 4,
        _ => 8,
    };
    match &value {
        Value::Empty | Value::EmptyText => assert!(bytes.is_empty()),
        Value::Unsigned(items) => assert_eq!(items.len() * size, bytes.len()),
        Value::Signed(items) => assert_eq!(items.len() * size, bytes.len()),
        Value::Floats(items) => assert_eq!(items.len() * size, bytes.len()),
        Value::Tags(items) => assert_eq!(items.len() * size, bytes.len()),
        Value::Bytes(held) => assert_eq!(*held, bytes),
        Value::Strings(items) | Value::Names(items) | Value::Uids(items) => {
            for item in items {
                assert!(text.contains(&**item), "{item:?} not in {text:?}");
            }
        }
        Value::IntegerStrings(items) => {
            for (v, original) in items {
                assert_eq!(original.parse::<i64>().ok(), Some(*v));
            }
        }
        Value::DecimalStrings(items) => {
            for (v, original) in items {
                let parsed: f64 = original.parse().expect("DS original parses");
                assert_eq!(parsed.to_bits(), v.to_bits());
            }
        }
    }
});
