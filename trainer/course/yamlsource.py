"""Safe YAML reading that remembers where every node is.

Plain `yaml.safe_load` loses positions, silently keeps the last of two duplicate keys and reads `on`/`off`/`yes`/`no` as
booleans (YAML 1.1). Instructors' files need none of that: we compose the node graph with a safe loader (libyaml's when
present), then walk it ourselves, so every value keeps its line and column and hostile input is stopped with one message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from trainer.course.diagnostics import CourseInvalid, Diagnostic, Pos, Severity
from trainer.course.limits import COURSE_MAX_BYTES, COURSE_MAX_DEPTH, COURSE_MAX_NODES
from trainer.text import BIDI_CONTROLS, describe, first_unsafe

MAX_BYTES = COURSE_MAX_BYTES
MAX_NODES = COURSE_MAX_NODES
MAX_DEPTH = COURSE_MAX_DEPTH

# libyaml's parser is several times faster; the pure-Python one gives the same nodes (and the same interface, which is
# what the type checker is shown).
if TYPE_CHECKING:
    _Base = yaml.SafeLoader
else:
    _Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # no CSafeLoader: a wheel built without libyaml


class _Loader(_Base):
    """Safe loader whose only booleans are true/false: ids such as `on`, `off`, `yes`, `no` stay strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

Path_ = tuple[str | int, ...]

_NOT_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE  # characters YAML refuses to read


@dataclass
class Document:
    """Plain data (dicts, lists, scalars) plus where each piece was written."""

    file: str
    data: Any
    positions: dict[Path_, Pos] = field(default_factory=dict)  # path -> position of the value
    key_positions: dict[Path_, Pos] = field(default_factory=dict)  # path -> position of the key that names it
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sha256: str = ""  # of the file's text, so a session can name exactly the course it was played on
    # path -> the text as written, for values YAML read as a number, true/false or null: an error about a text that
    # YAML read as `1.0` or `true` then says what to quote ("version: 1.10" is the number 1.1).
    raw: dict[Path_, str] = field(default_factory=dict)

    def pos(self, path: Path_) -> Pos:
        """Where `path` was written, or the nearest enclosing node that was."""
        while path not in self.positions and path:
            path = path[:-1]
        return self.positions.get(path, Pos(1, 1))

    def key_pos(self, path: Path_) -> Pos:
        return self.key_positions.get(path) or self.pos(path)


def _mark_pos(mark: Any) -> Pos:
    return Pos(mark.line + 1, mark.column + 1) if mark is not None else Pos(1, 1)


def _fail(file: str, pos: Pos, message: str) -> CourseInvalid:
    return CourseInvalid([Diagnostic(file, pos, Severity.ERROR, message)])


def _decode(file: str, raw: bytes) -> str:
    if b"\x00" in raw:
        offset = raw.index(b"\x00")
        return _raise_at(file, raw, offset, "this is a binary file, not a YAML course")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _raise_at(file, raw, exc.start, "the file is not UTF-8 text; save it as UTF-8")


def _raise_at(file: str, raw: bytes, offset: int, message: str) -> str:
    before = raw[:offset]
    line = before.count(b"\n") + 1
    line_start = before.rfind(b"\n") + 1
    # Columns count characters, as everywhere else: the UTF-8 text before the bad byte is decoded, not counted in bytes.
    col = len(raw[line_start:offset].decode("utf-8-sig" if line_start == 0 else "utf-8", errors="replace")) + 1
    raise _fail(file, Pos(line, col), message)


_constructor = SafeConstructor()
_SCALAR_TAGS: dict[str, Callable[[ScalarNode], object]] = {
    "tag:yaml.org,2002:str": lambda node: node.value,
    "tag:yaml.org,2002:int": _constructor.construct_yaml_int,
    "tag:yaml.org,2002:float": _constructor.construct_yaml_float,
    "tag:yaml.org,2002:bool": _constructor.construct_yaml_bool,
    "tag:yaml.org,2002:null": lambda node: None,
    # Dates stay as written: a course has no use for datetime objects.
    "tag:yaml.org,2002:timestamp": lambda node: node.value,
}


