"""Numbers and currency in transcripts, read out as the RNN-T reference reads them (spec benchmarks.md §7.a).

The reference expands numbers with ``inflect`` 4.1.0 (its pinned version) in this order of rules,
each applied to the whole text:

1. commas inside digit runs are removed (``1,200`` → ``1200``);
2. ``£N`` → ``N pounds`` (never fires after transliteration, which turns ``£`` into ``PS``);
3. ``$D.C`` → ``D dollars, C cents`` (singular for 1; ``zero dollars`` for ``$0``); more than one
   dot leaves ``D.C.E dollars``; a part that is not a plain integer (``$1,.50``) is an error;
4. decimals: ``3.14`` → ``3 point 14``;
5. ordinals: ``21st`` → ``twenty-first`` (inflect's default wording, with ``and`` after hundreds);
6. every other digit run:

   * with a leading zero, digit by digit (``007`` → ``zero zero seven``);
   * 1001-2999: ``two thousand`` (2000), ``two thousand N`` (2001-2009), ``N hundred`` (round
     hundreds), otherwise two-digit pairs with ``oh`` (``1905`` → ``nineteen oh five``);
   * above 1 000 000 000 and not a multiple of 10 000, digit by digit (phone numbers:
     ``4155550199`` → ``four one five five five five zero one nine nine``);
   * otherwise the cardinal, without ``and`` (``1234`` → ``one thousand, two hundred thirty-four``).

inflect has scale words up to decillion: a cardinal or ordinal of 10**36 or more is an error, as it
is in the reference (which then drops the utterance). Errors are :class:`TranscriptError`.

Written from those rules; the wording of each case is inflect's.
"""

from __future__ import annotations

import re

from ...errors import EdgeperfError

__all__ = ["TranscriptError", "normalize_numbers", "cardinal_words", "ordinal_words", "digit_words"]


class TranscriptError(EdgeperfError, ValueError):
    """A transcript the reference's normalisation cannot handle (the reference drops it)."""


_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
#: inflect's scale words: groups of three digits beyond the last one are out of range.
_SCALES = (
    "",
    "thousand",
    "million",
    "billion",
    "trillion",
    "quadrillion",
    "quintillion",
    "sextillion",
    "septillion",
    "octillion",
    "nonillion",
    "decillion",
)
_LIMIT = 1000 ** len(_SCALES)
_ORDINAL_ENDINGS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def _below_hundred(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens, units = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[units]}" if units else "")


def cardinal_words(n: int, andword: str = "") -> str:
    """inflect's cardinal for ``0 <= n < 10**36``: groups of three joined by ``", "``; ``andword``
    (if any) after each non-final ``hundred`` and before a final group below 100.

    ``cardinal_words(1234)`` → ``one thousand, two hundred thirty-four``. Raises
    :class:`TranscriptError` from 10**36 on (inflect has no scale word for it).
    """
    if n < 0:
        raise ValueError(f"negative number {n}")
    if n >= _LIMIT:
        raise TranscriptError(f"{n} is beyond the largest scale word (decillion)")
    if n == 0:
        return "zero"
    groups: list[tuple[int, int, str]] = []
    scale = 0
    while n:
        n, chunk = divmod(n, 1000)
        if chunk:
            hundreds, rest = divmod(chunk, 100)
            words = []
            if hundreds:
                words.append(f"{_ONES[hundreds]} hundred")
                if rest and andword:
                    words.append(andword)
            if rest:
                words.append(_below_hundred(rest))
            groups.append((scale, chunk, " ".join(words) + (f" {_SCALES[scale]}" if scale else "")))
        scale += 1
    groups.reverse()
    parts = [text for _, _, text in groups]
    last_scale, last_chunk, _ = groups[-1]
    if andword and len(groups) > 1 and last_scale == 0 and last_chunk < 100:
        return ", ".join(parts[:-1]) + f" {andword} " + parts[-1]
    return ", ".join(parts)


