"""Reading ASC MHL files independently of the code under test: xml.etree and a c4 id of our own.

The c4 id (SMPTE ST 2114) is the SHA-512 of the bytes written in base 58 with C4's alphabet,
left-padded with '1' (C4's zero) to 88 digits after the ``c4`` prefix.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Tuple

MHL_NS = "{urn:ASC:MHL:v2.0}"
CHAIN_NS = "{urn:ASC:MHL:DIRECTORY:v2.0}"
_C4_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def c4_id(data: bytes) -> str:
    value = int.from_bytes(hashlib.sha512(data).digest(), "big")
    digits = ""
    while value:
        value, rest = divmod(value, 58)
        digits = _C4_ALPHABET[rest] + digits
    return "c4" + digits.rjust(88, "1")


def generation_files(take: Path) -> List[Path]:
    return sorted((take / "ascmhl").glob("*.mhl"))


def file_hashes(mhl_path: Path) -> Dict[str, Dict[str, Tuple[str, str]]]:
    """``{path: {format: (digest, action)}}`` of the file entries (not folders) of one generation."""
    root = ET.parse(mhl_path).getroot()
    assert root.tag == MHL_NS + "hashlist"
    out: Dict[str, Dict[str, Tuple[str, str]]] = {}
    for entry in root.iter(MHL_NS + "hash"):
        path = entry.find(MHL_NS + "path").text
        out[path] = {child.tag[len(MHL_NS):]: (child.text, child.get("action"))
                     for child in entry if child.tag != MHL_NS + "path"}
    return out


def process(mhl_path: Path) -> str:
    return ET.parse(mhl_path).getroot().find(f"{MHL_NS}processinfo/{MHL_NS}process").text


def author(mhl_path: Path) -> str:
    """The generation's author: the element's text (ascmhl 1.2) or its <name> (ascmhl 1.0, Python 3.10)."""
    element = ET.parse(mhl_path).getroot().find(f"{MHL_NS}creatorinfo/{MHL_NS}author")
    name = element.find(MHL_NS + "name")
    return (name if name is not None else element).text


def chain(take: Path) -> List[Tuple[int, str, str]]:
    """``(sequence number, file name, c4)`` of each generation the chain file lists."""
    root = ET.parse(take / "ascmhl" / "ascmhl_chain.xml").getroot()
    return [(int(h.get("sequencenr")), h.find(CHAIN_NS + "path").text, h.find(CHAIN_NS + "c4").text)
            for h in root.iter(CHAIN_NS + "hashlist")]


def rechain(take: Path) -> None:
    """Rewrite the chain file's c4 ids to match the generation files as they are now (a forger's step)."""
    path = take / "ascmhl" / "ascmhl_chain.xml"
    text = path.read_text()
    for _, name, c4 in chain(take):
        text = text.replace(c4, c4_id((take / "ascmhl" / name).read_bytes()))
    path.write_text(text)


def snapshot(folder: Path) -> Dict[str, bytes]:
    """Every file under ``folder`` (links as their target text): what 'nothing was written' compares."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            out[str(path.relative_to(folder))] = b"-> " + str(path.readlink()).encode()
        elif path.is_file():
            out[str(path.relative_to(folder))] = path.read_bytes()
        elif path.is_dir():
            out[str(path.relative_to(folder)) + "/"] = b""
    return out
