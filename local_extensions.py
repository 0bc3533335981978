"""Jinja filters this template adds through cookiecutter's local-extensions mechanism.

Free-text answers (project name, description, author) end up in TOML and YAML
files. Pasting them in raw breaks those files as soon as an answer contains a
quote, a backslash or a control character, so templates write them through the
``quote`` filter instead: ``description = {{ cookiecutter.description | quote }}``.
"""

from cookiecutter.utils import simple_filter

_SHORT_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def quote(value: object) -> str:
    """Return ``value`` as a double-quoted string literal valid in both TOML and YAML.

    Both formats share the escapes used here: ``\\\\``, ``\\"``, the short control
    escapes and ``\\uXXXX``/``\\UXXXXXXXX``. Printable non-ASCII text (accented
    names, CJK, emoji) is kept as is, so files stay readable.
    """
    out = []
    for char in str(value):
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif char == " " or char.isprintable():
            out.append(char)
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(f"\\U{ord(char):08X}")
    return '"' + "".join(out) + '"'


QuoteExtension = simple_filter(quote)
