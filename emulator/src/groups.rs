//! The six group endpoints: `/platform/workspaces/{ws}/groups[/{group_id}]`.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use group_identity::definition::{read_definition_text, DefinitionBody, Mode};

use crate::auth::Caller;
use crate::errors::ApiError;
use crate::extract::{path_error, JsonBytes};
use crate::server::{timestamp, AppState};
use crate::store::{Store, StoredGroup};

type WsPath = Result<Path<String>, PathRejection>;
type GroupPath = Result<Path<(String, String)>, PathRejection>;
/// Taken as a `Result` so that the path and workspace are checked before the body.
type Body = Result<JsonBytes, ApiError>;

/// Reads a request body through the core's validation: 400 when it is not JSON the core
/// can read (a syntax error, a lone surrogate, nesting past the reader's limit), 422 with
/// every issue when it breaks a rule (a body that is JSON but not an object among them),
/// else the typed body. A number beyond a double (`1e400`) is JSON like any other.
fn read_body(body: &[u8], mode: &Mode) -> Result<DefinitionBody, ApiError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not UTF-8 text (bad byte at offset {})",
            e.valid_up_to()
        ))
    })?;
    let (validation, parsed) = read_definition_text(text, mode);
    // Not JSON: the grammar fails, or the core could not read it as a value (its
    // `invalid_json` issue, for what a value cannot hold); the core's message names the
    // place. JSON that is no object is also `invalid_json`, but a value, so a 422.
    let unreadable = validation.errors.iter().find(|i| i.code == "invalid_json");
    let grammar = serde_json::from_str::<&serde_json::value::RawValue>(text).is_ok();
    let no_value = || serde_json::from_str::<serde_json::Value>(text).is_err();
    if !grammar || (unreadable.is_some() && no_value()) {
        let detail = unreadable.map_or("the body is not JSON", |i| i.message.as_str());
        return Err(ApiError::bad_request(format!(
            "the body is not JSON: {detail}"
        )));
    }
    if !validation.valid {
        return Err(ApiError::validation(
            &validation.errors,
            &validation.warnings,
        ));
    }
    parsed.ok_or_else(|| ApiError::internal("the validator accepted the body but returned none"))
}

fn no_group(ws: u64, group_id: &str) -> ApiError {
    ApiError::not_found(format!("workspace {ws} has no group {group_id:?}"))
}

/// The workspace's definition when its id is `group_id`, else 404.
fn existing(store: &crate::store::Store, ws: u64, group_id: &str) -> Result<StoredGroup, ApiError> {
    store
        .workspaces
        .get(&ws)
        .and_then(|w| w.group.clone())
        .filter(|g| g.id == group_id)
        .ok_or_else(|| no_group(ws, group_id))
}

/// Sets a workspace's group and saves; on a failed save the old value is put back.
async fn commit(
    app: &AppState,
    store: &mut Store,
    ws: u64,
    group: Option<StoredGroup>,
) -> Result<(), ApiError> {
    let previous = std::mem::replace(&mut store.workspaces.entry(ws).or_default().group, group);
    if let Err(error) = app.save(store).await {
        store.workspaces.entry(ws).or_default().group = previous;
        return Err(error);
    }
    Ok(())
}

/// `GET .../groups`: the workspace's definitions (at most one).
pub async fn list(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: WsPath,
) -> Result<Json<Vec<StoredGroup>>, ApiError> {
    let Path(ws) = path.map_err(path_error)?;
    let ws = caller.workspace(&ws)?;
    let store = app.store.lock().await;
    let group = store.workspaces.get(&ws).and_then(|w| w.group.clone());
    Ok(Json(group.into_iter().collect()))
}

/// `GET .../groups/{group_id}`.
pub async fn get(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: GroupPath,
) -> Result<Json<StoredGroup>, ApiError> {
    let Path((ws, group_id)) = path.map_err(path_error)?;
    let ws = caller.workspace(&ws)?;
    let store = app.store.lock().await;
    existing(&store, ws, &group_id).map(Json)
}