def ordinal_words(n: int) -> str:
    """inflect's ordinal (default wording, ``and`` included): ``101`` → ``one hundred and first``."""
    words = cardinal_words(n, andword="and")
    head, sep, last = words.rpartition(" ")
    stem, hyphen, unit = last.rpartition("-")
    word = unit if hyphen else last
    if word in _ORDINAL_ENDINGS:
        word = _ORDINAL_ENDINGS[word]
    elif word.endswith("y"):
        word = word[:-1] + "ieth"
    else:
        word += "th"
    return head + sep + (stem + hyphen if hyphen else "") + word


def digit_words(digits: str) -> str:
    """Digit by digit: ``"4155"`` → ``four, one, five, five`` (inflect ``group=1``)."""
    return ", ".join(_ONES[int(d)] for d in digits)


def _digit_pairs(digits: str) -> str:
    """Pairs of digits, ``0x`` read ``oh x`` (inflect ``group=2, zero='oh'``): 1905 → nineteen oh five."""
    words = []
    for i in range(0, len(digits) - 1, 2):
        tens, units = int(digits[i]), int(digits[i + 1])
        if tens:
            words.append(_below_hundred(10 * tens + units))
        elif units:
            words.append(f"oh {_ONES[units]}")
        else:
            words.append("oh oh")
    if len(digits) % 2:
        words.append(_ONES[int(digits[-1])])
    return " ".join(words)


def _expand_number(m: re.Match) -> str:
    digits = m.group(0)
    if digits[0] == "0":
        return digit_words(digits)
    num = int(digits)
    if 1000 < num < 3000:
        if num == 2000:
            return "two thousand"
        if 2000 < num < 2010:
            return "two thousand " + cardinal_words(num % 100, andword="and")
        if num % 100 == 0:
            return cardinal_words(num // 100, andword="and") + " hundred"
        return _digit_pairs(digits)
    if num > 1_000_000_000 and num % 10_000 != 0:
        return digit_words(digits)
    return cardinal_words(num)


def _integer_part(text: str, whole: str) -> int:
    """``int(text)`` as the reference calls it on a dollar amount's part: digits only, or an error."""
    if not text:
        return 0
    if not text.isdigit():
        raise TranscriptError(f"cannot read the amount ${whole} ({text!r} is not a whole number)")
    return int(text)


def _expand_dollars(m: re.Match) -> str:
    match = m.group(1)
    parts = match.split(".")
    if len(parts) > 2:
        return match + " dollars"  # left for the other rules, as the reference does
    dollars = _integer_part(parts[0], match)
    cents = _integer_part(parts[1], match) if len(parts) > 1 else 0
    dollar_unit = "dollar" if dollars == 1 else "dollars"
    cent_unit = "cent" if cents == 1 else "cents"
    if dollars and cents:
        return f"{dollars} {dollar_unit}, {cents} {cent_unit}"
    if dollars:
        return f"{dollars} {dollar_unit}"
    if cents:
        return f"{cents} {cent_unit}"
    return "zero dollars"


def _expand_ordinal(m: re.Match) -> str:
    return ordinal_words(int(m.group(1)))


_RULES = [
    (re.compile(r"([0-9][0-9,]+[0-9])"), lambda m: m.group(1).replace(",", "")),
    (re.compile(r"£([0-9,]*[0-9]+)"), r"\1 pounds"),
    (re.compile(r"\$([0-9.,]*[0-9]+)"), _expand_dollars),
    (re.compile(r"([0-9]+\.[0-9]+)"), lambda m: m.group(1).replace(".", " point ")),
    (re.compile(r"([0-9]+)(?:st|nd|rd|th)"), _expand_ordinal),
    (re.compile(r"[0-9]+"), _expand_number),
]
# The reference's last rule (times, "8:30") can never match: no digit survives the rules above.


def normalize_numbers(text: str) -> str:
    """Apply the reference's number rules (module docstring) to lower-case ASCII ``text``.

    Raises :class:`TranscriptError` where the reference's normalisation fails.
    """
    for pattern, repl in _RULES:
        text = pattern.sub(repl, text)
    return text
