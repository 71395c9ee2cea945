use dcmfast::parse::{parse_file, ReadOptions};
use dcmfast::source::Source;
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let mut opts = ReadOptions::pydicom_defaults();
    opts.stop_before_pixels = true;
    let bytes = std::fs::read(&path).unwrap();
    let n = 20000;
    let t = Instant::now();
    for _ in 0..n {
        let p = parse_file(&bytes, &opts).unwrap();
        std::hint::black_box(p);
    }
    println!(
        "parse in memory: {:.2}us",
        t.elapsed().as_secs_f64() / n as f64 * 1e6
    );
    let t = Instant::now();
    for _ in 0..n {
        let s = Source::map_path(path.as_ref()).unwrap();
        std::hint::black_box(&s);
    }
    println!(
        "map only: {:.2}us",
        t.elapsed().as_secs_f64() / n as f64 * 1e6
    );
    let t = Instant::now();
    for _ in 0..n {
        let s = Source::map_path(path.as_ref()).unwrap();
        let p = parse_file(s.bytes(), &opts).unwrap();
        std::hint::black_box(p);
    }
    use std::io::Read;
    for size in [4096usize, 8192, 16384, 65536] {
        let t = Instant::now();
        for _ in 0..n {
            let mut f = std::fs::File::open(&path).unwrap();
            let mut buf = vec![0u8; size];
            let got = f.read(&mut buf).unwrap();
            std::hint::black_box(got);
        }
        println!(
            "open+read {size}: {:.2}us",
            t.elapsed().as_secs_f64() / n as f64 * 1e6
        );
    }
    println!(
        "map+parse: {:.2}us",
        t.elapsed().as_secs_f64() / n as f64 * 1e6
    );
}
#[allow(dead_code)]
fn _x() {}
