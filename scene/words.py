"""Text a user reads that is made before it is shown, perhaps in another session or a callback: `Words`.

A message shown where it is made is translated there (`locales._`). Some are made elsewhere: a model's
"where the weights came from", or why it cannot be loaded, is kept in a cache that every session shares; why an
upload was refused is made in a widget's callback, before the page's language is known. Those are `Words`: the
English text (a `str`, for the log, the tests and a report) that keeps its message and values, and is translated
into the page's language where it is shown, by `shown`.
"""

from __future__ import annotations

from collections.abc import Iterable

from locales import _, ngettext


class Words(str):
    """An English message (marked with `N_` where written) with its {placeholders} filled by `values`, as a `str`;
    `translated()` is the same in the page's language. A value that is `Words` is translated too; any other value
    (a file's name, a model's, a number formatted by the code) is put in as it is."""

    _message: str
    _plural: str | None
    _count: int
    _values: dict[str, object]
    _parts: tuple[str, ...] | None  # Words.joined: the parts, translated one by one and joined by _message

    def __new__(cls, message: str, /, **values: object) -> Words:
        return cls._made(message, None, 1, values, None)

    @classmethod
    def ngettext(cls, singular: str, plural: str, count: int, /, **values: object) -> Words:
        """The singular or plural message for `count`, as `locales.ngettext` chooses it where shown."""
        return cls._made(singular, plural, count, values, None)

    @classmethod
    def joined(cls, separator: str, parts: Iterable[str]) -> Words:
        """Whole sentences or list items (`Words`, each translated), joined by `separator` (punctuation, never
        translated)."""
        return cls._made(separator, None, 1, {}, tuple(parts))

    @classmethod
    def _made(
        cls, message: str, plural: str | None, count: int, values: dict[str, object], parts: tuple[str, ...] | None
    ) -> Words:
        if parts is not None:
            english = message.join(parts)
        else:
            english = (message if plural is None or count == 1 else plural).format(**values)
        words = super().__new__(cls, english)
        words._message, words._plural, words._count, words._values, words._parts = message, plural, count, values, parts
        return words

    def translated(self) -> str:
        """The text in the current page's language."""
        if self._parts is not None:
            return self._message.join(_translated(part) for part in self._parts)
        values = {key: _translated(value) for key, value in self._values.items()}
        message = _(self._message) if self._plural is None else ngettext(self._message, self._plural, self._count)
        return message.format(**values)

    def __reduce__(self) -> tuple:  # copies and pickles keep the message, not only the English
        return _remade, (self._message, self._plural, self._count, self._values, self._parts)


def _remade(*made: object) -> Words:
    return Words._made(*made)


def _translated(value: object) -> object:
    """A value of a placeholder where shown: `Words` translated; anything else (a file's or a model's name, a
    number already formatted) as it is."""
    return value.translated() if isinstance(value, Words) else value


def shown(text: str) -> str:
    """`text` in the current page's language: `Words` translated, any other text looked up as a message (text
    marked with `N_`, or already translated: that is returned as it is)."""
    return text.translated() if isinstance(text, Words) else _(text)


def said(error: BaseException) -> str:
    """What `error` was raised saying: its `Words`, kept for translation where shown."""
    return error.args[0] if error.args and isinstance(error.args[0], str) else str(error)
