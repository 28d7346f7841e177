//! The next word after a context of ids (read from `<s>` when `bos`): its
//! score, the whole distribution, the most probable words. These read the
//! context from the start; generation carries its state instead
//! ([`super::NGramDecoder`]).

use super::model::{NGramModel, State, TokenScore};
use crate::tokenize::BOS_ID;

impl NGramModel {
    /// The score of `word` after `context`. `<s>` is never predicted: as a
    /// next word its log10 probability is -inf.
    pub fn score_next(&self, context: &[u32], bos: bool, word: u32) -> TokenScore {
        if word == BOS_ID {
            return TokenScore {
                logprob: f32::NEG_INFINITY,
                ngram_len: 0,
                oov: false,
            };
        }
        let state = self.state_after(context, bos);
        self.score_word(&state, word, &mut State::default())
    }

    /// log10 p(w | context) for every id (dense, `<s>` at -inf), as f64.
    pub fn next_logprobs(&self, context: &[u32], bos: bool) -> Vec<f64> {
        let state = self.state_after(context, bos);
        self.distribution(&state)
            .into_iter()
            .map(f64::from)
            .collect()
    }

    /// The `k` most probable next words: (id, log10 p), best first, ties by id.
    pub fn predict(&self, context: &[u32], bos: bool, k: usize) -> Vec<(u32, f32)> {
        self.top_k(&self.state_after(context, bos), k)
    }
}
