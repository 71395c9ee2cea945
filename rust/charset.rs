//! The character-set policy: whether text of ASCII bytes decodes to itself in a dataset's
//! character set, as pydicom decodes it. Where it does, the core decodes SH, LO, UC, ST, LT,
//! UT and PN values of ASCII bytes itself; elsewhere pydicom does.
//!
//! pydicom decodes a value without escape sequences with the first of the dataset's Python
//! codecs alone (`charset.decode_bytes`), and every codec it names a defined term with keeps
//! ASCII (but ESC) as ASCII. So the policy is: every term is one pydicom defines (any other
//! warns, raises in RAISE mode, or names an arbitrary Python codec); and person names not
//! when every codec is ISO 2022 JIS, as pydicom then warns making a `PersonName`.
//! tests/test_charset.py derives this from pydicom itself, term by term and VR by VR.

use crate::values::{latin1, string_items, Items};
use crate::vr::Vr;

/// pydicom's `python_encoding`: each Specific Character Set defined term and the Python codec
/// pydicom decodes it with.
const PYTHON_ENCODING: [(&str, &str); 34] = [
    ("", "iso8859"),
    ("ISO_IR 6", "iso8859"),
    ("ISO_IR 13", "shift_jis"),
    ("ISO_IR 100", "latin_1"),
    ("ISO_IR 101", "iso8859_2"),
    ("ISO_IR 109", "iso8859_3"),
    ("ISO_IR 110", "iso8859_4"),
    ("ISO_IR 126", "iso_ir_126"),
    ("ISO_IR 127", "iso_ir_127"),
    ("ISO_IR 138", "iso_ir_138"),
    ("ISO_IR 144", "iso_ir_144"),
    ("ISO_IR 148", "iso_ir_148"),
    ("ISO_IR 166", "iso_ir_166"),
    ("ISO 2022 IR 6", "iso8859"),
    ("ISO 2022 IR 13", "shift_jis"),
    ("ISO 2022 IR 87", "iso2022_jp"),
    ("ISO 2022 IR 100", "latin_1"),
    ("ISO 2022 IR 101", "iso8859_2"),
    ("ISO 2022 IR 109", "iso8859_3"),
    ("ISO 2022 IR 110", "iso8859_4"),
    ("ISO 2022 IR 126", "iso_ir_126"),
    ("ISO 2022 IR 127", "iso_ir_127"),
    ("ISO 2022 IR 138", "iso_ir_138"),
    ("ISO 2022 IR 144", "iso_ir_144"),
    ("ISO 2022 IR 148", "iso_ir_148"),
    ("ISO 2022 IR 149", "euc_kr"),
    ("ISO 2022 IR 159", "iso2022_jp_2"),
    ("ISO 2022 IR 166", "iso_ir_166"),
    ("ISO 2022 IR 58", "iso_ir_58"),
    ("ISO_IR 192", "UTF8"),
    ("GB18030", "GB18030"),
    ("ISO 2022 GBK", "GBK"),
    ("ISO 2022 58", "GB2312"),
    ("GBK", "GBK"),
];

/// Python codecs in which pydicom decodes ASCII person names to themselves but cannot encode
/// them back (`PersonName.encode`, which it does on making one): ISO 2022 JIS. It warns when
/// no other codec of the dataset can.
const NAMES_WARN: [&str; 2] = ["iso2022_jp", "iso2022_jp_2"];

/// pydicom's `STAND_ALONE_ENCODINGS`: terms that take no code extensions.
const STAND_ALONE: [&str; 3] = ["ISO_IR 192", "GBK", "GB18030"];

/// What a dataset's character set means for the text the core decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// Text of ASCII bytes without an escape sequence decodes to itself: the core decodes it.
    AsciiAsItself,
    /// As `AsciiAsItself`, but for person names, which pydicom warns about (every codec is
    /// ISO 2022 JIS).
    AsciiAsItselfButNames,
    /// Anything else: text decoded with the dataset's character set is pydicom's to decode.
    Other,
}

impl Charset {
    /// True when the core decodes ASCII text of `vr` itself in this character set.
    pub fn keeps_ascii(self, vr: Vr) -> bool {
        match self {
            Charset::AsciiAsItself => true,
            Charset::AsciiAsItselfButNames => vr != Vr::PN,
            Charset::Other => false,
        }
    }

    /// The policy for a dataset whose (0008,0005) holds `terms` (none when it has no such
    /// element): plain only when every term is a defined term pydicom knows.
    pub fn of_terms<S: AsRef<str>>(terms: &[S]) -> Charset {
        if !terms_are_defined(terms) {
            return Charset::Other;
        }
        let Some((first, rest)) = terms.split_first() else {
            return Charset::AsciiAsItself;
        };
        // The codecs pydicom's `convert_encodings` makes of them: a stand-alone first term
        // drops the others, a later one is dropped.
        let first = first.as_ref();
        let rest = rest
            .iter()
            .map(AsRef::as_ref)
            .filter(|term| !STAND_ALONE.contains(&first) && !STAND_ALONE.contains(term));
        Charset::of_codec_list(std::iter::once(first).chain(rest).map(codec_of))
    }

    /// The policy for a (0008,0005) value of `value` bytes, split as pydicom's
    /// `convert_string` splits it.
    pub fn of_value(value: &[u8]) -> Charset {
        Charset::of_terms(&terms(&latin1(value)))
    }

    /// The policy for a dataset whose text pydicom decodes with `codecs` (its
    /// `_read_charset`, what `convert_encodings` made of the terms): its first codec, the one
    /// pydicom decodes ASCII bytes with, is one pydicom names a defined term with. No codec
    /// at all is `Other`: pydicom then looks at the dataset's (0008,0005) as it is now.
    pub fn of_codecs<S: AsRef<str>>(codecs: &[S]) -> Charset {
        Charset::of_codec_list(codecs.iter().map(AsRef::as_ref))
    }

