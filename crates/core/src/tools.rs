//! Schemas of the SWE-agent tools that SWE-smith experts call (docs/formats.md §1.7): `bash`
//! (`sweagent/tools/commands.py`), `str_replace_editor` (`tools/edit_anthropic/config.yaml`) and
//! `submit` (`tools/review_on_submit_m/config.yaml`). The parameter order here is the canonical
//! order of [`crate::Action`] text.

/// The JSON type of a tool parameter, as the `tool` split's `arguments` carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A string, kept verbatim.
    String,
    /// An integer (`insert_line`); canonical text is its decimal form.
    Integer,
    /// An array of integers (`view_range`); canonical text is `[1, 20]` (Python list repr,
    /// as SWE-agent renders it in the `xml` split).
    IntArray,
}

/// One parameter of a tool.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    /// Parameter name.
    pub name: &'static str,
    /// Whether every call must carry it.
    pub required: bool,
    /// Its JSON type.
    pub kind: ParamKind,
    /// Allowed values, when the schema has an enum.
    pub allowed: &'static [&'static str],
    /// Whether the `xml` split wraps the value in an extra newline on each side
    /// (`old_str`, `new_str`, `file_text`: docs/formats.md §1.5).
    pub xml_padded: bool,
}

/// One tool: name, description shown to the model, and its parameters in schema order.
#[derive(Debug, Clone, Copy)]
pub struct ToolSpec {
    /// Tool name, as in `<function=NAME>`.
    pub name: &'static str,
    /// One-paragraph description for the system prompt.
    pub description: &'static str,
    /// Parameters in canonical order.
    pub params: &'static [ParamSpec],
}

const fn p(name: &'static str, required: bool, kind: ParamKind) -> ParamSpec {
    ParamSpec { name, required, kind, allowed: &[], xml_padded: false }
}

/// `str_replace_editor` commands.
pub const EDITOR_COMMANDS: &[&str] = &["view", "create", "str_replace", "insert", "undo_edit"];

/// The three tools of SWE-smith's generation config, in the order the prompt lists them.
pub const TOOLS: &[ToolSpec] = &[
    ToolSpec {
        name: "bash",
        description: "Runs the given command directly in bash. The working directory and exported \
            variables persist between calls. Interactive commands (editors, pagers, shells) are refused.",
        params: &[p("command", true, ParamKind::String)],
    },
    ToolSpec {
        name: "str_replace_editor",
        description: "Custom editing tool for viewing, creating and editing files. `view` shows a file \
            with line numbers (cat -n) or lists a directory two levels deep; `create` writes `file_text` \
            to a new file; `str_replace` replaces `old_str`, which must occur exactly once, with `new_str`; \
            `insert` inserts `new_str` after line `insert_line`; `undo_edit` reverts the last edit of `path`.",
        params: &[
            ParamSpec {
                name: "command",
                required: true,
                kind: ParamKind::String,
                allowed: EDITOR_COMMANDS,
                xml_padded: false,
            },
            p("path", true, ParamKind::String),
            ParamSpec { name: "file_text", required: false, kind: ParamKind::String, allowed: &[], xml_padded: true },
            ParamSpec { name: "old_str", required: false, kind: ParamKind::String, allowed: &[], xml_padded: true },
            ParamSpec { name: "new_str", required: false, kind: ParamKind::String, allowed: &[], xml_padded: true },
            p("insert_line", false, ParamKind::Integer),
            p("view_range", false, ParamKind::IntArray),
        ],
    },
    ToolSpec {
        name: "submit",
        description: "Submits the current changes of the repository as the solution.",
        params: &[],
    },
];

/// Looks a tool up by name.
pub fn tool(name: &str) -> Option<&'static ToolSpec> {
    TOOLS.iter().find(|t| t.name == name)
}

impl ToolSpec {
    /// Looks a parameter up by name.
    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Position of a parameter in canonical order.
    pub fn param_index(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }
}

/// Renders the tool descriptions as the text block a system prompt embeds.
pub fn describe_tools() -> String {
    let mut out = String::new();
    for (i, t) in TOOLS.iter().enumerate() {
        out.push_str(&format!("---- BEGIN FUNCTION #{}: {} ----\n", i + 1, t.name));
        out.push_str(&format!("Description: {}\n", t.description));
        if t.params.is_empty() {
            out.push_str("No parameters.\n");
        } else {
            out.push_str("Parameters:\n");
            for (j, prm) in t.params.iter().enumerate() {
                let kind = match prm.kind {
                    ParamKind::String => "string",
                    ParamKind::Integer => "integer",
                    ParamKind::IntArray => "array of integers",
                };
                let req = if prm.required { "required" } else { "optional" };
                out.push_str(&format!("  ({}) {} ({}, {})", j + 1, prm.name, kind, req));
                if !prm.allowed.is_empty() {
                    out.push_str(&format!(": one of {}", prm.allowed.join(", ")));
                }
                out.push('\n');
            }
        }
        out.push_str(&format!("---- END FUNCTION #{} ----\n\n", i + 1));
    }
    out
}
