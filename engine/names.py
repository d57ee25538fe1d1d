"""Names that cannot be imitated: NFKC-normalised, without invisible or direction characters, and
compared by their confusable skeleton (after UTS #39) so that a lookalike of a party's name is caught.

No maintained confusables library was installable here, so a small table covers the Cyrillic and
Greek letters that look like Latin ones; NFKC already folds fullwidth and other compatibility forms.
"""
import re
import unicodedata

#: zero-width space/non-joiner/joiner, word joiner, byte order mark, soft hyphen, bidi marks, overrides
#: and isolates: they make a name look like another while being stored otherwise
INVISIBLE = re.compile('[\u200b-\u200d\u2060\ufeff\u00ad\u200e\u200f\u202a-\u202e\u2066-\u2069]')
#: characters that draw nothing though they are no format character (Unicode's Default_Ignorable_Code_Point
#: outside category Cf, and the blanks that fill a Hangul or Braille cell)
_BLANKS = frozenset('\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u2800\u3164\uffa0'
                    + ''.join(chr(c) for c in range(0xfe00, 0xfe10)))
LINE_BREAKS = re.compile('[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]')

_LOOKALIKES = {
    # Cyrillic
    'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c',
    'т': 't', 'у': 'y', 'х': 'x', 'ѕ': 's', 'і': 'i', 'ї': 'i', 'ј': 'j', 'һ': 'h', 'ԁ': 'd', 'ԛ': 'q',
    'ԝ': 'w', 'ɡ': 'g', 'ո': 'n', 'г': 'r', 'п': 'n', 'ь': 'b', 'ӏ': 'l',
    # Greek
    'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't',
    'υ': 'u', 'χ': 'x', 'γ': 'y', 'ω': 'w', 'μ': 'u', 'ϲ': 'c', 'ϳ': 'j',
    # Latin lookalikes of other Latin letters and digits
    '0': 'o', '1': 'l', 'ı': 'i', 'ł': 'l', 'ƚ': 'l', 'ǀ': 'l', '|': 'l',
    # small capitals
    'ᴀ': 'a', 'ʙ': 'b', 'ᴄ': 'c', 'ᴅ': 'd', 'ᴇ': 'e', 'ɢ': 'g', 'ʜ': 'h', 'ɪ': 'i', 'ᴊ': 'j', 'ᴋ': 'k',
    'ʟ': 'l', 'ᴍ': 'm', 'ɴ': 'n', 'ᴏ': 'o', 'ᴘ': 'p', 'ʀ': 'r', 'ꜱ': 's', 'ᴛ': 't', 'ᴜ': 'u', 'ᴠ': 'v',
    'ᴡ': 'w', 'ʏ': 'y', 'ᴢ': 'z',
}
_TABLE = str.maketrans(_LOOKALIKES)
#: before case is folded: a capital I looks like a small l in most typefaces ("PIatform31")
_CAPITALS = str.maketrans({'I': 'l', 'Ι': 'l', 'І': 'l', 'Ӏ': 'l'})


def problem(value):
    """The code for what makes ``value`` unfit as a name, or None."""
    if LINE_BREAKS.search(value):
        return 'field.line_break'
    if INVISIBLE.search(value) or any(_invisible(c) for c in value):
        return 'name.invisible_characters'
    return None


def _invisible(char):
    """Format characters (Cf: zero-width, direction, tags...), control, private-use, unassigned and
    surrogate code points, and the blanks that draw nothing."""
    return char in _BLANKS or (unicodedata.category(char) in ('Cf', 'Cc', 'Co', 'Cn', 'Cs') and char not in '\t')


def normalised(value):
    """``value`` in NFKC with a non-breaking space as a plain one, trimmed."""
    return unicodedata.normalize('NFKC', value.replace('\u00a0', ' ')).strip()


def skeleton(value):
    """What ``value`` looks like: casefolded, lookalike letters mapped to Latin, marks and spaces folded."""
    text = ''.join(c for c in value.replace('\u00a0', ' ') if not (INVISIBLE.match(c) or _invisible(c)))
    text = unicodedata.normalize('NFKC', text).translate(_CAPITALS).casefold()
    text = text.translate(_TABLE)
    text = ''.join(c for c in unicodedata.normalize('NFD', text) if not unicodedata.combining(c))
    return ' '.join(text.translate(_TABLE).replace('rn', 'm').split())


def looks_like(one, other):
    return skeleton(one) == skeleton(other)
