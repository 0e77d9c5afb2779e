//! What the emulator remembers: one group definition and a profile store per workspace.

use std::collections::{BTreeMap, HashMap};

use group_identity::definition::{GroupAttribute, GroupDefinition};
use group_identity::preview::Stats;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The state file's format version; bumped on an incompatible change.
pub const STATE_VERSION: u32 = 1;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Store {
    pub version: u32,
    #[serde(default)]
    pub workspaces: BTreeMap<u64, Workspace>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Workspace {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<StoredGroup>,
    #[serde(default)]
    pub profiles: ProfileStore,
}

/// A definition as the API answers it, server-set fields included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredGroup {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub source_user_attribute: String,
    pub attributes: Vec<GroupAttribute>,
    pub created_on: String,
    pub created_by: String,
    pub last_modified_on: String,
    pub last_modified_by: String,
}

impl StoredGroup {
    pub fn definition(&self) -> GroupDefinition {
        GroupDefinition {
            id: self.id.clone(),
            description: self.description.clone(),
            source_user_attribute: self.source_user_attribute.clone(),
            attributes: self.attributes.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredProfile {
    pub mpid: String,
    /// The profile's own user attributes, as loaded.
    pub attributes: Map<String, Value>,
    /// The times `latest` uses (SPEC section 3), as loaded: `user_attribute_timestamps`,
    /// then the profile's `updated_at` / `last_stored_timestamp_ms`. Defaulted so that
    /// state files written before they were kept still load.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub attribute_timestamps: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_stored_timestamp_ms: Option<Value>,
    /// `group:attribute` values the last group job gave it.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub inherited: Map<String, Value>,
}

/// The outcome of the last group job, kept for `GET .../profiles`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    pub group_id: String,
    pub ran_on: String,
    pub stats: Stats,
}

/// Profiles in load order (the order the group job reads them in), indexed by mpid.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(from = "ProfileStoreData", into = "ProfileStoreData")]
pub struct ProfileStore {
    profiles: Vec<StoredProfile>,
    index: HashMap<String, usize>,
    pub last_run: Option<RunSummary>,
}

#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileStoreData {
    #[serde(default)]
    profiles: Vec<StoredProfile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_run: Option<RunSummary>,
}

impl From<ProfileStoreData> for ProfileStore {
    fn from(data: ProfileStoreData) -> Self {
        let mut store = ProfileStore {
            last_run: data.last_run,
            ..ProfileStore::default()
        };
        store.extend(data.profiles);
        store
    }
}

impl From<ProfileStore> for ProfileStoreData {
    fn from(store: ProfileStore) -> Self {
        ProfileStoreData {
            profiles: store.profiles,
            last_run: store.last_run,
        }
    }
}

impl ProfileStore {
    pub fn len(&self) -> usize {
        self.profiles.len()
    }

    pub fn profiles(&self) -> &[StoredProfile] {
        &self.profiles
    }

    pub fn get(&self, mpid: &str) -> Option<&StoredProfile> {
        self.index.get(mpid).and_then(|&i| self.profiles.get(i))
    }

    /// Adds profiles; one whose mpid is already stored replaces it in place, keeping
    /// what it inherited in the last run (attributes the job wrote stay until the next
    /// run, as on the platform). Returns how many were replaced.
    pub fn extend(&mut self, profiles: impl IntoIterator<Item = StoredProfile>) -> usize {
        let mut replaced = 0;
        for mut profile in profiles {
            match self.index.get(&profile.mpid) {
                Some(&i) => {
                    if let Some(slot) = self.profiles.get_mut(i) {
                        profile.inherited = std::mem::take(&mut slot.inherited);
                        *slot = profile;
                        replaced += 1;
                    }
                }
                None => {
                    self.index.insert(profile.mpid.clone(), self.profiles.len());
                    self.profiles.push(profile);
                }
            }
        }
        replaced
    }

    /// Replaces every profile's inherited attributes with the job's result.
    pub fn set_inherited(&mut self, mut inherited: HashMap<String, Map<String, Value>>) {
        for profile in &mut self.profiles {
            profile.inherited = inherited.remove(&profile.mpid).unwrap_or_default();
        }
    }
}