    fn of_codec_list<'c>(mut codecs: impl Iterator<Item = &'c str>) -> Charset {
        let known = |codec: &str| PYTHON_ENCODING.iter().any(|(_, c)| *c == codec);
        match codecs.next() {
            Some(first) if !known(first) => Charset::Other,
            // Any codec of pydicom's but ISO 2022 JIS encodes ASCII names back.
            Some(first) if NAMES_WARN.contains(&first) => {
                if codecs.any(|codec| known(codec) && !NAMES_WARN.contains(&codec)) {
                    Charset::AsciiAsItself
                } else {
                    Charset::AsciiAsItselfButNames
                }
            }
            Some(_) => Charset::AsciiAsItself,
            None => Charset::Other,
        }
    }
}

/// The Python codec pydicom decodes a defined `term` with ("" for any other).
fn codec_of(term: &str) -> &'static str {
    PYTHON_ENCODING
        .iter()
        .find(|(t, _)| *t == term)
        .map_or("", |(_, codec)| codec)
}

/// The terms of a (0008,0005) value decoded as `text`, split as pydicom's `convert_string`
/// splits it (only trailing padding removed).
pub fn terms(text: &str) -> Items<&str> {
    string_items(text).collect()
}

/// True when every term of the (0008,0005) value `value` is a defined term pydicom knows.
pub fn value_terms_are_defined(value: &[u8]) -> bool {
    terms_are_defined(&terms(&latin1(value)))
}

/// True when every one of `terms` is a Specific Character Set defined term pydicom knows (a
/// key of its `python_encoding`): then its `convert_encodings` neither warns nor guesses.
pub fn terms_are_defined<S: AsRef<str>>(terms: &[S]) -> bool {
    terms
        .iter()
        .all(|term| PYTHON_ENCODING.iter().any(|(t, _)| *t == term.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: Vr = Vr::LO;

    #[test]
    fn every_defined_term_and_set_of_them_keeps_ascii() {
        for (term, _) in PYTHON_ENCODING {
            assert!(Charset::of_terms(&[term]).keeps_ascii(TEXT), "{term}");
            assert!(Charset::of_terms(&["", term, "ISO 2022 IR 87"]).keeps_ascii(Vr::PN));
            assert!(Charset::of_terms(&[term, ""]).keeps_ascii(TEXT));
        }
        assert_eq!(Charset::of_terms::<&str>(&[]), Charset::AsciiAsItself);
    }

    #[test]
    fn person_names_not_when_every_codec_is_iso_2022_jis() {
        for terms in [
            &["ISO 2022 IR 87"][..],
            &["ISO 2022 IR 159", "ISO 2022 IR 87"],
            // Stand-alone terms are dropped after the first.
            &["ISO 2022 IR 87", "ISO_IR 192", "GBK"],
        ] {
            let charset = Charset::of_terms(terms);
            assert_eq!(charset, Charset::AsciiAsItselfButNames, "{terms:?}");
            assert!(charset.keeps_ascii(Vr::SH) && !charset.keeps_ascii(Vr::PN));
        }
        for terms in [
            &["ISO 2022 IR 6", "ISO 2022 IR 87"][..],
            &["ISO 2022 IR 87", ""],
            &["ISO 2022 IR 87", "ISO 2022 IR 149"],
        ] {
            assert_eq!(
                Charset::of_terms(terms),
                Charset::AsciiAsItself,
                "{terms:?}"
            );
        }
        assert_eq!(
            Charset::of_codecs(&["iso2022_jp", "utf_16"]),
            Charset::AsciiAsItselfButNames
        );
    }

    #[test]
    fn unknown_or_misspelt_terms_are_pydicoms() {
        for terms in [
            &["ISO_IR 999"][..],
            &["ISO-IR 100"],
            &[" ISO_IR 100"],
            &["latin_1"],
            &["utf_16"],
            &["ISO_IR 100", "ISO 2022 IR 99"],
        ] {
            assert_eq!(Charset::of_terms(terms), Charset::Other, "{terms:?}");
            assert!(!Charset::of_terms(terms).keeps_ascii(TEXT));
        }
    }

    #[test]
    fn a_value_is_split_as_pydicom_splits_it() {
        assert_eq!(
            Charset::of_value(b"\\ISO 2022 IR 87 "),
            Charset::AsciiAsItself
        );
        assert_eq!(Charset::of_value(b"ISO_IR 192\0"), Charset::AsciiAsItself);
        assert_eq!(Charset::of_value(b""), Charset::AsciiAsItself);
        // Only trailing padding is removed; a term keeps its other spaces.
        assert_eq!(Charset::of_value(b"ISO_IR 100 \\GBK"), Charset::Other);
        assert_eq!(Charset::of_value(b"ISO_IR\xa0100"), Charset::Other);
        assert!(value_terms_are_defined(b"GBK\\GB18030"));
        assert!(!value_terms_are_defined(b"GBK\\ISO_IR 999"));
    }

    #[test]
    fn codecs_are_judged_by_the_first() {
        for (_, codec) in PYTHON_ENCODING {
            assert!(Charset::of_codecs(&[codec]).keeps_ascii(TEXT));
            assert!(Charset::of_codecs(&[codec, "utf_16"]).keeps_ascii(TEXT));
        }
        assert_eq!(Charset::of_codecs(&["utf_16", "latin_1"]), Charset::Other);
        assert_eq!(Charset::of_codecs(&[""]), Charset::Other);
        assert_eq!(Charset::of_codecs::<&str>(&[]), Charset::Other);
    }
}
