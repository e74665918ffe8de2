"""Scripts written without spaces between words, which every stage that counts words treats alike.

One Han, Hiragana or Katakana character is one unit (of length limits, near-duplicate shingles, sentence
ends and ROUGE tokens). Thai, Lao, Khmer and Burmese are not covered: they have no spaces either, but their
characters are not words (README "Known limits").
"""

UNSPACED_CHAR = r"[\p{Han}\p{Hiragana}\p{Katakana}]"  # a `regex` character class
