//! Beyond the live API: load profiles into a workspace, run the weekly group job now, and
//! read a profile back with what it inherited.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::{Extension, Json};
use group_identity::preview::PreviewOptions;
use group_identity::profiles::{read_all, Format};
use group_identity::session::preview_groups;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::auth::Caller;
use crate::errors::ApiError;
use crate::extract::{body_error, path_error};
use crate::server::{timestamp, AppState};
use crate::store::{ProfileStore, RunSummary, Store, StoredProfile};

/// Diagnostics returned by a profile load; the rest are only counted.
const MAX_DIAGNOSTICS: usize = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadQuery {
    format: Option<String>,
    mode: Option<String>,
}

fn parse_format(name: Option<&str>) -> Result<Format, ApiError> {
    match name.unwrap_or("auto") {
        "auto" => Ok(Format::Auto),
        "json" => Ok(Format::Json),
        "ndjson" => Ok(Format::Ndjson),
        "csv" => Ok(Format::Csv),
        other => Err(ApiError::bad_request(format!(
            "format must be auto, json, ndjson or csv, got {other:?}"
        ))),
    }
}

/// Sets a workspace's profile store and saves; on a failed save the old one is put back.
async fn commit(
    app: &AppState,
    store: &mut Store,
    ws: u64,
    profiles: ProfileStore,
) -> Result<(), ApiError> {
    let previous = std::mem::replace(
        &mut store.workspaces.entry(ws).or_default().profiles,
        profiles,
    );
    if let Err(error) = app.save(store).await {
        store.workspaces.entry(ws).or_default().profiles = previous;
        return Err(error);
    }
    Ok(())
}

/// `POST /emulator/workspaces/{ws}/profiles[?format=..][&mode=append]`: any SPEC format.
pub async fn load_profiles(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<LoadQuery>, QueryRejection>,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(ws) = path.map_err(path_error)?;
    let ws = caller.workspace(&ws)?;
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let format = parse_format(query.format.as_deref())?;
    let append = match query.mode.as_deref().unwrap_or("replace") {
        "replace" => false,
        "append" => true,
        other => {
            return Err(ApiError::bad_request(format!(
                "mode must be replace or append, got {other:?}"
            )))
        }
    };
    let body = body.map_err(|r| body_error(uri.path(), r))?;
    // Parsing a large export is CPU work: keep it off the request threads.
    let (read, diagnostics) = tokio::task::spawn_blocking(move || read_all(&body, format))
        .await
        .map_err(|e| ApiError::internal(format!("reading the profiles failed: {e}")))?;
    let loaded = read.len();
    let profiles = read.into_iter().map(|p| StoredProfile {
        mpid: p.mpid,
        attributes: p.attributes,
        attribute_timestamps: p.attribute_timestamps,
        updated_at: p.updated_at,
        last_stored_timestamp_ms: p.last_stored_timestamp_ms,
        inherited: Map::new(),
    });

    let mut store = app.store.lock().await;
    let (next, replaced) = if append {
        let mut next = store
            .workspaces
            .get(&ws)
            .map(|w| w.profiles.clone())
            .unwrap_or_default();
        let replaced = next.extend(profiles);
        (next, replaced)
    } else {
        let mut next = ProfileStore::default();
        next.extend(profiles);
        (next, 0)
    };
    let total = next.len();
    commit(&app, &mut store, ws, next).await?;
    let suppressed = diagnostics.len().saturating_sub(MAX_DIAGNOSTICS);
    let shown: Vec<_> = diagnostics.into_iter().take(MAX_DIAGNOSTICS).collect();
    Ok(Json(json!({
        "loaded": loaded,
        "replaced": replaced,
        "profiles": total,
        "diagnostics": shown,
        "diagnosticsSuppressed": suppressed,
    })))
}

/// `GET /emulator/workspaces/{ws}/profiles`: how many profiles, and the last job run.
pub async fn summary(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(ws) = path.map_err(path_error)?;
    let ws = caller.workspace(&ws)?;
    let store = app.store.lock().await;
    let workspace = store.workspaces.get(&ws);
    Ok(Json(json!({
        "profiles": workspace.map_or(0, |w| w.profiles.len()),
        "lastRun": workspace.and_then(|w| w.profiles.last_run.clone()),
    })))
}

