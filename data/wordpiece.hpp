#pragma once
// Greedy longest-match-first WordPiece (BERT's WordpieceTokenizer): a word is cut into the
// longest vocabulary prefix, then the longest "##" continuation, and so on; a word with no such
// cut, or longer than 100 code points, becomes [UNK] as a whole.
#include <cstdint>
#include <string_view>
#include <vector>

#include "data/vocab.hpp"

namespace electra {

constexpr std::size_t kMaxWordCodePoints = 100;

// Appends the pieces of one basic-tokenizer word to `ids`; returns false when it became [UNK].
bool wordpiece_append(const Vocab& vocab, std::string_view word, std::vector<std::int32_t>& ids);

}  // namespace electra
