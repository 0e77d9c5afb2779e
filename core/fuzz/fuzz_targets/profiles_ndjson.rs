//! Arbitrary bytes read as NDJSON: see `profiles_common.rs` for what is checked.
#![no_main]
use group_identity::Format;
use libfuzzer_sys::fuzz_target;

mod profiles_common;

fuzz_target!(|data: &[u8]| profiles_common::check(data, Format::Ndjson));
