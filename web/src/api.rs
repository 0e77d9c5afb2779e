//! The exported functions and the `PreviewSession` class. Each one reads its arguments with
//! [`crate::convert`], calls the engine once, and returns plain data.

use wasm_bindgen::prelude::*;

use crate::convert::{self, Feeder, Options};
use crate::errors::Thrown;

/// Installs the panic hook (once) so an engine bug shows its message instead of
/// "unreachable executed".
fn enter() {
    console_error_panic_hook::set_once();
}

/// Validates a group definition (an object or JSON text) for one endpoint. Problems are
/// data: `{ valid, errors, warnings }`; only arguments of the wrong type throw.
#[wasm_bindgen(js_name = validateDefinition, unchecked_return_type = "Validation")]
pub fn validate_definition(
    #[wasm_bindgen(unchecked_param_type = "unknown")] definition: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "ValidateOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    enter();
    let mode = Options::read(&options, "options")?.mode()?;
    convert::to_js(&convert::validate_definition(&definition, &mode)?)
}

/// Previews what the weekly group job would do to `profiles`. Throws `DefinitionError` for a
/// definition that cannot run; problems in the profiles are diagnostics, never thrown.
#[wasm_bindgen(js_name = previewGroups, unchecked_return_type = "Preview")]
pub fn preview_groups(
    #[wasm_bindgen(unchecked_param_type = "GroupDefinition | string | Uint8Array")]
    definition: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Profiles")] profiles: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "PreviewOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    enter();
    let definition = convert::group_definition(&definition)?;
    let mut options = Options::read(&options, "options")?.preview()?;
    let input = convert::profiles(&profiles, &mut options)?;
    // The one-shot preview is a session fed in windows, so a huge input is never copied
    // into wasm memory whole.
    let mut session = group_identity::PreviewSession::new(&definition, &options);
    Feeder::feed_whole(&mut session, &input)?;
    convert::preview_to_js(session.finish())
}

/// Which profiles match every condition, over their own and inherited attributes.
#[wasm_bindgen(js_name = previewAudience, unchecked_return_type = "AudienceResult")]
pub fn preview_audience(
    #[wasm_bindgen(unchecked_param_type = "GroupDefinition | string | Uint8Array")]
    definition: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Profiles")] profiles: JsValue,
    #[wasm_bindgen(unchecked_param_type = "readonly Condition[]")] conditions: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "AudienceOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    enter();
    let definition = convert::group_definition(&definition)?;
    let conditions = convert::conditions(&conditions)?;
    let mut options = Options::read(&options, "options")?.audience()?;
    let input = convert::profiles(&profiles, &mut options.preview)?;
    // Two passes over the caller's value, each fed in windows as `previewGroups` feeds
    // its one: the input is never copied whole into wasm memory.
    let mut session = group_identity::AudienceSession::new(&definition, &conditions, &options)
        .map_err(Thrown::Condition)?;
    Feeder::feed_whole(&mut session, &input)?;
    session.second_pass();
    Feeder::feed_whole(&mut session, &input)?;
    convert::to_js(&session.finish())
}

/// Compiles the definition to two warehouse SQL queries over a table of profiles: `groups`
/// (one row per grouped profile with its inherited attributes) and `oversized`. Throws
/// `DefinitionError` for a definition that cannot run, `TypeError` for a bad option and
/// `SqlError` for a name no SQL text can carry.
#[wasm_bindgen(js_name = toSql, unchecked_return_type = "SqlQueries")]
pub fn to_sql(
    #[wasm_bindgen(unchecked_param_type = "GroupDefinition | string | Uint8Array")]
    definition: JsValue,
    #[wasm_bindgen(unchecked_param_type = "SqlOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    enter();
    let definition = convert::group_definition(&definition)?;
    let options = Options::read(&options, "options")?.sql()?;
    let queries = group_identity::sql::to_sql(&definition, &options).map_err(Thrown::Sql)?;
    convert::to_js(&queries)
}

/// A preview fed in chunks of any size (strings or bytes, split anywhere, even inside a
/// UTF-8 character); `finish()` gives what `previewGroups` gives on the whole input.
#[wasm_bindgen]
pub struct PreviewSession {
    inner: Option<group_identity::PreviewSession>,
    bytes_read: u64,
    feeder: Feeder,
}

#[wasm_bindgen]
impl PreviewSession {
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "GroupDefinition | string | Uint8Array")] definition: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "PreviewOptions")] options: JsValue,
    ) -> Result<PreviewSession, JsValue> {
        enter();
        let definition = convert::group_definition(&definition)?;
        let options = Options::read(&options, "options")?.preview()?;
        Ok(PreviewSession {
            inner: Some(group_identity::PreviewSession::new(&definition, &options)),
            bytes_read: 0,
            feeder: Feeder::default(),
        })
    }

    /// Feeds the next chunk.
    pub fn push(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] chunk: JsValue,
    ) -> Result<(), JsValue> {
        let input = convert::chunk(&chunk)?;
        let session = self.inner.as_mut().ok_or_else(finished)?;
        self.bytes_read += self.feeder.push(session, &input)?;
        Ok(())
    }

    /// UTF-8 bytes pushed so far.
    #[wasm_bindgen(getter = bytesRead)]
    pub fn bytes_read(&self) -> f64 {
        self.bytes_read as f64
    }

    /// Ends the input and returns the preview; the session takes no more chunks.
    #[wasm_bindgen(unchecked_return_type = "Preview")]
    pub fn finish(&mut self) -> Result<JsValue, JsValue> {
        let mut session = self.inner.take().ok_or_else(finished)?;
        self.bytes_read += self.feeder.finish(&mut session);
        // The input window (up to 8 MB) goes now, not when JavaScript frees the session.
        self.feeder = Feeder::default();
        convert::preview_to_js(session.finish())
    }
}

fn finished() -> JsValue {
    Thrown::State("this PreviewSession is already finished".to_owned()).into()
}
