//! The token sequence of one episode and its loss mask. The prompt is the chat template over
//! the system and task turns with the assistant header; each agent turn appends the policy's
//! own token ids (mask 1, never re-tokenized) and then the template text between that turn and
//! the next assistant header: the end of the turn, the observation turn and the header (mask 0).
//! That text is what the chat template renders for the longer conversation beyond what it
//! rendered before plus the turn's text (veRL's `ct_merge_context_msg` does the same), so the
//! sequence the update sees is the one the template would render.
use crate::Result;
use srl_core::{Message, Role};
use srl_model::Policy;

/// The end-of-turn token text of ChatML templates.
pub const END_OF_TURN: &str = "<|im_end|>";

/// One episode's messages and tokens.
#[derive(Debug, Clone)]
pub struct Conversation {
    /// The chat so far (assistant turns hold the decoded policy text).
    pub messages: Vec<Message>,
    /// Template tokens of the system and task turns and the first assistant header.
    pub prompt_ids: Vec<u32>,
    /// Everything after the prompt.
    pub response_ids: Vec<u32>,
    /// One entry per `response_ids` token: true for the policy's tokens.
    pub loss_mask: Vec<bool>,
    /// Rendering of `messages` with the assistant header (what the tokens spell).
    rendered: String,
}

fn message(role: Role, content: &str) -> Message {
    Message { role, content: content.to_string() }
}

impl Conversation {
    /// Starts with `system` and the task turn.
    pub fn new(policy: &Policy, system: &str, task: &str) -> Result<Self> {
        let messages = vec![message(Role::System, system), message(Role::User, task)];
        let rendered = policy.template.render(&messages, true)?;
        let prompt_ids = policy.tokenizer.encode(&rendered, false)?;
        Ok(Self { messages, prompt_ids, response_ids: Vec::new(), loss_mask: Vec::new(), rendered })
    }

    /// Prompt and response tokens together (what the next turn is generated from).
    pub fn context(&self) -> Vec<u32> {
        let mut ids = self.prompt_ids.clone();
        ids.extend_from_slice(&self.response_ids);
        ids
    }

    /// Tokens in all.
    pub fn len(&self) -> usize {
        self.prompt_ids.len() + self.response_ids.len()
    }

    /// Whether nothing follows the prompt yet.
    pub fn is_empty(&self) -> bool {
        self.response_ids.is_empty()
    }

    /// The policy's tokens so far.
    pub fn model_tokens(&self) -> usize {
        self.loss_mask.iter().filter(|m| **m).count()
    }

    /// Appends a policy turn (`ids` as generated) and returns its text.
    pub fn push_turn(&mut self, policy: &Policy, ids: &[u32]) -> Result<String> {
        let text = policy.decode(ids)?;
        self.response_ids.extend_from_slice(ids);
        self.loss_mask.extend(std::iter::repeat_n(true, ids.len()));
        self.messages.push(message(Role::Assistant, &text));
        Ok(text)
    }

    /// Appends the observation turn after the last policy turn, up to the next assistant header
    /// (masked). `ended_with_eot`: the policy's turn already ends with the end-of-turn token.
    pub fn push_observation(&mut self, policy: &Policy, observation: &str, ended_with_eot: bool) -> Result<()> {
        let turn = self.messages.last().map(|m| m.content.clone()).unwrap_or_default();
        self.messages.push(message(Role::User, observation));
        let full = policy.template.render(&self.messages, true)?;
        let before = format!("{}{turn}", self.rendered);
        let mut delta = match full.strip_prefix(&before) {
            Some(rest) => rest.to_string(),
            None => {
                // A template that rewrites earlier turns (e.g. drops thoughts): fall back to
                // ChatML, which is what the shipped models use.
                tracing::warn!("chat template does not extend the conversation; using ChatML for the observation turn");
                format!("{END_OF_TURN}\n<|im_start|>user\n{observation}{END_OF_TURN}\n<|im_start|>assistant\n")
            }
        };
        if ended_with_eot {
            if let Some(rest) = delta.strip_prefix(END_OF_TURN) {
                delta = rest.to_string();
            }
        }
        let ids = policy.tokenizer.encode(&delta, false)?;
        self.loss_mask.extend(std::iter::repeat_n(false, ids.len()));
        self.response_ids.extend(ids);
        self.rendered = full;
        Ok(())
    }
}
