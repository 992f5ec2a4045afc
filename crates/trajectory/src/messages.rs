//! The parts of a SWE-smith `messages` list that the replay reads, borrowed from the JSON text
//! where possible (docs/prepare.md, "Speed").
//!
//! A `tool`-split row's `messages` is a JSON string of ~50–100 kB; decoding it into a
//! `serde_json::Value` tree (one map per message, one `String` per key and value) was the largest
//! cost of `prepare`. [`parse_messages`] instead deserializes only `role`, `content` (a string or
//! a list of text blocks), `thought` and `tool_calls`, skipping every other key, with strings
//! borrowed from the input unless they hold escapes. Input that does not fit this shape (a
//! number where a string belongs, duplicate keys, …) is decoded again as a `Value` and converted
//! with [`from_value`], the one path that reports problems, so both give the same messages and
//! the same errors.

use crate::error::{Issue, IssueKind};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// One message.
#[derive(Debug)]
pub(crate) struct Msg<'a> {
    /// `role`, when it is a string.
    pub(crate) role: Option<Cow<'a, str>>,
    /// The text of `content` (blocks concatenated).
    pub(crate) content: Content<'a>,
    /// `thought`, when it is a string.
    pub(crate) thought: Option<Cow<'a, str>>,
    /// `tool_calls`.
    pub(crate) tool_calls: Calls<'a>,
}

/// `content`: a string, text blocks, or nothing readable.
#[derive(Debug)]
pub(crate) enum Content<'a> {
    Text(Cow<'a, str>),
    Blocks(Vec<Cow<'a, str>>),
    Empty,
}

impl Content<'_> {
    /// The text (blocks joined without separator).
    pub(crate) fn text(&self) -> Cow<'_, str> {
        match self {
            Content::Text(t) => Cow::Borrowed(t.as_ref()),
            Content::Blocks(b) if b.len() == 1 => Cow::Borrowed(b[0].as_ref()),
            Content::Blocks(b) => Cow::Owned(b.concat()),
            Content::Empty => Cow::Borrowed(""),
        }
    }
}

/// `tool_calls`.
#[derive(Debug)]
pub(crate) enum Calls<'a> {
    /// Absent or null.
    None,
    /// A list.
    List(Vec<Call<'a>>),
    /// Something else (an error when read).
    NotList,
}

/// One tool call.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    /// `function`, when present.
    pub(crate) function: Option<Function<'a>>,
}

/// A call's `function`.
#[derive(Debug)]
pub(crate) struct Function<'a> {
    /// `name`, when it is a string.
    pub(crate) name: Option<Cow<'a, str>>,
    /// `arguments`.
    pub(crate) arguments: Arguments<'a>,
}

/// A call's `arguments`.
#[derive(Debug)]
pub(crate) enum Arguments<'a> {
    /// A JSON object in a string (the SWE-agent form).
    Text(Cow<'a, str>),
    /// An object.
    Object(Value),
    /// Absent or null.
    None,
    /// Something else.
    Other,
}

/// Decodes a `messages` JSON text.
pub(crate) fn parse_messages(text: &str) -> Result<Vec<Msg<'_>>, OwnedOrBorrowed> {
    match serde_json::from_str::<Vec<TypedMsg<'_>>>(text) {
        Ok(list) => Ok(list.into_iter().map(TypedMsg::into_msg).collect()),
        Err(_) => match serde_json::from_str::<Value>(text) {
            Ok(v) => Err(OwnedOrBorrowed::Value(v)),
            Err(e) => Err(OwnedOrBorrowed::Bad(Issue::new(IssueKind::MalformedJson, "messages", e.to_string()))),
        },
    }
}

/// What [`parse_messages`] gives when the fast path does not apply: the decoded tree (convert it
/// with [`from_value`]) or the parse error.
pub(crate) enum OwnedOrBorrowed {
    Value(Value),
    Bad(Issue),
}

/// Converts a decoded `messages` value.
pub(crate) fn from_value(messages: &Value) -> Result<Vec<Msg<'_>>, Issue> {
    let list = messages
        .as_array()
        .ok_or_else(|| Issue::new(IssueKind::MalformedJson, "messages", "not a JSON list of messages"))?;
    Ok(list.iter().map(msg_of_value).collect())
}

fn msg_of_value(m: &Value) -> Msg<'_> {
    let content = match m.get("content") {
        Some(Value::String(s)) => Content::Text(Cow::Borrowed(s)),
        Some(Value::Array(blocks)) => Content::Blocks(
            blocks
                .iter()
                .filter_map(|b| match b {
                    Value::String(s) => Some(Cow::Borrowed(s.as_str())),
                    other => other.get("text").and_then(|t| t.as_str()).map(Cow::Borrowed),
                })
                .collect(),
        ),
        _ => Content::Empty,
    };
    let tool_calls = match m.get("tool_calls") {
        None | Some(Value::Null) => Calls::None,
        Some(Value::Array(c)) => Calls::List(
            c.iter()
                .map(|call| Call {
                    function: call.get("function").map(|f| Function {
                        name: f.get("name").and_then(|n| n.as_str()).map(Cow::Borrowed),
                        arguments: match f.get("arguments") {
                            Some(Value::String(s)) => Arguments::Text(Cow::Borrowed(s)),
                            Some(v @ Value::Object(_)) => Arguments::Object(v.clone()),
                            Some(Value::Null) | None => Arguments::None,
                            Some(_) => Arguments::Other,
                        },
                    }),
                })
                .collect(),
        ),
        Some(_) => Calls::NotList,
    };
    Msg {
        role: m.get("role").and_then(|r| r.as_str()).map(Cow::Borrowed),
        content,
        thought: m.get("thought").and_then(|t| t.as_str()).map(Cow::Borrowed),
        tool_calls,
    }
}

