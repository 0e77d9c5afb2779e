//! What the playground's background worker (`www/worker.js`) calls, each fed one file
//! slice at a time: a preview and an audience count (two passes) that hand back one JSON
//! text (cheap to post to the page), and the enriched download (two passes), written
//! slice by slice.

use group_identity::{
    AudienceOptions, AudienceSession, Condition, GroupDefinition, PreviewOptions, PreviewSession,
};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::enrich::{Enricher, OutFormat};

fn definition(json: &str) -> Result<GroupDefinition, JsValue> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| JsValue::from_str(&format!("definition: {e}")))?;
    GroupDefinition::from_value(&value).map_err(|issues| {
        let messages: Vec<String> = issues
            .iter()
            .map(|i| format!("{}: {}", i.path, i.message))
            .collect();
        JsValue::from_str(&format!("invalid definition: {}", messages.join("; ")))
    })
}

fn options<T: serde::de::DeserializeOwned + Default>(json: &str) -> Result<T, JsValue> {
    if json.trim().is_empty() {
        return Ok(T::default());
    }
    serde_json::from_str(json).map_err(|e| JsValue::from_str(&format!("options: {e}")))
}

/// A session's result as JSON text (cheap to post to the page); a session finishes once.
fn finish_once<S, T: serde::Serialize>(
    session: &mut Option<S>,
    finish: impl FnOnce(S) -> T,
) -> Result<String, JsValue> {
    let session = session
        .take()
        .ok_or_else(|| JsValue::from_str("this session has already finished"))?;
    serde_json::to_string(&finish(session)).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// A [`PreviewSession`] fed by the worker one file slice at a time.
#[wasm_bindgen(js_name = PlaygroundSession)]
pub struct PlaygroundSession {
    inner: Option<PreviewSession>,
}

#[wasm_bindgen(js_class = PlaygroundSession)]
impl PlaygroundSession {
    #[wasm_bindgen(constructor)]
    pub fn new(definition_json: &str, options_json: &str) -> Result<PlaygroundSession, JsValue> {
        let definition = definition(definition_json)?;
        let options: PreviewOptions = options(options_json)?;
        Ok(PlaygroundSession {
            inner: Some(PreviewSession::new(&definition, &options)),
        })
    }

    pub fn push(&mut self, chunk: &[u8]) {
        if let Some(session) = self.inner.as_mut() {
            session.push(chunk);
        }
    }

    #[wasm_bindgen(js_name = bytesRead)]
    pub fn bytes_read(&self) -> f64 {
        self.inner.as_ref().map_or(0.0, |s| s.bytes_read() as f64)
    }

    /// The preview as JSON text; a session finishes once.
    pub fn finish(&mut self) -> Result<String, JsValue> {
        finish_once(&mut self.inner, PreviewSession::finish)
    }
}

/// An [`AudienceSession`] fed by the worker one file slice at a time, over two passes.
#[wasm_bindgen(js_name = PlaygroundAudience)]
pub struct PlaygroundAudience {
    inner: Option<AudienceSession>,
}

#[wasm_bindgen(js_class = PlaygroundAudience)]
impl PlaygroundAudience {
    #[wasm_bindgen(constructor)]
    pub fn new(
        definition_json: &str,
        conditions_json: &str,
        options_json: &str,
    ) -> Result<PlaygroundAudience, JsValue> {
        let definition = definition(definition_json)?;
        let conditions: Vec<Condition> = serde_json::from_str(conditions_json)
            .map_err(|e| JsValue::from_str(&format!("conditions: {e}")))?;
        let options: AudienceOptions = options(options_json)?;
        let session = AudienceSession::new(&definition, &conditions, &options)
            .map_err(|e| JsValue::from_str(&format!("condition {}: {}", e.index + 1, e.message)))?;
        Ok(PlaygroundAudience {
            inner: Some(session),
        })
    }

    pub fn push(&mut self, chunk: &[u8]) {
        if let Some(session) = self.inner.as_mut() {
            session.push(chunk);
        }
    }

    /// After the whole input once: push it again from the start.
    #[wasm_bindgen(js_name = secondPass)]
    pub fn second_pass(&mut self) {
        if let Some(session) = self.inner.as_mut() {
            session.second_pass();
        }
    }

    /// The result as JSON text; once.
    pub fn finish(&mut self) -> Result<String, JsValue> {
        finish_once(&mut self.inner, AudienceSession::finish)
    }
}

/// The enriched download of a file, fed by the worker one slice at a time over two
/// passes; each slice of the second gives its part of the text.
#[wasm_bindgen(js_name = PlaygroundEnrich)]
pub struct PlaygroundEnrich {
    inner: Enricher,
}

#[wasm_bindgen(js_class = PlaygroundEnrich)]
impl PlaygroundEnrich {
    /// `out_format`: `csv` or `ndjson`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        definition_json: &str,
        options_json: &str,
        out_format: &str,
    ) -> Result<PlaygroundEnrich, JsValue> {
        let definition = definition(definition_json)?;
        let options: PreviewOptions = options(options_json)?;
        let out = if out_format == "csv" {
            OutFormat::Csv
        } else {
            OutFormat::Ndjson
        };
        Ok(PlaygroundEnrich {
            inner: Enricher::new(&definition, &options, out),
        })
    }

    /// Nothing in the first pass; the text of the profiles read in the second.
    pub fn push(&mut self, chunk: &[u8]) -> String {
        self.inner.push(chunk)
    }

    /// After the whole input once: push it again from the start.
    #[wasm_bindgen(js_name = secondPass)]
    pub fn second_pass(&mut self) {
        self.inner.second_pass();
    }

    /// The last part of the text.
    pub fn finish(&mut self) -> String {
        self.inner.finish()
    }
}
