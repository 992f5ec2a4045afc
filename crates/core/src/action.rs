//! The structured expert action and its canonical text form.
//!
//! SWE-smith ships the same tool call in three renderings (docs/formats.md §1.4–1.6); every reader
//! turns its rendering into one [`Action`] (tool name + parameters in schema order), and
//! everything downstream (training target, reward, sandbox) consumes [`Action::to_canonical`].

use crate::tools::{self, ParamKind};
use std::fmt;

/// One tool call: the tool name and its parameters in the tool's schema order
/// ([`crate::tools::TOOLS`]), values as text.
///
/// # Canonical text
/// The XML function-call form that SWE-agent-LM uses, one parameter per line, parameters in
/// schema order, values verbatim (no padding newlines, no escaping):
///
/// ```text
/// <function=str_replace_editor>
/// <parameter=command>str_replace</parameter>
/// <parameter=path>/testbed/pkg/core.py</parameter>
/// <parameter=old_str>    return x+1</parameter>
/// <parameter=new_str>    return x + 1</parameter>
/// </function>
/// ```
///
/// `submit` is `<function=submit>\n</function>`. Integers are decimal (`insert_line`), integer
/// arrays are `[1, 20]` (`view_range`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Action {
    /// Tool name.
    pub tool: String,
    /// Parameters in schema order.
    pub params: Vec<(String, String)>,
}

/// Why a text is not one well-formed canonical call. The variant names are the reason codes
/// reported by the reward (`kind()`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionParseError {
    /// No `<function=` in the text.
    #[error("no <function=NAME> block")]
    NoFunction,
    /// Text before the function block.
    #[error("text before the function block")]
    LeadingText,
    /// `<function=NAME` without `>`, or no `</function>`.
    #[error("unclosed function block")]
    UnclosedFunction,
    /// A `<parameter=KEY>` without `</parameter>`.
    #[error("unclosed parameter {0:?}")]
    UnclosedParameter(String),
    /// Text inside the block that is not a parameter.
    #[error("unexpected text inside the function block: {0:?}")]
    StrayText(String),
    /// More than one function block.
    #[error("more than one function call")]
    MultipleCalls,
    /// Non-whitespace text after `</function>`.
    #[error("text after </function>")]
    TrailingText,
    /// The tool is not one of bash, str_replace_editor, submit.
    #[error("unknown tool {0:?}")]
    UnknownTool(String),
    /// The tool has no such parameter.
    #[error("tool {tool} has no parameter {param:?}")]
    UnknownParameter {
        /// Tool name.
        tool: String,
        /// Parameter name.
        param: String,
    },
    /// A parameter appears twice.
    #[error("parameter {0:?} given twice")]
    DuplicateParameter(String),
    /// A required parameter is absent.
    #[error("tool {tool} requires parameter {param:?}")]
    MissingParameter {
        /// Tool name.
        tool: String,
        /// Parameter name.
        param: String,
    },
    /// A value does not fit the parameter's type or enum.
    #[error("invalid value for {param}: {value:?}")]
    InvalidValue {
        /// Parameter name.
        param: String,
        /// The value as written.
        value: String,
    },
}

impl ActionParseError {
    /// A short stable label, for counting format errors by reason.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NoFunction => "no_function",
            Self::LeadingText => "leading_text",
            Self::UnclosedFunction => "unclosed_function",
            Self::UnclosedParameter(_) => "unclosed_parameter",
            Self::StrayText(_) => "stray_text",
            Self::MultipleCalls => "multiple_calls",
            Self::TrailingText => "trailing_text",
            Self::UnknownTool(_) => "unknown_tool",
            Self::UnknownParameter { .. } => "unknown_parameter",
            Self::DuplicateParameter(_) => "duplicate_parameter",
            Self::MissingParameter { .. } => "missing_parameter",
            Self::InvalidValue { .. } => "invalid_value",
        }
    }
}

const FN_OPEN: &str = "<function=";
const FN_CLOSE: &str = "</function>";
const PARAM_OPEN: &str = "<parameter=";
const PARAM_CLOSE: &str = "</parameter>";

