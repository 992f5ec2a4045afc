//! Chat templates: the checkpoint's Jinja `chat_template` rendered with minijinja 3 the way
//! transformers' `apply_chat_template` renders it (`trim_blocks`, `lstrip_blocks`,
//! `raise_exception`, a Python-`json.dumps`-compatible `tojson`, Python string methods through
//! minijinja-contrib's pycompat; TGI `router/src/infer/chat_template.rs`).

use crate::error::{ModelError, Result};
use crate::tokenizer::token_string;
use minijinja::{Environment, ErrorKind, Value as JValue};
use serde_json::Value;
use std::path::Path;

/// Qwen2.5 instruct models' ChatML template, verbatim from their `tokenizer_config.json`.
pub const QWEN25_CHAT_TEMPLATE: &str = r#"{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"#;

const TEMPLATE_NAME: &str = "chat";

/// A compiled chat template.
#[derive(Debug)]
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: Option<String>,
    eos_token: Option<String>,
}

/// Python `json.dumps(value, ensure_ascii=False)`: `", "` and `": "` separators, keys in order.
pub fn python_json_dumps(value: &Value) -> String {
    let mut out = String::new();
    write_py_json(value, &mut out);
    out
}

fn write_py_json(value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_py_json(v, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push_str(": ");
                write_py_json(v, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn tojson_filter(value: JValue) -> std::result::Result<JValue, minijinja::Error> {
    let json: Value = serde_json::to_value(&value)
        .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, format!("tojson: {e}")))?;
    Ok(JValue::from_safe_string(python_json_dumps(&json)))
}

fn raise_exception(msg: String) -> std::result::Result<String, minijinja::Error> {
    Err(minijinja::Error::new(ErrorKind::InvalidOperation, msg))
}

impl ChatTemplate {
    /// Compiles `source` (Jinja) with the checkpoint's BOS/EOS token strings.
    pub fn new(source: impl Into<String>, bos_token: Option<String>, eos_token: Option<String>) -> Result<Self> {
        let mut env = Environment::new();
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| ModelError::Template { context: "syntax".into(), reason: e.to_string() })?;
        env.set_syntax(syntax);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_filter("tojson", tojson_filter);
        env.add_function("raise_exception", raise_exception);
        env.add_template_owned(TEMPLATE_NAME, source.into())
            .map_err(|e| ModelError::Template { context: "compile".into(), reason: format!("{e:#}") })?;
        Ok(Self { env, bos_token, eos_token })
    }

    /// Qwen2.5's template ([`QWEN25_CHAT_TEMPLATE`]).
    pub fn qwen25() -> Result<Self> {
        Self::new(QWEN25_CHAT_TEMPLATE, None, Some("<|im_end|>".into()))
    }

    /// Loads the template of a checkpoint folder: `chat_template.jinja` (newer transformers) or
    /// the `chat_template` field of `tokenizer_config.json` (a string, or a list of named
    /// templates of which `default` is used).
    pub fn load(dir: &Path) -> Result<Self> {
        let cfg_path = dir.join("tokenizer_config.json");
        let cfg: Value = if cfg_path.is_file() {
            let text = std::fs::read_to_string(&cfg_path).map_err(ModelError::io(&cfg_path))?;
            serde_json::from_str(&text).map_err(|source| ModelError::Json { path: cfg_path.clone(), source })?
        } else {
            Value::Null
        };
        let bos = token_string(cfg.get("bos_token"));
        let eos = token_string(cfg.get("eos_token"));
        let jinja = dir.join("chat_template.jinja");
        let source = if jinja.is_file() {
            std::fs::read_to_string(&jinja).map_err(ModelError::io(&jinja))?
        } else {
            match cfg.get("chat_template") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(list)) => list
                    .iter()
                    .find(|t| t.get("name").and_then(Value::as_str) == Some("default"))
                    .and_then(|t| t.get("template").and_then(Value::as_str))
                    .map(String::from)
                    .ok_or_else(|| ModelError::Config {
                        path: cfg_path.clone(),
                        field: "chat_template".into(),
                        reason: "list without a `default` template".into(),
                    })?,
                _ => {
                    return Err(ModelError::Config {
                        path: cfg_path,
                        field: "chat_template".into(),
                        reason: "missing (and no chat_template.jinja)".into(),
                    })
                }
            }
        };
        Self::new(source, bos, eos)
    }

    /// Renders chat messages; `add_generation_prompt` appends the assistant header.
    pub fn render(&self, messages: &[srl_core::Message], add_generation_prompt: bool) -> Result<String> {
        let messages = serde_json::to_value(messages)
            .map_err(|e| ModelError::Template { context: "messages".into(), reason: e.to_string() })?;
        self.render_json(&messages, add_generation_prompt, None)
    }

    /// Renders arbitrary JSON messages (tool calls, tool role) and optional `tools`.
    pub fn render_json(&self, messages: &Value, add_generation_prompt: bool, tools: Option<&Value>) -> Result<String> {
        let tmpl = self
            .env
            .get_template(TEMPLATE_NAME)
            .map_err(|e| ModelError::Template { context: "lookup".into(), reason: e.to_string() })?;
        let ctx = minijinja::context! {
            messages => JValue::from(minijinja::value::Serde(messages)),
            add_generation_prompt => add_generation_prompt,
            tools => tools.map(|t| JValue::from(minijinja::value::Serde(t))),
            bos_token => self.bos_token.clone().unwrap_or_default(),
            eos_token => self.eos_token.clone().unwrap_or_default(),
        };
        tmpl.render(ctx).map_err(|e| ModelError::Template { context: "render".into(), reason: format!("{e:#}") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use srl_core::{Message, Role};

    #[test]
    fn renders_chatml_with_default_system_prompt() {
        let t = ChatTemplate::qwen25().unwrap();
        let msgs = vec![Message::new(Role::User, "Hi")];
        assert_eq!(
            t.render(&msgs, true).unwrap(),
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n\
             <|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
        let msgs =
            vec![Message::new(Role::System, "S"), Message::new(Role::User, "U"), Message::new(Role::Assistant, "A")];
        assert_eq!(
            t.render(&msgs, false).unwrap(),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n"
        );
    }

    #[test]
    fn python_json_dumps_uses_python_separators() {
        let v = serde_json::json!({"a": [1, 2.5, "x<y"], "b": {"c": null, "d": true}, "é": "ü"});
        assert_eq!(python_json_dumps(&v), r#"{"a": [1, 2.5, "x<y"], "b": {"c": null, "d": true}, "é": "ü"}"#);
    }

    #[test]
    fn raise_exception_and_bad_templates_are_errors() {
        let t = ChatTemplate::new("{{ raise_exception('no system') }}", None, None).unwrap();
        assert!(t.render(&[], false).unwrap_err().to_string().contains("no system"));
        assert_eq!(ChatTemplate::new("{% if %}", None, None).unwrap_err().kind(), "template");
    }
}