/// `GET /emulator/workspaces/{ws}/profiles/{mpid}`: own and inherited attributes.
pub async fn profile(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path((ws, mpid)) = path.map_err(path_error)?;
    let ws = caller.workspace(&ws)?;
    let store = app.store.lock().await;
    let Some(profile) = store
        .workspaces
        .get(&ws)
        .and_then(|w| w.profiles.get(&mpid))
    else {
        return Err(ApiError::not_found(format!(
            "workspace {ws} has no profile with mpid {mpid:?}"
        )));
    };
    // As the Profile API shows it: inherited `group:attribute` values among the user's own.
    let mut all = profile.attributes.clone();
    all.extend(profile.inherited.clone());
    Ok(Json(json!({
        "mpid": profile.mpid,
        "user_attributes": all,
        "own_attributes": profile.attributes,
        "inherited_attributes": profile.inherited,
    })))
}

/// One line of the job's input, in the Profile API shape so that no attribute name (not
/// even `mpid` or `updated_at`) can be mistaken for anything else; the times go beside
/// `user_attributes`, where `latest` reads them.
#[derive(Serialize)]
struct Line<'a> {
    mpid: &'a str,
    user_attributes: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    user_attribute_timestamps: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_stored_timestamp_ms: Option<&'a Value>,
}

fn job_input(profiles: &[StoredProfile]) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    for profile in profiles {
        serde_json::to_writer(
            &mut out,
            &Line {
                mpid: &profile.mpid,
                user_attributes: &profile.attributes,
                user_attribute_timestamps: &profile.attribute_timestamps,
                updated_at: profile.updated_at.as_ref(),
                last_stored_timestamp_ms: profile.last_stored_timestamp_ms.as_ref(),
            },
        )?;
        out.push(b'\n');
    }
    Ok(out)
}

/// `POST /emulator/workspaces/{ws}/run`: the weekly group job, now.
pub async fn run(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(ws) = path.map_err(path_error)?;
    let ws = caller.workspace(&ws)?;
    // Held for the whole run: profiles and definition cannot change under the job.
    let mut store = app.store.lock().await;
    let workspace = store.workspaces.get(&ws);
    let Some(group) = workspace.and_then(|w| w.group.clone()) else {
        return Err(ApiError::not_found(format!(
            "workspace {ws} has no group definition; create one with POST /platform/workspaces/{ws}/groups"
        )));
    };
    let mut profiles = workspace.map(|w| w.profiles.clone()).unwrap_or_default();
    let input = job_input(profiles.profiles())
        .map_err(|e| ApiError::internal(format!("could not encode the profiles: {e}")))?;
    let definition = group.definition();
    let options = PreviewOptions {
        format: Format::Ndjson,
        ..PreviewOptions::default()
    };
    let preview =
        tokio::task::spawn_blocking(move || preview_groups(&definition, &input, &options))
            .await
            .map_err(|e| ApiError::internal(format!("the group job failed: {e}")))?;

    let inherited: HashMap<String, Map<String, Value>> = preview
        .inherited_by_mpid()
        .into_iter()
        .map(|(mpid, attributes)| {
            let attributes = attributes.0.iter().map(|(k, v)| (k.to_string(), v.clone()));
            (mpid, attributes.collect())
        })
        .collect();
    profiles.set_inherited(inherited);
    let ran_on = timestamp();
    profiles.last_run = Some(RunSummary {
        group_id: group.id.clone(),
        ran_on: ran_on.clone(),
        stats: preview.stats,
    });
    commit(&app, &mut store, ws, profiles).await?;

    let mut answer = serde_json::to_value(&preview)
        .map_err(|e| ApiError::internal(format!("could not encode the result: {e}")))?;
    if let Value::Object(fields) = &mut answer {
        fields.insert("ranOn".into(), Value::String(ran_on));
    }
    Ok(Json(answer))
}