impl Action {
    /// Builds an action from (name, value) pairs, without validation or reordering.
    pub fn new<'a>(tool: &str, params: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self {
            tool: tool.to_string(),
            params: params.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    /// The value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Checks the action against its tool schema and returns it with parameters in schema
    /// order and typed values in canonical form.
    pub fn validated(self) -> Result<Self, ActionParseError> {
        let spec = tools::tool(&self.tool).ok_or_else(|| ActionParseError::UnknownTool(self.tool.clone()))?;
        let mut slots: Vec<Option<String>> = vec![None; spec.params.len()];
        for (name, value) in self.params {
            let idx = spec
                .param_index(&name)
                .ok_or_else(|| ActionParseError::UnknownParameter { tool: self.tool.clone(), param: name.clone() })?;
            if slots[idx].is_some() {
                return Err(ActionParseError::DuplicateParameter(name));
            }
            let prm = &spec.params[idx];
            let invalid = || ActionParseError::InvalidValue { param: name.clone(), value: value.clone() };
            let value = match prm.kind {
                ParamKind::String => value.clone(),
                ParamKind::Integer => value.trim().parse::<i64>().map_err(|_| invalid())?.to_string(),
                ParamKind::IntArray => canonical_int_array(&value).ok_or_else(invalid)?,
            };
            if !prm.allowed.is_empty() && !prm.allowed.contains(&value.as_str()) {
                return Err(invalid());
            }
            slots[idx] = Some(value);
        }
        let mut params = Vec::new();
        for (prm, slot) in spec.params.iter().zip(slots) {
            match slot {
                Some(v) => params.push((prm.name.to_string(), v)),
                None if prm.required => {
                    return Err(ActionParseError::MissingParameter { tool: self.tool, param: prm.name.to_string() })
                }
                None => {}
            }
        }
        Ok(Self { tool: self.tool, params })
    }

    /// Builds a validated action from a JSON arguments object (the `tool` split's
    /// `function.arguments`, already decoded). Strings stay verbatim; integers and integer
    /// arrays become their canonical text.
    pub fn from_json_args(tool: &str, args: &serde_json::Value) -> Result<Self, ActionParseError> {
        let mut params = Vec::new();
        match args {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let text = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => continue,
                        serde_json::Value::Array(items) => {
                            let nums: Option<Vec<i64>> = items.iter().map(|x| x.as_i64()).collect();
                            match nums {
                                Some(n) => format_int_array(&n),
                                None => {
                                    return Err(ActionParseError::InvalidValue {
                                        param: k.clone(),
                                        value: v.to_string(),
                                    })
                                }
                            }
                        }
                        other => other.to_string(),
                    };
                    params.push((k.clone(), text));
                }
            }
            serde_json::Value::Null => {}
            other => {
                return Err(ActionParseError::InvalidValue { param: "arguments".into(), value: other.to_string() })
            }
        }
        Self { tool: tool.to_string(), params }.validated()
    }

    /// The canonical XML text (see the type's docs).
    pub fn to_canonical(&self) -> String {
        let mut out =
            String::with_capacity(32 + self.params.iter().map(|(k, v)| k.len() + v.len() + 24).sum::<usize>());
        out.push_str(FN_OPEN);
        out.push_str(&self.tool);
        out.push_str(">\n");
        for (k, v) in &self.params {
            out.push_str(PARAM_OPEN);
            out.push_str(k);
            out.push('>');
            out.push_str(v);
            out.push_str(PARAM_CLOSE);
            out.push('\n');
        }
        out.push_str(FN_CLOSE);
        out
    }

    /// Parses text holding exactly one function call (surrounding whitespace allowed) and
    /// validates it against the tool schema. Whitespace between tags does not matter; values
    /// are taken verbatim. The inverse of [`Action::to_canonical`].
    pub fn parse_canonical(text: &str) -> Result<Self, ActionParseError> {
        let (action, rest) = Self::parse_block(text.trim_start())?;
        let rest = rest.trim();
        if !rest.is_empty() {
            return Err(if rest.contains(FN_OPEN) {
                ActionParseError::MultipleCalls
            } else {
                ActionParseError::TrailingText
            });
        }
        action.validated()
    }

    /// Parses one function block at the start of `text` without schema validation; returns it
    /// and the text after `</function>`. Used by readers that find the block inside prose.
    pub fn parse_block(text: &str) -> Result<(Self, &str), ActionParseError> {
        let Some(start) = text.find(FN_OPEN) else { return Err(ActionParseError::NoFunction) };
        if !text[..start].trim().is_empty() {
            return Err(ActionParseError::LeadingText);
        }
        let after = &text[start + FN_OPEN.len()..];
        let gt = after.find('>').ok_or(ActionParseError::UnclosedFunction)?;
        let tool = after[..gt].trim();
        if tool.is_empty() || tool.contains(char::is_whitespace) || tool.contains('<') {
            return Err(ActionParseError::UnclosedFunction);
        }
        let mut body = &after[gt + 1..];
        let mut params = Vec::new();
        loop {
            let trimmed = body.trim_start();
            if let Some(rest) = trimmed.strip_prefix(FN_CLOSE) {
                return Ok((Self { tool: tool.to_string(), params }, rest));
            }
            if let Some(rest) = trimmed.strip_prefix(PARAM_OPEN) {
                let gt = rest.find('>').ok_or(ActionParseError::UnclosedFunction)?;
                let name = rest[..gt].trim().to_string();
                let value_and_rest = &rest[gt + 1..];
                let end = value_and_rest
                    .find(PARAM_CLOSE)
                    .ok_or_else(|| ActionParseError::UnclosedParameter(name.clone()))?;
                params.push((name, value_and_rest[..end].to_string()));
                body = &value_and_rest[end + PARAM_CLOSE.len()..];
                continue;
            }
            if trimmed.is_empty() {
                return Err(ActionParseError::UnclosedFunction);
            }
            if trimmed.starts_with(FN_OPEN) {
                return Err(ActionParseError::UnclosedFunction);
            }
            let stray: String = trimmed.chars().take(40).collect();
            return Err(ActionParseError::StrayText(stray));
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_canonical())
    }
}

