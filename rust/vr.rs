//! Value representations: the `Vr` every module compares, which two-letter codes pydicom
//! recognises, and which of those use the long explicit header (2 reserved bytes + 32-bit
//! length). A VR becomes text only at the Python edge and in messages (`as_str`).

use std::fmt;

/// A VR as pydicom knows it: the 34 two-letter codes of its `VR` enum, its four ambiguous
/// dictionary VRs (`VR.OB_OW` is "OB or OW"), and the dictionary's "NONE" for the item and
/// delimitation tags.
// The names are pydicom's (and DICOM's), as dicom-rs names its `VR` variants.
#[allow(clippy::upper_case_acronyms, non_camel_case_types)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Vr {
    AE,
    AS,
    AT,
    CS,
    DA,
    DS,
    DT,
    FD,
    FL,
    IS,
    LO,
    LT,
    OB,
    OD,
    OF,
    OL,
    OV,
    OW,
    PN,
    SH,
    SL,
    SQ,
    SS,
    ST,
    SV,
    TM,
    UC,
    UI,
    UL,
    UN,
    UR,
    US,
    UT,
    UV,
    /// "OB or OW" (pixel and overlay data in the dictionary).
    OB_OW,
    /// "US or OW".
    US_OW,
    /// "US or SS".
    US_SS,
    /// "US or SS or OW".
    US_SS_OW,
    /// "NONE": the dictionary VR of (FFFE,E000), (FFFE,E00D) and (FFFE,E0DD).
    NONE,
}

/// Every VR, in declaration order.
pub const ALL: [Vr; 39] = {
    use Vr::*;
    [
        AE, AS, AT, CS, DA, DS, DT, FD, FL, IS, LO, LT, OB, OD, OF, OL, OV, OW, PN, SH, SL, SQ, SS,
        ST, SV, TM, UC, UI, UL, UN, UR, US, UT, UV, OB_OW, US_OW, US_SS, US_SS_OW, NONE,
    ]
};

/// The VRs an element header can name, sorted by code (so `VR_BY_LETTERS` is built in order).
const ENCODED: [Vr; 34] = {
    use Vr::*;
    [
        AE, AS, AT, CS, DA, DS, DT, FD, FL, IS, LO, LT, OB, OD, OF, OL, OV, OW, PN, SH, SL, SQ, SS,
        ST, SV, TM, UC, UI, UL, UN, UR, US, UT, UV,
    ]
};

/// For each pair of capital letters, the VR they encode. One table read finds a header's VR;
/// whether it has the long header form is then a test of the value in hand, not a second,
/// dependent load. A `static`, not a `const`: the walk then reads the one table in place
/// (as a `const` it cost the walk measurably more instructions, benches/parse.rs).
static VR_BY_LETTERS: [Option<Vr>; 26 * 26] = {
    let mut table = [None; 26 * 26];
    let mut i = 0;
    while i < ENCODED.len() {
        let code = ENCODED[i].as_str().as_bytes();
        table[(code[0] - b'A') as usize * 26 + (code[1] - b'A') as usize] = Some(ENCODED[i]);
        i += 1;
    }
    table
};

impl Vr {
    /// The VR two encoded bytes name, if pydicom recognises it.
    #[inline]
    pub fn from_code(code: [u8; 2]) -> Option<Vr> {
        let (a, b) = (code[0].wrapping_sub(b'A'), code[1].wrapping_sub(b'A'));
        if a >= 26 || b >= 26 {
            return None;
        }
        VR_BY_LETTERS[a as usize * 26 + b as usize]
    }

    /// The VR pydicom names `name` (the text `as_str` gives), for text that came back from
    /// Python.
    pub fn from_name(name: &str) -> Option<Vr> {
        ALL.into_iter().find(|vr| vr.as_str() == name)
    }