class _Walker:
    def __init__(self, doc: Document):
        self.doc = doc
        self.count = 0
        self.active: set[int] = set()

    def value(self, node: Node, path: Path_) -> Any:
        self.count += 1
        pos = _mark_pos(node.start_mark)
        if self.count > MAX_NODES:
            raise _fail(self.doc.file, pos, f"more than {MAX_NODES} nodes after expanding aliases (an alias bomb?)")
        if len(path) > MAX_DEPTH:
            raise _fail(self.doc.file, pos, f"nesting deeper than {MAX_DEPTH} levels")
        if id(node) in self.active:
            raise _fail(self.doc.file, pos, "an alias refers to a node that contains it (recursive YAML)")
        self.doc.positions[path] = pos
        if isinstance(node, ScalarNode):
            construct = _SCALAR_TAGS.get(node.tag)
            if construct is None:
                raise _fail(self.doc.file, pos, f"the tag {node.tag!r} is not allowed in a course")
            try:
                value = construct(node)
            except (ValueError, yaml.YAMLError) as exc:
                raise _fail(self.doc.file, pos, f"cannot read {node.value!r}: {exc}") from exc
            if isinstance(value, str):
                self.check_text(value, pos)
            elif not node.style:  # written bare: YAML decided its type
                self.doc.raw[path] = node.value
            return value
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if node.tag != "tag:yaml.org,2002:seq":
                    raise _fail(self.doc.file, pos, f"the tag {node.tag!r} is not allowed in a course")
                return [self.value(child, (*path, i)) for i, child in enumerate(node.value)]
            assert isinstance(node, MappingNode)
            if node.tag != "tag:yaml.org,2002:map":
                raise _fail(self.doc.file, pos, f"the tag {node.tag!r} is not allowed in a course")
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def check_text(self, value: str, pos: Pos) -> None:
        """A text that would act on the trainee's terminal ("\\e[2J" in a quoted string) is an error where it is written."""
        bad = first_unsafe(value, newlines=True)
        if bad is not None:
            self.doc.diagnostics.append(
                Diagnostic(
                    self.doc.file,
                    pos,
                    Severity.ERROR,
                    f"this text holds {describe(value[bad])}, a control character that would act on the trainee's "
                    "terminal; delete it (write line breaks as real line breaks)",
                )
            )

    def mapping(self, node: MappingNode, path: Path_) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_pos = _mark_pos(key_node.start_mark)
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                raise _fail(self.doc.file, key_pos, "keys must be plain names (no lists, mappings or merge keys)")
            key = str(key_node.value)
            if key in out:
                first = self.doc.key_positions[(*path, key)]
                self.doc.diagnostics.append(
                    Diagnostic(
                        self.doc.file,
                        key_pos,
                        Severity.ERROR,
                        f"duplicate key {key!r} (first written at line {first.line}); YAML would keep only one",
                    )
                )
                continue
            self.doc.key_positions[(*path, key)] = key_pos
            out[key] = self.value(value_node, (*path, key))
        return out


def _fail_at(file: str, text: str, offset: int, message: str) -> CourseInvalid:
    """The error for the character at `offset` in the file's text, at its line and column."""
    line_start = text.rfind("\n", 0, offset) + 1
    return _fail(file, Pos(text.count("\n", 0, offset) + 1, offset - line_start + 1), message)


def parse_text(text: str, file: str) -> Document:
    """Parse YAML text into a Document, or raise CourseInvalid with one file:line:col diagnostic."""
    bad = _NOT_PRINTABLE.search(text)
    if bad:  # found here, the reader's error would give no line and column (and libyaml chokes on surrogates)
        raise _fail_at(
            file,
            text,
            bad.start(),
            f"the character U+{ord(bad.group()):04X} (a control or invalid character) is not allowed in YAML; delete it",
        )
    # Anywhere, comments included: the file would read differently from what it says ("Trojan Source"). One find per
    # character (a regex of them cost more to compile, at every start, than these take to run).
    bidi = min((at for at in map(text.find, BIDI_CONTROLS) if at >= 0), default=None)
    if bidi is not None:
        raise _fail_at(
            file, text, bidi, f"the character {describe(text[bidi])} changes the order text is shown in; delete it"
        )
    doc = Document(file=file, data=None, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise _fail(file, _mark_pos(mark), f"YAML syntax: {problem}{_advice(text, mark, problem)}") from None
    except yaml.YAMLError as exc:
        raise _fail(file, Pos(1, 1), f"YAML syntax: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise _fail(file, Pos(1, 1), "the YAML is nested too deeply to read") from None
    finally:
        loader.dispose()
    if node is None:
        raise _fail(file, Pos(1, 1), "the file is empty; a course is a mapping with id, version, states, ...")
    try:
        doc.data = _Walker(doc).value(node, ())
    except RecursionError:
        raise _fail(file, _mark_pos(node.start_mark), "the YAML is nested too deeply to read") from None
    return doc


def _advice(text: str, mark: Any, problem: str) -> str:
    """What an author usually did to get PyYAML's `problem` at `mark`, and how to fix it (PyYAML's own words name
    the parser's state, not the author's mistake)."""
    line = text.splitlines()[mark.line] if mark is not None and mark.line < len(text.splitlines()) else ""
    indent = line[: len(line) - len(line.lstrip())]
    if "\t" in indent or ("cannot start any token" in problem and line[mark.column : mark.column + 1] == "\t"):
        return "; a tab is not allowed for indentation in YAML: indent with spaces"
    if "mapping values are not allowed" in problem:
        return "; a text holding ': ' must be quoted, e.g. en: \"Step 1: lock out\" (or use the full-width ：)"
    if "expected ',' or '}'" in problem or "expected ',' or ']'" in problem:
        return (
            "; in {...} or [...] a text holding ':', ',', '{', '}', '[' or ']' must be quoted, "
            'e.g. {en: "Step 1: lock out"}'
        )
    return ""


def read_document(path: Path) -> Document:
    """Read a course file from disk safely: size, encoding and YAML checked, positions kept."""
    file = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise _fail(
                file, Pos(1, 1), f"the file is {size / 1e6:.1f} MB; a course may be at most {MAX_BYTES // 2**20} MB"
            )
        raw = path.read_bytes()
    except IsADirectoryError:
        raise _fail(file, Pos(1, 1), "this is a folder, not a course file") from None
    except OSError as exc:
        raise _fail(file, Pos(1, 1), f"cannot read the file: {exc.strerror or exc}") from None
    return parse_text(_decode(file, raw), file)
