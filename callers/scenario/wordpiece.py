"""BERT uncased WordPiece tokenisation from a `vocab.txt`, without the `tokenizers` package.

The sentence encoder needs the exact token ids its model was trained with; this follows the steps of the
Hugging Face `BertNormalizer` (clean text, space out CJK characters, strip accents, lowercase),
`BertPreTokenizer` (split on whitespace and punctuation) and the greedy longest-match `WordPiece` model,
so a sentence gets the ids the model's own `tokenizer.json` gives it.
"""
from __future__ import annotations

import unicodedata
from pathlib import Path

UNKNOWN = "[UNK]"
CLASSIFY = "[CLS]"
SEPARATE = "[SEP]"
CONTINUATION = "##"
MAX_WORD_CHARS = 100  # longer words become [UNK], as in the reference tokenizer


class VocabularyError(ValueError):
    """A vocab.txt that cannot serve: missing special tokens or duplicate entries; the message names the file."""


def _is_control(char: str) -> bool:
    if char in "\t\n\r":
        return False
    return unicodedata.category(char).startswith("C")


def _is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True  # ASCII symbols such as $ ^ ` count as punctuation for BERT
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF
            or 0x2A700 <= code <= 0x2B73F or 0x2B740 <= code <= 0x2B81F or 0x2B820 <= code <= 0x2CEAF
            or 0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F)


def normalise(text: str) -> str:
    """Clean, CJK-spaced, accent-stripped, lowercased text, in the reference normaliser's order."""
    chars: list[str] = []
    for char in text:
        code = ord(char)
        if code == 0 or code == 0xFFFD or _is_control(char):
            continue
        if _is_whitespace(char):
            chars.append(" ")
        elif _is_cjk(code):
            chars.append(f" {char} ")
        else:
            chars.append(char)
    decomposed = unicodedata.normalize("NFD", "".join(chars))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower()


def pre_tokenise(text: str) -> list[str]:
    """Words of normalised text: split on whitespace, each punctuation character a word of its own."""
    words: list[str] = []
    for chunk in text.split():
        current = ""
        for char in chunk:
            if _is_punctuation(char):
                if current:
                    words.append(current)
                    current = ""
                words.append(char)
            else:
                current += char
        if current:
            words.append(current)
    return words


class WordPiece:
    """Text to token ids for one vocabulary (one token a line, the line number its id)."""

    def __init__(self, tokens: list[str], source: str = "vocabulary") -> None:
        self.ids: dict[str, int] = {}
        for index, token in enumerate(tokens):
            if token in self.ids:
                raise VocabularyError(f"{source}: line {index + 1}: token {token!r} appears twice")
            self.ids[token] = index
        missing = [t for t in (UNKNOWN, CLASSIFY, SEPARATE) if t not in self.ids]
        if missing:
            raise VocabularyError(f"{source}: missing special tokens {', '.join(missing)}")

    @classmethod
    def from_file(cls, path: Path) -> "WordPiece":
        return cls(path.read_text(encoding="utf-8").splitlines(), source=str(path))

    def word_pieces(self, word: str) -> list[str]:
        """Greedy longest-match pieces of one word; [UNK] for the whole word if any part has no piece."""
        if len(word) > MAX_WORD_CHARS:
            return [UNKNOWN]
        pieces: list[str] = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else CONTINUATION + word[start:end]
                if piece in self.ids:
                    break
                end -= 1
            if end == start:
                return [UNKNOWN]
            pieces.append(piece)
            start = end
        return pieces

    def tokens(self, text: str) -> list[str]:
        return [piece for word in pre_tokenise(normalise(text)) for piece in self.word_pieces(word)]

    def encode(self, text: str, max_length: int) -> list[int]:
        """[CLS] pieces [SEP] as ids, the pieces cut so the whole is at most max_length ids."""
        pieces = self.tokens(text)[:max(max_length - 2, 0)]
        return [self.ids[CLASSIFY], *(self.ids[p] for p in pieces), self.ids[SEPARATE]]