    /// pydicom's name for it (its `VR` enum's value, or the dictionary's text).
    pub const fn as_str(self) -> &'static str {
        use Vr::*;
        match self {
            AE => "AE",
            AS => "AS",
            AT => "AT",
            CS => "CS",
            DA => "DA",
            DS => "DS",
            DT => "DT",
            FD => "FD",
            FL => "FL",
            IS => "IS",
            LO => "LO",
            LT => "LT",
            OB => "OB",
            OD => "OD",
            OF => "OF",
            OL => "OL",
            OV => "OV",
            OW => "OW",
            PN => "PN",
            SH => "SH",
            SL => "SL",
            SQ => "SQ",
            SS => "SS",
            ST => "ST",
            SV => "SV",
            TM => "TM",
            UC => "UC",
            UI => "UI",
            UL => "UL",
            UN => "UN",
            UR => "UR",
            US => "US",
            UT => "UT",
            UV => "UV",
            OB_OW => "OB or OW",
            US_OW => "US or OW",
            US_SS => "US or SS",
            US_SS_OW => "US or SS or OW",
            NONE => "NONE",
        }
    }

    /// True when its explicit header has the 32-bit length form (pydicom's
    /// `EXPLICIT_VR_LENGTH_32`).
    #[inline]
    pub const fn has_long_header(self) -> bool {
        use Vr::*;
        matches!(
            self,
            OB | OD | OF | OL | OV | OW | SQ | SV | UC | UN | UR | UT | UV
        )
    }

    /// True when pydicom's value is the bytes as stored (its `BYTES_VR`, with UN).
    pub const fn is_bytes(self) -> bool {
        use Vr::*;
        matches!(self, OB | OD | OF | OL | OV | OW | UN)
    }

    /// True when pydicom decodes its text with the dataset's Specific Character Set (its
    /// `CUSTOMIZABLE_CHARSET_VR`, and PN); every other text VR is decoded as latin-1.
    pub const fn uses_specific_charset(self) -> bool {
        use Vr::*;
        matches!(self, SH | LO | UC | ST | LT | UT | PN)
    }

    /// True when pydicom's empty value for it is text (`''`, or None when
    /// `use_none_as_empty_text_VR_value` is set), as `empty_value_for_VR` decides.
    pub const fn has_text_empty_value(self) -> bool {
        use Vr::*;
        matches!(
            self,
            AE | AS | CS | DA | DT | LO | LT | PN | SH | ST | TM | UC | UI | UR | UT
        )
    }
}

impl fmt::Display for Vr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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
    fn codes_name_the_vrs_pydicom_recognises() {
        assert_eq!(Vr::from_code(*b"OB"), Some(Vr::OB));
        assert_eq!(Vr::from_code(*b"UV"), Some(Vr::UV));
        assert_eq!(Vr::from_code(*b"XX"), None);
        assert_eq!(Vr::from_code(*b"ob"), None);
        assert_eq!(Vr::from_code([0, 0]), None);
        assert!(ENCODED.windows(2).all(|w| w[0].as_str() < w[1].as_str()));
        // Every two-letter code round-trips, and nothing else is found.
        let mut found = 0;
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                if let Some(vr) = Vr::from_code([a, b]) {
                    assert_eq!(vr.as_str().as_bytes(), [a, b]);
                    found += 1;
                }
            }
        }
        assert_eq!(found, ENCODED.len());
    }

    #[test]
    fn header_forms() {
        assert!(Vr::SQ.has_long_header());
        assert!(Vr::UC.has_long_header());
        assert!(!Vr::US.has_long_header());
        assert!(!Vr::AT.has_long_header());
        let long: Vec<&str> = ENCODED
            .iter()
            .filter(|vr| vr.has_long_header())
            .map(|vr| vr.as_str())
            .collect();
        assert_eq!(
            long,
            ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]
        );
    }

    #[test]
    fn text_is_pydicoms() {
        for vr in ALL {
            assert_eq!(Vr::from_name(vr.as_str()), Some(vr));
        }
        assert_eq!(Vr::from_name("OB or OW"), Some(Vr::OB_OW));
        assert_eq!(Vr::from_name("ob"), None);
        assert_eq!(Vr::OB_OW.as_str(), "OB or OW");
        assert_eq!(Vr::US_SS_OW.to_string(), "US or SS or OW");
        assert_eq!(format!("{}", Vr::PN), "PN");
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
