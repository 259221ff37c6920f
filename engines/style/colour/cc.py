"""ASC CDL ``.cc`` files: one ``ColorCorrection`` element, written atomically, read strictly.

**Written**::

    <?xml version="1.0" encoding="UTF-8"?>
    <ColorCorrection id="LOOK">
      <Description>Onset look LOOK: ASC CDL ... dE2000 against the full look: mean ..., p95 ...</Description>
      <InputDescription>ENCODING (what it is; full-range code values 0-1)</InputDescription>
      <ViewingDescription>Rec.709 display-referred (BT.709 OETF, Rec.709 primaries, D65)</ViewingDescription>
      <SOPNode>
        <Slope>R G B</Slope> <Offset>R G B</Offset> <Power>R G B</Power>
      </SOPNode>
      <SatNode><Saturation>S</Saturation></SatNode>
    </ColorCorrection>

with 7 decimals per number. **Read**: the root must be a ``ColorCorrection`` (with or without an
XML namespace), holding at most one ``SOPNode`` (with exactly one ``Slope``, ``Offset`` and
``Power`` of three numbers each) and at most one ``SatNode`` (or the older ``SATNode``) with one
``Saturation``, and at least one of the two; a missing node is the identity. Descriptions are kept.
Anything else, a DOCTYPE included (no entity expansion is ever done), is a
:class:`~engines.style.colour.errors.CdlFormatError` naming the file and the line.
"""

from __future__ import annotations

import math
import re
import xml.parsers.expat
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union
from xml.sax.saxutils import escape, quoteattr

from engines.style.colour._atomic import write_atomic
from engines.style.colour.bake import OUTPUT_ENCODING
from engines.style.colour.cdl import Cdl
from engines.style.colour.cube import DECIMALS
from engines.style.colour.delta_e import DeltaEStats
from engines.style.colour.encodings import encoding_info
from engines.style.colour.errors import CdlFormatError, ColourInputError

__all__ = ["CcFile", "write_cc", "read_cc"]

PathLike = Union[str, Path]
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DESCRIPTIONS = ("Description", "InputDescription", "ViewingDescription")


@dataclass(frozen=True)
class CcFile:
    """A ``.cc`` as read: its CDL, the ``id`` attribute and the description texts."""

    path: Path
    cdl: Cdl
    id: Optional[str]
    descriptions: Tuple[str, ...]
    input_description: Optional[str]
    viewing_description: Optional[str]


def _numbers(values) -> str:
    return " ".join(f"{v:.{DECIMALS}f}" for v in values)


def write_cc(path: PathLike, cdl: Cdl, *, look_name: str, encoding: str,
             delta_e: Optional[DeltaEStats] = None) -> Path:
    """Write ``cdl`` as a ``.cc`` (see the module docstring) whose Description names the look, the
    input encoding and, when given, the ΔE2000 against the full look; atomically. Returns the path."""
    info = encoding_info(encoding)
    name = str(look_name).strip()
    if not name or not name.isprintable():
        raise ColourInputError(f"a CDL needs a printable look name, got {look_name!r}")
    text = f"Onset look {name}: ASC CDL for {info.name} input, Rec.709 display-referred output"
    if delta_e is not None:
        text += (f"; dE2000 against the full look: mean {delta_e.mean:.2f}, p95 {delta_e.p95:.2f}, "
                 f"max {delta_e.max:.2f} on {delta_e.count} held-out colours")
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<ColorCorrection id={quoteattr(name)}>",
        f"  <Description>{escape(text)}</Description>",
        f"  <InputDescription>{escape(f'{info.name} ({info.description}; full-range code values 0-1)')}"
        "</InputDescription>",
        f"  <ViewingDescription>{escape(OUTPUT_ENCODING)}</ViewingDescription>",
        "  <SOPNode>",
        f"    <Slope>{_numbers(cdl.slope)}</Slope>",
        f"    <Offset>{_numbers(cdl.offset)}</Offset>",
        f"    <Power>{_numbers(cdl.power)}</Power>",
        "  </SOPNode>",
        "  <SatNode>",
        f"    <Saturation>{_numbers([cdl.saturation])}</Saturation>",
        "  </SatNode>",
        "</ColorCorrection>",
    ]
    return write_atomic(Path(path), lambda handle: handle.write("\n".join(lines) + "\n"))


@dataclass
class _Node:
    tag: str
    attributes: Dict[str, str]
    line: int
    children: List["_Node"]
    text: str = ""