/// `[1, 20]`, the Python list repr SWE-agent writes.
fn format_int_array(values: &[i64]) -> String {
    let inner: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    format!("[{}]", inner.join(", "))
}

/// Accepts `[1, 20]`, `[1,20]` or `1 20` and returns `[1, 20]`.
fn canonical_int_array(text: &str) -> Option<String> {
    let inner = text.trim();
    let inner = inner.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(inner);
    let values: Option<Vec<i64>> = inner
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect();
    values.filter(|v| !v.is_empty()).map(|v| format_int_array(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_editor_call() {
        let a = Action::new(
            "str_replace_editor",
            [("path", "/testbed/a.py"), ("command", "str_replace"), ("old_str", "  x\n"), ("new_str", "")],
        )
        .validated()
        .unwrap();
        assert_eq!(a.params[0].0, "command", "schema order");
        let text = a.to_canonical();
        assert_eq!(Action::parse_canonical(&text).unwrap(), a);
        let spaced = text.replace(">\n<parameter", ">   \n\n  <parameter");
        assert_eq!(Action::parse_canonical(&format!("  \n{spaced}\n ")).unwrap(), a);
    }

    #[test]
    fn submit_has_no_parameters() {
        let a = Action::parse_canonical("<function=submit>\n</function>").unwrap();
        assert_eq!(a.to_canonical(), "<function=submit>\n</function>");
    }

    #[test]
    fn typed_values_become_canonical() {
        let args = serde_json::json!({"command": "view", "path": "/x", "view_range": [1, 20]});
        let a = Action::from_json_args("str_replace_editor", &args).unwrap();
        assert_eq!(a.get("view_range"), Some("[1, 20]"));
        let b = Action::parse_canonical("<function=str_replace_editor><parameter=command>view</parameter><parameter=path>/x</parameter><parameter=view_range>[1,20]</parameter></function>").unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn errors_have_reasons() {
        let cases = [
            ("ls", "no_function"),
            ("<function=bash>\n<parameter=command>ls</parameter>\n</function>\n<function=submit>\n</function>", "multiple_calls"),
            ("<function=bash>\n<parameter=command>ls</parameter>\n</function> done", "trailing_text"),
            ("<function=python>\n</function>", "unknown_tool"),
            ("<function=bash>\n</function>", "missing_parameter"),
            ("<function=bash>\n<parameter=cmd>ls</parameter>\n</function>", "unknown_parameter"),
            ("<function=bash>\n<parameter=command>ls", "unclosed_parameter"),
            ("<function=bash>\n<parameter=command>ls</parameter>", "unclosed_function"),
            ("<function=str_replace_editor><parameter=command>delete</parameter><parameter=path>/x</parameter></function>", "invalid_value"),
            ("<function=bash><parameter=command>a</parameter><parameter=command>b</parameter></function>", "duplicate_parameter"),
        ];
        for (text, kind) in cases {
            assert_eq!(Action::parse_canonical(text).unwrap_err().kind(), kind, "{text}");
        }
    }
}
