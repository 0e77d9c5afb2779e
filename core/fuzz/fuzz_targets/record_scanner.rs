//! The fast record scanner against the serde path: any bytes, read as one JSON record;
//! whatever the scanner takes, serde must take too, with the same slots read.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = group_identity::profiles::check_against_serde(data) {
        panic!("{e}");
    }
});