/// `POST .../groups`: one definition per workspace.
pub async fn create(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: WsPath,
    body: Body,
) -> Result<Json<StoredGroup>, ApiError> {
    let Path(ws) = path.map_err(path_error)?;
    let ws = caller.workspace(&ws)?;
    let body = read_body(&body?.0, &Mode::Create)?;
    let (Some(id), Some(source_user_attribute), Some(attributes)) =
        (body.id, body.source_user_attribute, body.attributes)
    else {
        return Err(ApiError::internal(
            "the validator accepted a body without required fields",
        ));
    };
    let mut store = app.store.lock().await;
    if let Some(existing) = store.workspaces.get(&ws).and_then(|w| w.group.as_ref()) {
        return Err(if existing.id == id {
            ApiError::unprocessable(
                format!("a group with id {id:?} already exists in workspace {ws}"),
                "/id",
            )
        } else {
            ApiError::unprocessable(
                format!(
                    "workspace {ws} already has a group definition ({:?}) and holds at most 1: \
                     update it with PUT or delete it first",
                    existing.id
                ),
                "",
            )
        });
    }
    let now = timestamp();
    let group = StoredGroup {
        id,
        description: body.description,
        source_user_attribute,
        attributes,
        created_on: now.clone(),
        created_by: caller.client_id.to_string(),
        last_modified_on: now,
        last_modified_by: caller.client_id.to_string(),
    };
    commit(&app, &mut store, ws, Some(group.clone())).await?;
    Ok(Json(group))
}

/// `PUT .../groups/{group_id}`: replaces the definition; `created_*` stay.
pub async fn update(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: GroupPath,
    body: Body,
) -> Result<Json<StoredGroup>, ApiError> {
    replace(
        app,
        caller,
        path,
        body,
        |group_id| Mode::Update { group_id },
        |existing, body| {
            StoredGroup {
                // PUT replaces the whole definition: an omitted description is cleared.
                description: body.description,
                source_user_attribute: body
                    .source_user_attribute
                    .unwrap_or_else(|| existing.source_user_attribute.clone()),
                attributes: body
                    .attributes
                    .unwrap_or_else(|| existing.attributes.clone()),
                ..existing
            }
        },
    )
    .await
}

/// `PATCH .../groups/{group_id}` ("set attributes"): replaces only `attributes`.
pub async fn set_attributes(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: GroupPath,
    body: Body,
) -> Result<Json<StoredGroup>, ApiError> {
    replace(
        app,
        caller,
        path,
        body,
        |_| Mode::Patch,
        |existing, body| StoredGroup {
            attributes: body
                .attributes
                .unwrap_or_else(|| existing.attributes.clone()),
            ..existing
        },
    )
    .await
}

/// PUT and PATCH: validate the body in its mode, find the group, build the new one from
/// the old (`change`), stamp it and save.
async fn replace(
    app: AppState,
    caller: Caller,
    path: GroupPath,
    body: Body,
    mode: impl FnOnce(String) -> Mode,
    change: impl FnOnce(StoredGroup, DefinitionBody) -> StoredGroup,
) -> Result<Json<StoredGroup>, ApiError> {
    let Path((ws, group_id)) = path.map_err(path_error)?;
    let ws = caller.workspace(&ws)?;
    let body = read_body(&body?.0, &mode(group_id.clone()))?;
    let mut store = app.store.lock().await;
    let existing = existing(&store, ws, &group_id)?;
    let group = StoredGroup {
        last_modified_on: timestamp(),
        last_modified_by: caller.client_id.to_string(),
        ..change(existing, body)
    };
    commit(&app, &mut store, ws, Some(group.clone())).await?;
    Ok(Json(group))
}

/// `DELETE .../groups/{group_id}`: 204, no body.
pub async fn delete(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    path: GroupPath,
) -> Result<StatusCode, ApiError> {
    let Path((ws, group_id)) = path.map_err(path_error)?;
    let ws = caller.workspace(&ws)?;
    let mut store = app.store.lock().await;
    let exists = store
        .workspaces
        .get(&ws)
        .and_then(|w| w.group.as_ref())
        .is_some_and(|g| g.id == group_id);
    if !exists {
        return Err(no_group(ws, &group_id));
    }
    commit(&app, &mut store, ws, None).await?;
    Ok(StatusCode::NO_CONTENT)
}