def _parse_xml(path: Path, data: bytes) -> _Node:
    parser = xml.parsers.expat.ParserCreate()
    stack: List[_Node] = []
    roots: List[_Node] = []

    def start(tag: str, attributes: Dict[str, str]) -> None:
        node = _Node(tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1], attributes, parser.CurrentLineNumber, [])
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(tag: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        if stack:
            stack[-1].text += data

    def doctype(*args) -> None:
        raise CdlFormatError(path, parser.CurrentLineNumber, "a DOCTYPE is not allowed in a .cc file")

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler, parser.StartDoctypeDeclHandler = text, doctype
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as err:
        raise CdlFormatError(path, err.lineno, f"not well-formed XML: {xml.parsers.expat.ErrorString(err.code)}") \
            from None
    return roots[0]


def _only(parent: _Node, path: Path, tags: Tuple[str, ...], required: bool) -> Optional[_Node]:
    found = [c for c in parent.children if c.tag in tags]
    if len(found) > 1:
        raise CdlFormatError(path, found[1].line, f"a second {found[1].tag} in {parent.tag} (line {parent.line})")
    if not found and required:
        raise CdlFormatError(path, parent.line, f"{parent.tag} has no {tags[0]}")
    return found[0] if found else None


def _values(node: _Node, path: Path, count: int) -> Tuple[float, ...]:
    words = node.text.split()
    if len(words) != count or not all(_NUMBER.fullmatch(w) for w in words):
        raise CdlFormatError(path, node.line, f"{node.tag} needs {count} number{'s' * (count > 1)}, "
                                              f"got {node.text.strip()!r}")
    values = tuple(float(w) for w in words)
    if not all(math.isfinite(v) for v in values):
        raise CdlFormatError(path, node.line, f"{node.tag} {node.text.strip()} is not finite")
    return values


def _check_children(node: _Node, path: Path, allowed: Tuple[str, ...]) -> None:
    for child in node.children:
        if child.tag not in allowed:
            raise CdlFormatError(path, child.line, f"unexpected element {child.tag} in {node.tag} "
                                                   f"(allowed: {', '.join(allowed)})")


def read_cc(path: PathLike) -> CcFile:
    """The ASC CDL in the ``.cc`` file at ``path``, validated as the module docstring says."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CdlFormatError(path, None, f"cannot read the file: {err.strerror or err}") from err
    root = _parse_xml(path, data)
    if root.tag != "ColorCorrection":
        raise CdlFormatError(path, root.line, f"the root element is {root.tag}; a .cc holds one ColorCorrection")
    _check_children(root, path, _DESCRIPTIONS + ("SOPNode", "SatNode", "SATNode"))
    sop = _only(root, path, ("SOPNode",), False)
    sat = _only(root, path, ("SatNode", "SATNode"), False)
    if sop is None and sat is None:
        raise CdlFormatError(path, root.line, "ColorCorrection has neither a SOPNode nor a SatNode")
    values = {"Slope": (1.0,) * 3, "Offset": (0.0,) * 3, "Power": (1.0,) * 3, "Saturation": (1.0,)}
    lines = {}
    if sop is not None:
        _check_children(sop, path, ("Description", "Slope", "Offset", "Power"))
        for tag in ("Slope", "Offset", "Power"):
            node = _only(sop, path, (tag,), True)
            values[tag], lines[tag] = _values(node, path, 3), node.line
    if sat is not None:
        _check_children(sat, path, ("Description", "Saturation"))
        node = _only(sat, path, ("Saturation",), True)
        values["Saturation"], lines["Saturation"] = _values(node, path, 1), node.line
    for tag, ok, rule in (("Slope", min(values["Slope"]) >= 0.0, ">= 0"), ("Power", min(values["Power"]) > 0.0, "> 0"),
                          ("Saturation", values["Saturation"][0] >= 0.0, ">= 0")):
        if not ok:
            raise CdlFormatError(path, lines.get(tag), f"{tag} {values[tag]} must be {rule} (ASC CDL v1.2)")
    cdl = Cdl(values["Slope"], values["Offset"], values["Power"], values["Saturation"][0])

    def texts(tag: str) -> List[str]:
        return [c.text.strip() for c in root.children if c.tag == tag]

    inputs, viewing = texts("InputDescription"), texts("ViewingDescription")
    return CcFile(path, cdl, root.attributes.get("id"), tuple(texts("Description")),
                  inputs[0] if inputs else None, viewing[0] if viewing else None)
