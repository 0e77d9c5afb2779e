//! The share link: the definition and a small profile sample in the URL fragment, as
//! base64url JSON. Never credentials or tokens: `SharedState` has no field for them.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::{alphabet, Engine};
use serde::{Deserialize, Serialize};

/// Profiles longer than this are left out of a share link (URLs of a few KB travel well).
pub const MAX_SHARED_PROFILES: usize = 4096;

/// Fragment prefix of a share link: `#s=<base64url>`.
pub const FRAGMENT_KEY: &str = "s=";

/// The longest fragment read back: several times what this page writes (a definition and
/// at most `MAX_SHARED_PROFILES` of profiles), so a hostile link cannot make the page
/// decode and lay out megabytes.
pub const MAX_FRAGMENT: usize = 32 * 1024;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SharedState {
    /// The definition editor's text, as typed (it may be invalid).
    pub definition: String,
    /// `create`, `update` or `patch`.
    pub mode: String,
    pub group_id: String,
    pub profiles: String,
    /// `auto`, `json`, `ndjson` or `csv`.
    pub format: String,
    pub normalize_keys: bool,
}

impl SharedState {
    /// The fragment (without `#`); profiles over the limit are dropped, never cut in half.
    pub fn to_fragment(&self) -> String {
        let mut state = self.clone();
        if state.profiles.len() > MAX_SHARED_PROFILES {
            state.profiles.clear();
        }
        let json = serde_json::to_string(&state).unwrap_or_default();
        format!("{FRAGMENT_KEY}{}", encode(json.as_bytes()))
    }

    /// Reads a fragment (with or without `#`); anything malformed or too long gives
    /// `None`, and profiles over the limit are dropped as when writing.
    pub fn from_fragment(fragment: &str) -> Option<SharedState> {
        let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
        let data = fragment.strip_prefix(FRAGMENT_KEY)?;
        if data.len() > MAX_FRAGMENT {
            return None;
        }
        let bytes = decode(data)?;
        let mut state: SharedState = serde_json::from_slice(&bytes).ok()?;
        if state.profiles.len() > MAX_SHARED_PROFILES {
            state.profiles.clear();
        }
        Some(state)
    }
}

/// base64url (RFC 4648 section 5): written without padding, read with or without it.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub fn encode(bytes: &[u8]) -> String {
    BASE64URL.encode(bytes)
}

/// `None` for anything that is not base64url.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    BASE64URL.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_every_length() {
        let data: Vec<u8> = (0..=255u8).collect();
        for len in 0..40 {
            let slice = &data[..len];
            let text = encode(slice);
            assert!(!text.contains(['+', '/', '=']));
            assert_eq!(decode(&text).as_deref(), Some(slice));
        }
        assert_eq!(encode(b"hello"), "aGVsbG8");
        assert_eq!(decode("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode("a*b"), None);
    }

    #[test]
    fn state_round_trips_and_drops_large_profiles() {
        let state = SharedState {
            definition: "{\"id\":\"household\"}".into(),
            mode: "update".into(),
            group_id: "household".into(),
            profiles: "mpid,$address\n1,Main St ü".into(),
            format: "csv".into(),
            normalize_keys: true,
        };
        let fragment = state.to_fragment();
        assert_eq!(
            SharedState::from_fragment(&format!("#{fragment}")),
            Some(state.clone())
        );

        let big = SharedState {
            profiles: "x".repeat(MAX_SHARED_PROFILES + 1),
            ..state
        };
        let back = SharedState::from_fragment(&big.to_fragment());
        assert_eq!(back.map(|s| s.profiles), Some(String::new()));
        assert_eq!(SharedState::from_fragment("#other=1"), None);
        assert_eq!(SharedState::from_fragment("#s=!!"), None);
        // A hostile link: too long to read at all, or with profiles past the limit.
        let huge = format!("#s={}", "A".repeat(MAX_FRAGMENT + 1));
        assert_eq!(SharedState::from_fragment(&huge), None);
        let json = format!(
            r#"{{"profiles":"{}"}}"#,
            "x".repeat(MAX_SHARED_PROFILES + 1)
        );
        let state = SharedState::from_fragment(&format!("#s={}", encode(json.as_bytes())));
        assert_eq!(state.map(|s| s.profiles), Some(String::new()));
    }
}
