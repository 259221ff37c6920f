"""A damaged or hand-edited history is reported clearly, never trusted, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio_sync.custody import (
    ChainMismatchError,
    CorruptHistoryError,
    TamperedHistoryError,
    seal_take,
    verify_take,
)

from .mhl import file_hashes, generation_files, rechain, snapshot


@pytest.fixture
def sealed(take) -> Path:
    seal_take(take)
    return take


def _edit_digest(take: Path) -> str:
    """Change the bag's recorded digest in generation 1, as a hand edit would; the forged digest."""
    gen1 = generation_files(take)[0]
    real = file_hashes(gen1)["bag/bag_0.mcap"]["xxh64"][0]
    forged = "0123456789abcdef"
    gen1.write_text(gen1.read_text().replace(real, forged))
    return forged


def _both_refuse(take: Path, error: type, match: str) -> None:
    before = snapshot(take)
    with pytest.raises(error, match=match):
        verify_take(take)
    with pytest.raises(error, match=match):
        seal_take(take)
    assert snapshot(take) == before


def test_an_mhl_file_edited_by_hand_no_longer_matches_the_chain(sealed):
    _edit_digest(sealed)
    name = generation_files(sealed)[0].name
    _both_refuse(sealed, TamperedHistoryError, f"ascmhl/{name} \\(generation 1\\) changed after it was written")


def test_a_forged_digest_with_a_forged_chain_still_fails_against_the_bytes(sealed):
    forged = _edit_digest(sealed)
    rechain(sealed)
    report = verify_take(sealed)
    (altered,) = report.altered
    assert altered.path == "bag/bag_0.mcap" and altered.expected == forged and altered.actual != forged


def test_an_mhl_file_cut_short_is_caught_by_the_chain_then_by_the_parser(sealed):
    gen1 = generation_files(sealed)[0]
    gen1.write_bytes(gen1.read_bytes()[:300])
    _both_refuse(sealed, TamperedHistoryError, "changed after it was written")
    rechain(sealed)
    _both_refuse(sealed, CorruptHistoryError, "not well-formed XML")


@pytest.mark.parametrize("text,match", [
    ('<?xml version="1.0"?>\n<hashlist xmlns="urn:example"/>\n', "not an ASC MHL v2.0 hash list"),
    ('<?xml version="1.0"?>\n<!DOCTYPE h [<!ENTITY e "x">]>\n<hashlist xmlns="urn:ASC:MHL:v2.0"/>\n', "DOCTYPE"),
    ('<?xml version="1.0"?>\n<hashlist version="2.0" xmlns="urn:ASC:MHL:v2.0"/>\n', "lacks its creator"),
])
def test_a_generation_that_is_not_an_asc_mhl_hash_list_is_refused(sealed, text, match):
    generation_files(sealed)[0].write_text(text)
    rechain(sealed)
    _both_refuse(sealed, CorruptHistoryError, match)


def test_a_malformed_digest_is_refused(sealed):
    gen1 = generation_files(sealed)[0]
    real = file_hashes(gen1)["take.json"]["xxh64"][0]
    gen1.write_text(gen1.read_text().replace(real, "not-hex-at-all!!"))
    rechain(sealed)
    _both_refuse(sealed, CorruptHistoryError, "malformed xxh64 digest 'not-hex-at-all!!'")


def test_a_chain_digest_edited_by_hand_is_found(sealed):
    chain_file = sealed / "ascmhl" / "ascmhl_chain.xml"
    text = chain_file.read_text()
    start = text.index("<c4>") + len("<c4>")
    chain_file.write_text(text[:start] + "c4" + "1" * 88 + text[start + 90:])
    _both_refuse(sealed, TamperedHistoryError, "the chain file recorded c4 c41111")


def test_a_missing_chain_file_is_refused(sealed):
    (sealed / "ascmhl" / "ascmhl_chain.xml").unlink()
    _both_refuse(sealed, ChainMismatchError, "no chain file ascmhl_chain.xml")


def test_a_chain_that_is_not_xml_is_refused(sealed):
    (sealed / "ascmhl" / "ascmhl_chain.xml").write_text("0001 something\n")
    _both_refuse(sealed, CorruptHistoryError, "ascmhl_chain.xml is not well-formed XML")


def test_a_generation_listed_in_the_chain_but_gone_is_refused(sealed):
    seal_take(sealed)
    generation_files(sealed)[1].unlink()
    _both_refuse(sealed, ChainMismatchError, "generation 2, ascmhl/.* is listed in the chain file but missing")


def test_a_generation_file_the_chain_does_not_list_is_refused(sealed):
    gen1 = generation_files(sealed)[0]
    stray = gen1.with_name(gen1.name.replace("0001_", "0002_"))
    stray.write_bytes(gen1.read_bytes())
    _both_refuse(sealed, ChainMismatchError, f"ascmhl/{stray.name} is not listed in the chain file")


def test_a_stray_file_in_the_history_folder_is_refused(sealed):
    (sealed / "ascmhl" / "notes.txt").write_text("hello")
    _both_refuse(sealed, CorruptHistoryError, "ascmhl/notes.txt is not part of an ASC MHL history")


def test_what_an_interrupted_seal_leaves_is_named(sealed):
    (sealed / "ascmhl" / ".ascmhl_chain.xml.tmp").write_text("<half")
    _both_refuse(sealed, CorruptHistoryError, "interrupted before it finished")
