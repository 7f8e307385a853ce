"""Strict parser for Telegram's HTML parse mode.

A port of tdlib's ``parse_html`` (td/telegram/MessageEntity.cpp), which is what
the Bot API runs for ``parse_mode=HTML``: the same tags, the same leniencies
(a bare ``>`` or an unknown ``&name;`` stays literal, ``</>`` closes any tag)
and the same error messages, with byte offsets into the UTF-8 source.
Entity offsets and lengths are in UTF-16 code units, like the Bot API's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

_SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "tg-time", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip

# Tags that simply map to one entity type.
_SIMPLE_ENTITIES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

# tdlib's is_space(); NUL doubles as C's end-of-string marker, see _at().
_SPACES = frozenset(" \t\r\n\v\f\0")

_URL_SCHEMES = frozenset({"http", "https", "tg", "ton", "tonsite", "mailto"})


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; str(error) is tdlib's message."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (what Telegram counts)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _OpenTag:
    name: str
    order: int
    argument: str  # href / language / emoji id / unix time, depending on the tag
    expandable: bool  # <blockquote expandable>
    time_format: str  # <tg-time format="...">
    utf16_start: int
    text_start: int  # index into the output text, for <a> without href


class _Parser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.out: list[str] = []
        self.chars = 0  # len("".join(self.out))
        self.utf16 = 0
        # (opening order, entity): nested entities over the same text sort outer first
        self.entities: list[tuple[int, dict[str, Any]]] = []
        self.stack: list[_OpenTag] = []
        self.opened = 0

    def _at(self, i: int) -> str:
        """Character at ``i``, or NUL past the end (tdlib reads a C string)."""
        return self.src[i] if i < len(self.src) else "\0"

    def _byte(self, i: int) -> int:
        return len(self.src[:i].encode("utf-8"))

    def _emit(self, chunk: str) -> None:
        self.out.append(chunk)
        self.chars += len(chunk)
        self.utf16 += utf16_len(chunk)

    def _decode_entity(self, i: int) -> tuple[str, int] | None:
        """Decode an HTML entity starting at ``src[i] == '&'``: (char, next index)."""
        end = i + 1
        if self._at(end) == "#":
            end += 1
            hexadecimal = self._at(end) == "x"
            if hexadecimal:
                end += 1
            digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
            code = 0
            while self._at(end) in digits:
                code = code * (16 if hexadecimal else 10) + int(self._at(end), 16)
                end += 1
                if code >= 0x10FFFF:
                    return None
            if code == 0:
                return None
            if 0xD800 <= code <= 0xDFFF:
                raise HtmlParseError(
                    "Text contains invalid Unicode characters after decoding HTML entities, "
                    "check for unmatched surrogate code units"
                )
            char = chr(code)
        else:
            while self._at(end).isascii() and self._at(end).isalpha():
                end += 1
            named = _NAMED_ENTITIES.get(self.src[i + 1 : end])
            if named is None:
                return None
            char = named
        if self._at(end) == ";":
            end += 1
        return char, end

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        i = 0
        while i < len(self.src):
            c = self.src[i]
            if c == "&":
                decoded = self._decode_entity(i)
                if decoded is not None:
                    self._emit(decoded[0])
                    i = decoded[1]
                    continue
            if c != "<":
                self._emit(c)
                i += 1
                continue
            i = self._end_tag(i) if self._at(i + 1) == "/" else self._start_tag(i)
        if self.stack:
            raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"')
        self.entities.sort(key=lambda item: (item[1]["offset"], -item[1]["length"], item[0]))
        return "".join(self.out), [entity for _, entity in self.entities]

    def _start_tag(self, begin: int) -> int:
        at, byte = self._at, self._byte(begin)
        i = begin + 1
        while at(i) not in _SPACES and at(i) != ">":
            i += 1
        if i >= len(self.src):
            raise HtmlParseError(f"Unclosed start tag at byte offset {byte}")
        tag = self.src[begin + 1 : i].lower()
        if tag not in _SUPPORTED_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {byte}')

        argument, time_format, expandable = "", "", False
        while at(i) != ">":
            while i < len(self.src) and at(i) in _SPACES:
                i += 1
            if at(i) == ">":
                break
            if i >= len(self.src):
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte}")
            name_start = i
            while at(i) not in _SPACES and at(i) not in "=>":
                i += 1
            attribute = self.src[name_start:i]
            if not attribute:
                raise HtmlParseError(f'Empty attribute name in the tag "{tag}" at byte offset {byte}')
            while i < len(self.src) and at(i) in _SPACES:
                i += 1
            if at(i) != "=":
                if tag == "blockquote" and attribute == "expandable":
                    expandable = True
                    continue
                raise HtmlParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {byte}'
                )
            i += 1
            while i < len(self.src) and at(i) in _SPACES:
                i += 1
            if i >= len(self.src):
                raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {byte}')
            value, i = self._attribute_value(i)
            if i >= len(self.src):
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte}")

            if tag == "a" and attribute == "href":
                argument = value
            elif tag == "code" and attribute == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif tag == "span" and attribute == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif (tag == "tg-emoji" and attribute == "emoji-id") or (
                tag == "tg-time" and attribute == "unix"
            ):
                argument = value
            elif tag == "tg-time" and attribute == "format":
                time_format = value

        if tag == "span" and argument != "spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {byte}')
        self.stack.append(
            _OpenTag(tag, self.opened, argument, expandable, time_format, self.utf16, self.chars)
        )
        self.opened += 1
        return i + 1

    def _attribute_value(self, i: int) -> tuple[str, int]:
        at = self._at
        if at(i) not in "'\"":
            # An unquoted name token: letters, digits, periods and hyphens.
            start = i
            while (at(i).isascii() and at(i).isalnum()) or at(i) in ".-":
                i += 1
            if at(i) not in _SPACES and at(i) != ">":
                raise HtmlParseError(f"Unexpected end of name token at byte offset {self._byte(start)}")
            return self.src[start:i].lower(), i
        quote = at(i)
        i += 1
        value: list[str] = []
        while i < len(self.src) and at(i) != quote:
            if at(i) == "&":
                decoded = self._decode_entity(i)
                if decoded is not None:
                    value.append(decoded[0])
                    i = decoded[1]
                    continue
            value.append(at(i))
            i += 1
        if at(i) == quote:
            i += 1
        return "".join(value), i

    def _end_tag(self, begin: int) -> int:
        at, byte = self._at, self._byte(begin)
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {byte}")
        i = begin + 2
        while at(i) not in _SPACES and at(i) != ">":
            i += 1
        end_name = self.src[begin + 2 : i]
        while i < len(self.src) and at(i) in _SPACES:
            i += 1
        if at(i) != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {byte}")
        tag = self.stack[-1]
        if end_name and end_name != tag.name:
            raise HtmlParseError(
                f'Unmatched end tag at byte offset {byte}, expected "</{tag.name}>", found "</{end_name}>"'
            )
        self.stack.pop()
        if self.utf16 > tag.utf16_start:
            self._close_entity(tag)
        return i + 1

    def _close_entity(self, tag: _OpenTag) -> None:
        offset, length = tag.utf16_start, self.utf16 - tag.utf16_start
        entity: dict[str, Any] = {"offset": offset, "length": length}
        last = self.entities[-1][1] if self.entities else None
        same_span = last is not None and (last["offset"], last["length"]) == (offset, length)
        if tag.name in _SIMPLE_ENTITIES:
            entity["type"] = _SIMPLE_ENTITIES[tag.name]
        elif tag.name == "blockquote":
            entity["type"] = "expandable_blockquote" if tag.expandable else "blockquote"
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or int(tag.argument) == 0:
                raise HtmlParseError("Invalid custom emoji identifier specified")
            entity.update(type="custom_emoji", custom_emoji_id=tag.argument)
        elif tag.name == "tg-time":
            if not tag.argument.isdigit():
                raise HtmlParseError("Invalid Unix time specified")
            entity.update(type="date_time", unix_time=int(tag.argument))
            if tag.time_format:
                entity["date_time_format"] = tag.time_format
        elif tag.name == "a":
            # <a> without href links its own text, if that text is a URL.
            url = normalize_url(tag.argument or "".join(self.out)[tag.text_start :])
            if url is None:
                return  # Telegram silently drops links it can't parse
            entity.update(type="text_link", url=url)
        elif tag.name == "pre":
            # <pre><code class="language-x">...</code></pre> is one "pre" entity with a language.
            if same_span and last is not None and last["type"] == "code" and last.get("language"):
                last["type"] = "pre"
                return
            entity["type"] = "pre"
        else:  # code
            if same_span and last is not None and last["type"] == "pre" and tag.argument:
                last["language"] = tag.argument
                return
            entity["type"] = "code"
            if tag.argument:  # kept only until an enclosing <pre> claims it
                entity["language"] = tag.argument
        self.entities.append((tag.order, entity))


def normalize_url(url: str) -> str | None:
    """A link target as Telegram would store it, or None if it is not a valid URL."""
    url = url.strip()
    if not url or any(c in url for c in " \t\r\n"):
        return None
    parts = urlsplit(url if "://" in url or url.startswith(("tg:", "mailto:")) else "http://" + url)
    if parts.scheme.lower() not in _URL_SCHEMES:
        return None
    if parts.scheme.lower() in ("http", "https") and "." not in (parts.hostname or ""):
        return None
    return parts.geturl()


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into (plain text, Bot API MessageEntity dicts).

    Raises HtmlParseError with tdlib's wording on anything Telegram would reject.
    """
    text, entities = _Parser(source).parse()
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)  # a language on a standalone <code> is ignored
    return text, entities
