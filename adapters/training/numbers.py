"""Numbers written out in words, so the generator teaches "ninety bpm" as well as "90 bpm"."""

from __future__ import annotations

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    """0..999 in English words ("a hundred and twenty" style for the hundreds)."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else "-" + _ONES[n % 10])
    rest = n % 100
    head = "a hundred" if n // 100 == 1 else f"{_ONES[n // 100]} hundred"
    return head if rest == 0 else f"{head} and {number_words(rest)}"
