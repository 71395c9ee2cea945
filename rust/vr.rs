//! Value representations as the element walk needs them: which two-letter codes pydicom
//! recognises, and which of those use the long explicit header (2 reserved bytes + 32-bit length).

/// The VR codes pydicom recognises (the two-letter members of its `VR` enum), sorted.
const KNOWN: [&str; 34] = [
    "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD", "OF", "OL",
    "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US",
    "UT", "UV",
];

/// The static name of a recognised VR given its two encoded bytes.
pub fn known(code: [u8; 2]) -> Option<&'static str> {
    lookup(code).map(|(name, _)| name)
}

/// A recognised VR's static name and whether its explicit header has the long form, from
/// its two encoded bytes. One table read: this runs once per element header, and testing
/// the name's letters for the header form would be a second, dependent load.
pub fn lookup(code: [u8; 2]) -> Option<(&'static str, bool)> {
    let (a, b) = (code[0].wrapping_sub(b'A'), code[1].wrapping_sub(b'A'));
    if a >= 26 || b >= 26 {
        return None;
    }
    let entry = VR_BY_LETTERS[a as usize * 26 + b as usize];
    (entry != u8::MAX).then(|| (KNOWN[(entry & !LONG) as usize], entry & LONG != 0))
}

/// Set in a `VR_BY_LETTERS` entry when the VR has the long explicit header.
const LONG: u8 = 0x80;

/// For each pair of capital letters, its index in `KNOWN` (with `LONG` set for the long
/// header form), or `u8::MAX`.
const VR_BY_LETTERS: [u8; 26 * 26] = {
    let mut table = [u8::MAX; 26 * 26];
    let mut i = 0;
    while i < KNOWN.len() {
        let code = KNOWN[i].as_bytes();
        let long = if is_long(code) { LONG } else { 0 };
        table[(code[0] - b'A') as usize * 26 + (code[1] - b'A') as usize] = i as u8 | long;
        i += 1;
    }
    table
};

/// True when the explicit header of `vr` has the 32-bit length form (pydicom's
/// `EXPLICIT_VR_LENGTH_32`).
pub fn has_long_header(vr: &str) -> bool {
    is_long(vr.as_bytes())
}

const fn is_long(code: &[u8]) -> bool {
    matches!(
        code,
        b"OB"
            | b"OD"
            | b"OF"
            | b"OL"
            | b"OV"
            | b"OW"
            | b"SQ"
            | b"SV"
            | b"UC"
            | b"UN"
            | b"UR"
            | b"UT"
            | b"UV"
    )
}

/// pydicom's test for "two capital letters" (`b"AA" <= vr <= b"ZZ"`, a byte-string comparison).
/// Codes outside it are taken as a switch to implicit VR.
pub fn in_letter_range(code: [u8; 2]) -> bool {
    code[..] >= b"AA"[..] && code[..] <= b"ZZ"[..]
}

/// pydicom's explicit/implicit sniff on the first element of a dataset: both VR bytes are
/// capital letters.
pub fn looks_explicit(code: [u8; 2]) -> bool {
    code.iter().all(|b| (0x41..=0x5A).contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes() {
        assert_eq!(known(*b"OB"), Some("OB"));
        assert_eq!(known(*b"UV"), Some("UV"));
        assert_eq!(known(*b"XX"), None);
        assert!(KNOWN.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn header_forms() {
        assert!(has_long_header("SQ"));
        assert!(!has_long_header("US"));
    }

    #[test]
    fn letter_range_is_lexicographic() {
        assert!(in_letter_range(*b"B\x01"));
        assert!(!in_letter_range(*b"A\x00"));
        assert!(!in_letter_range(*b"Z\x5B"));
        assert!(looks_explicit(*b"QQ"));
        assert!(!looks_explicit(*b"Q\x00"));
    }
}