/// A string borrowed from the input when it has no escapes.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

#[derive(Deserialize)]
struct TypedMsg<'a> {
    #[serde(borrow, default)]
    role: Option<Text<'a>>,
    #[serde(borrow, default)]
    content: Option<TypedContent<'a>>,
    #[serde(borrow, default)]
    thought: Option<Text<'a>>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<TypedCall<'a>>>,
}

#[derive(Deserialize)]
struct TypedCall<'a> {
    // `"function": null` is left to the Value path, which reads it as a function without a name.
    #[serde(borrow, default, deserialize_with = "present")]
    function: Option<TypedFunction<'a>>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<TypedFunction<'de>>, D::Error> {
    TypedFunction::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct TypedFunction<'a> {
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
    #[serde(default)]
    arguments: Option<Value>,
}

impl<'a> TypedMsg<'a> {
    fn into_msg(self) -> Msg<'a> {
        Msg {
            role: self.role.map(|t| t.0),
            content: self.content.map_or(Content::Empty, |c| c.0),
            thought: self.thought.map(|t| t.0),
            tool_calls: match self.tool_calls {
                None => Calls::None,
                Some(list) => Calls::List(
                    list.into_iter()
                        .map(|c| Call {
                            function: c.function.map(|f| Function {
                                name: f.name.map(|t| t.0),
                                arguments: match f.arguments {
                                    Some(Value::String(s)) => Arguments::Text(Cow::Owned(s)),
                                    Some(v @ Value::Object(_)) => Arguments::Object(v),
                                    Some(Value::Null) | None => Arguments::None,
                                    Some(_) => Arguments::Other,
                                },
                            }),
                        })
                        .collect(),
                ),
            },
        }
    }
}

/// `content` as a string, null, or a list whose items are strings or objects with a `text`
/// string; anything else is an error, so the caller falls back to the `Value` path.
struct TypedContent<'a>(Content<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for TypedContent<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ContentVisitor(std::marker::PhantomData))
    }
}

struct ContentVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for ContentVisitor<'a> {
    type Value = TypedContent<'a>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a list of text blocks")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(TypedContent(Content::Text(Cow::Borrowed(v))))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(TypedContent(Content::Text(Cow::Owned(v.to_string()))))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(TypedContent(Content::Text(Cow::Owned(v))))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(TypedContent(Content::Empty))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut blocks = Vec::new();
        while let Some(b) = seq.next_element::<Block<'a>>()? {
            if let Some(t) = b.0 {
                blocks.push(t);
            }
        }
        Ok(TypedContent(Content::Blocks(blocks)))
    }
}

/// A content block: a string, or an object whose `text` (when a string) is kept.
struct Block<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Block<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BlockVisitor(std::marker::PhantomData))
    }
}

struct BlockVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for BlockVisitor<'a> {
    type Value = Block<'a>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a text block")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Block(Some(Cow::Borrowed(v))))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Block(Some(Cow::Owned(v.to_string()))))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Block(Some(Cow::Owned(v))))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut text = None;
        let mut seen = false;
        while let Some(key) = map.next_key::<Text<'a>>()? {
            if key.0 == "text" {
                if seen {
                    return Err(de::Error::duplicate_field("text"));
                }
                seen = true;
                text = Some(map.next_value::<Text<'a>>()?.0);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Block(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(list: &[Msg<'_>]) -> Vec<(Option<String>, String, Option<String>, usize)> {
        list.iter()
            .map(|m| {
                let calls = match &m.tool_calls {
                    Calls::List(c) => c.len(),
                    _ => 0,
                };
                (
                    m.role.as_deref().map(str::to_string),
                    m.content.text().into_owned(),
                    m.thought.as_deref().map(str::to_string),
                    calls,
                )
            })
            .collect()
    }

    #[test]
    fn fast_path_and_value_path_agree() {
        let text = r#"[{"role":"system","content":"s","agent":"main","extra":{"deep":[1,2]}},
            {"role":"user","content":[{"type":"text","text":"Fix \"it\"\n"},{"type":"image","url":"x"},"tail"]},
            {"role":"assistant","content":"Look.","thought":"Look.","tool_calls":[{"id":"t","function":{"name":"bash","arguments":"{\"command\": \"ls\"}"}}]},
            {"role":"tool","content":[{"type":"text","text":"OBSERVATION:\né\u0001"}],"tool_call_ids":["t"]},
            {"role":"assistant","content":null,"tool_calls":null}]"#;
        let fast = match parse_messages(text) {
            Ok(l) => texts(&l),
            Err(_) => panic!("fast path expected"),
        };
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(fast, texts(&from_value(&v).unwrap()));
        assert_eq!(fast[1].1, "Fix \"it\"\ntail");
        // Shapes the fast path does not take go through the Value path.
        assert!(matches!(parse_messages(r#"[{"role": 5}]"#), Err(OwnedOrBorrowed::Value(_))));
        assert!(matches!(parse_messages(r#"[{"role": "user", "content": {"a": 1}}]"#), Err(OwnedOrBorrowed::Value(_))));
        assert!(matches!(parse_messages(r#"{"role": "user"}"#), Err(OwnedOrBorrowed::Value(_))));
        assert!(matches!(parse_messages("[{"), Err(OwnedOrBorrowed::Bad(_))));
    }
}
