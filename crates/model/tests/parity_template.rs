//! Chat template and tokenizer parity with transformers: Qwen2.5's ChatML template rendered by
//! minijinja must equal `apply_chat_template(..., tokenize=False)` (with and without
//! `add_generation_prompt`, with tools, tool calls and tool turns), and the tiny checkpoint's
//! tokenizer, loaded by `AutoTokenizer`, must give our token ids.

mod common;

use serde_json::{json, Value};
use srl_model::init::{init_checkpoint, InitOptions};
use srl_model::{ChatTemplate, DType, Policy, Preset, Tokenizer, QWEN25_CHAT_TEMPLATE};

const TEMPLATE_SCRIPT: &str = r#"
import json, sys
from tokenizers import Tokenizer, models
from transformers import PreTrainedTokenizerFast
cases = json.load(open(sys.argv[1]))
tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.BPE()), chat_template=cases["template"])
out = []
for c in cases["cases"]:
    kw = {"tools": c["tools"]} if c["tools"] is not None else {}
    out.append(tok.apply_chat_template(c["messages"], tokenize=False, add_generation_prompt=c["gen"], **kw))
print(json.dumps(out))
"#;

const TOKENIZER_SCRIPT: &str = r#"
import json, sys
from transformers import AutoTokenizer
spec = json.load(open(sys.argv[1]))
tok = AutoTokenizer.from_pretrained(spec["dir"])
out = {
    "class": type(tok).__name__,
    "ids": [tok.encode(t, add_special_tokens=True) for t in spec["texts"]],
    "decoded": [tok.decode(tok.encode(t), skip_special_tokens=False) for t in spec["texts"]],
    "chat_ids": tok.apply_chat_template(spec["messages"], tokenize=True, add_generation_prompt=True),
    "eos": tok.eos_token_id,
    "pad": tok.pad_token_id,
}
print(json.dumps(out))
"#;

fn conversations() -> Vec<(Value, Option<Value>)> {
    let tools = json!([{"type": "function", "function": {"name": "bash", "description": "Run a \"command\" <in> the shell",
        "parameters": {"type": "object", "properties": {"command": {"type": "string", "description": "what to run"}},
        "required": ["command"]}}},
        {"type": "function", "function": {"name": "submit", "description": "Submit ✓", "parameters": {"type": "object", "properties": {}}}}]);
    vec![
        (json!([{"role": "user", "content": "Hello"}]), None),
        (
            json!([
                {"role": "system", "content": "You are a software engineering agent."},
                {"role": "user", "content": "Fix the bug in calc.py"},
                {"role": "assistant", "content": "<think>\nLook first.\n</think>\n<function=bash>\n<parameter=command>cat calc.py</parameter>\n</function>"},
                {"role": "user", "content": "OBSERVATION:\ndef add(a, b):\n    return a - b\n"}
            ]),
            None,
        ),
        (
            json!([
                {"role": "user", "content": "List files"},
                {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "bash", "arguments": {"command": "ls -la", "n": 2}}}]},
                {"role": "tool", "content": "a.txt\nb.txt"},
                {"role": "tool", "content": "second result"},
                {"role": "assistant", "content": "Done.", "tool_calls": [{"name": "submit", "arguments": {}}]},
                {"role": "user", "content": "thanks"}
            ]),
            Some(tools.clone()),
        ),
        (
            json!([
                {"role": "system", "content": "Sys {{ not jinja }}"},
                {"role": "user", "content": "Ünïcödé ✓ 数学 {% raw %} \\boxed{42}"},
                {"role": "system", "content": "late system"},
                {"role": "assistant", "content": "  spaced  \n\n"}
            ]),
            Some(tools),
        ),
    ]
}

#[test]
fn qwen25_template_renders_like_transformers_apply_chat_template() {
    let mut cases = Vec::new();
    for (messages, tools) in conversations() {
        for gen in [false, true] {
            cases.push(json!({"messages": messages, "tools": tools, "gen": gen}));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("cases.json");
    std::fs::write(&spec, json!({"template": QWEN25_CHAT_TEMPLATE, "cases": cases}).to_string()).unwrap();
    let expected: Vec<String> = serde_json::from_str(&common::run_python(TEMPLATE_SCRIPT, &[&spec])).unwrap();
    let tmpl = ChatTemplate::qwen25().unwrap();
    assert_eq!(expected.len(), cases.len());
    for (case, want) in cases.iter().zip(&expected) {
        let got = tmpl
            .render_json(
                &case["messages"],
                case["gen"].as_bool().unwrap(),
                case["tools"].as_array().map(|_| &case["tools"]),
            )
            .unwrap();
        assert_eq!(&got, want, "case {case}");
    }
}

#[test]
fn tiny_tokenizer_and_template_match_transformers_auto_tokenizer() {
    let out = tempfile::tempdir().unwrap();
    let corpus = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let opts = InitOptions {
        preset: Preset::Tiny,
        out: out.path().join("tiny"),
        seed: 3,
        dtype: DType::F32,
        corpus: vec![corpus],
    };
    init_checkpoint(&opts).unwrap();
    let texts = vec![
        "def add(a, b):\n    return a + b  # 2025-11-22".to_string(),
        "<|im_start|>user\nSolve x^2 = 16.<|im_end|>\n<think>x = 4</think>".to_string(),
        "  leading spaces, tabs\t and ünïcödé ✓ 数学\r\n".to_string(),
    ];
    let messages = json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 7 * 6?"}]);
    let spec = out.path().join("spec.json");
    std::fs::write(&spec, json!({"dir": opts.out, "texts": texts, "messages": messages}).to_string()).unwrap();
    let want: Value = serde_json::from_str(&common::run_python(TOKENIZER_SCRIPT, &[&spec])).unwrap();

    let tok = Tokenizer::load(&opts.out).unwrap();
    assert_eq!(want["class"], "Qwen2TokenizerFast");
    for (i, text) in texts.iter().enumerate() {
        let ids = tok.encode(text, true).unwrap();
        let theirs: Vec<u32> = serde_json::from_value(want["ids"][i].clone()).unwrap();
        assert_eq!(ids, theirs, "token ids of text {i}");
        assert_eq!(want["decoded"][i].as_str().unwrap(), tok.decode(&ids, false).unwrap());
    }
    let policy = Policy::load(&opts.out, srl_model::Device::Cpu, DType::F32).unwrap();
    let msgs: Vec<srl_core::Message> = serde_json::from_value(messages).unwrap();
    let theirs: Vec<u32> = serde_json::from_value(want["chat_ids"].clone()).unwrap();
    assert_eq!(policy.prompt_ids(&msgs).unwrap(), theirs);
    assert_eq!(want["eos"].as_u64().map(|x| x as u32), tok.token_to_id("<|im_end|>"));
    assert_eq!(want["pad"].as_u64().map(|x| x as u32), tok.pad_token_id());
}
