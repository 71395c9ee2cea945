#!/usr/bin/env bash
# Populate fuzz/corpus/ with small real DICOM files from pydicom's test data.
# The corpus is gitignored: run this before fuzzing on a fresh checkout.
set -euo pipefail
cd "$(dirname "$0")"

src=$(python3 -c "import os, pydicom.data; print(os.path.dirname(pydicom.data.get_testdata_file('CT_small.dcm')))")
mkdir -p corpus/parse_file corpus/parse_dataset corpus/scan_values

# A mix of encodings and oddities: implicit/explicit LE, explicit BE, deflated, no meta,
# missing transfer syntax, truncated, private and UN sequences, encapsulated pixel data,
# SR/RT nested sequences, DICOMDIRs.
files=(
  CT_small.dcm MR_small.dcm MR_small_implicit.dcm MR_small_bigendian.dcm MR_small_expb.dcm
  MR_small_padded.dcm MR_truncated.dcm MR_small_RLE.dcm MR_small_jpeg_ls_lossless.dcm
  MR_small_jp2klossless.dcm ExplVR_BigEnd.dcm ExplVR_BigEndNoMeta.dcm ExplVR_LitEndNoMeta.dcm
  no_meta.dcm no_meta_group_length.dcm meta_missing_tsyntax.dcm empty_charset_LEI.dcm
  image_dfl.dcm nested_priv_SQ.dcm priv_SQ.dcm UN_sequence.dcm badVR.dcm
  rtplan.dcm rtplan_truncated.dcm rtstruct.dcm rtdose.dcm rtdose_1frame.dcm
  rtdose_expb_1frame.dcm rtdose_rle_1frame.dcm reportsi.dcm reportsi_with_empty_number_tags.dcm
  test-SR.dcm JPEG2000.dcm JPEG2000-embedded-sequence-delimiter.dcm JPEG-lossy.dcm
  JPEGLSNearLossless_08.dcm SC_rgb_small_odd.dcm SC_rgb_small_odd_big_endian.dcm
  SC_rgb_rle_2frame.dcm SC_rgb_jpeg.dcm liver_1frame.dcm liver_expb_1frame.dcm
  dicomdirtests/DICOMDIR dicomdirtests/DICOMDIR-implicit dicomdirtests/DICOMDIR-bigEnd
  dicomdirtests/DICOMDIR-empty.dcm dicomdirtests/DICOMDIR-nooffset
)

n=0
for f in "${files[@]}"; do
  path="$src/$f"
  [ -f "$path" ] || { echo "skip (missing): $f" >&2; continue; }
  size=$(stat -c %s "$path")
  [ "$size" -lt 204800 ] || { echo "skip (>= 200 KB): $f" >&2; continue; }
  cp "$path" "corpus/parse_file/$(echo "$f" | tr '/' '_')"
  n=$((n + 1))
done
echo "parse_file: $n seed files"

# scan_values: two leading bytes pick the option set and where a partial read is cut.
for seed in corpus/parse_file/*; do
  for head in '\x00\x40' '\x02\x80' '\x09\xc0' '\x80\x20'; do
    { printf "$head"; cat "$seed"; } > "corpus/scan_values/$(basename "$seed")-${head//\\x/}"
  done
done
echo "scan_values: $(ls corpus/scan_values | wc -l) seed files"

# loader_frames reads whole files, as parse_file does.
mkdir -p corpus/loader_frames
cp corpus/parse_file/* corpus/loader_frames/
echo "loader_frames: $(ls corpus/loader_frames | wc -l) seed files"
# read_file reads whole files, as parse_file does.
mkdir -p corpus/read_file
cp corpus/parse_file/* corpus/read_file/
echo "read_file: $(ls corpus/read_file | wc -l) seed files"

# decode_value: a VR code, a flags byte (bit 0 little endian, bits 1-2 the character-set
# policy), then the value's bytes.
mkdir -p corpus/decode_value
i=0
for seed in 'US\x01\x00\x02\x03\x04' 'FD\x01\x00\x00\x00\x00\x00\x00\xf0\x3f' 'AT\x01\x10\x00\x10\x00' \
  'DS\x00 1.5\\-.25\\1E+02 ' 'IS\x01 +12\\-3 ' 'UI\x00 1.2.840.10008.1.2\x00' \
  'CS\x04ORIGINAL\\PRIMARY ' 'LO\x00caf\xe9\\b ' 'PN\x02Doe^J\\Roe ' 'ST\x00line\r\n ' \
  'AE\x00 AE1 \\\tB' 'UR\x00http://a \t' 'OB\x01\x00\x01\x02'; do
  printf "$seed" > "corpus/decode_value/seed-$i"
  i=$((i + 1))
done
echo "decode_value: $i seed files"


# parse_dataset starts at offset 0, so its seeds are the same files with the preamble and
# file meta removed (the deflated file is skipped: its body is compressed).
python3 - "$src" "${files[@]}" <<'PY'
import os, sys
from pydicom.filereader import read_preamble, _read_file_meta_info
src, names = sys.argv[1], sys.argv[2:]
n = 0
for name in names:
    path = os.path.join(src, name)
    if not os.path.isfile(path) or os.path.getsize(path) >= 204800:
        continue
    try:
        with open(path, "rb") as fp:
            preamble = read_preamble(fp, True)
            meta = _read_file_meta_info(fp)
            if str(meta.get("TransferSyntaxUID", "")) == "1.2.840.10008.1.2.1.99":
                continue
            body = fp.read()
    except Exception:
        continue
    if body:
        with open(os.path.join("corpus/parse_dataset", name.replace("/", "_")), "wb") as out:
            out.write(body)
        n += 1
print(f"parse_dataset: {n} seed files")
PY

# write_plan parses datasets as parse_dataset does: the same whole files.
mkdir -p corpus/write_plan
cp corpus/parse_file/* corpus/write_plan/
echo "write_plan: $(ls corpus/write_plan | wc -l) seed files"

# sequence_items takes a sequence's value: the defined-length sequences of the test files.
mkdir -p corpus/sequence_items
python3 - <<'PY'
import os
import warnings

import pydicom
import pydicom.data
from pydicom.dataelem import RawDataElement

warnings.simplefilter("ignore")
n = 0
for path in pydicom.data.get_testdata_files():
    try:
        ds = pydicom.dcmread(path, force=True)
    except Exception:
        continue
    for tag, raw in list(ds._dict.items()):
        value = raw.value if isinstance(raw, RawDataElement) else None
        if raw.VR in ("SQ", None) and value and raw.length != 0xFFFFFFFF \
                and value[:2] in (b"\xfe\xff", b"\xff\xfe") and len(value) < 100000:
            name = f"{os.path.basename(path)}-{tag:08x}"
            with open(os.path.join("corpus/sequence_items", name), "wb") as out:
                out.write(value)
            n += 1
print(f"sequence_items: {n} seed files")
PY
