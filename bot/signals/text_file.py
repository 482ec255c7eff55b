"""Reading a data file as UTF-8 text, refusing binary and other encodings by file and line.

Each data file's own parser wraps `UnreadableText` in its error class (FredParseError,
AnnouncementFileError, CalendarFileError, CandleFileError), so the user reads one line naming
the file and what to do instead of a UnicodeDecodeError traceback.
"""

from __future__ import annotations

from pathlib import Path

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class UnreadableText(ValueError):
    """A file that is not UTF-8 text. `line` is the 1-based line of the first bad byte."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        super().__init__(f"{path} line {line}: {problem}")


def read_utf8(path: Path) -> str:
    """The file's text. Raises OSError when it cannot be read and `UnreadableText` when it is
    binary (a NUL byte), UTF-16 or otherwise not UTF-8."""
    data = path.read_bytes()
    if data.startswith(_UTF16_BOMS):
        raise UnreadableText(path, 1, "UTF-16 text; save the file as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise UnreadableText(path, _line_of(data, nul), "a binary file (NUL byte), not CSV text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        raise UnreadableText(path, _line_of(data, exc.start), problem) from None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1
