"""Independent referees: Debian's xxhsum on the files against the MHL XML read with xml.etree, our own c4
of each generation against the chain, and ascmhl's own verify command (run in this process, offline)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio_sync.custody import copy_take, seal_take

from .mhl import c4_id, chain, file_hashes, generation_files

XXHSUM = "/usr/bin/xxhsum"
REPO = Path(__file__).resolve().parents[3]


@pytest.mark.skipif(not os.path.exists(XXHSUM), reason="Debian's xxhash (xxhsum) is not installed")
@pytest.mark.parametrize("fmt,flag", [("xxh64", "-H1"), ("xxh128", "-H2")])
def test_xxhsum_reads_the_digests_the_mhl_records(take, fmt, flag):
    (take / "bag" / "bag_1.mcap").write_bytes(os.urandom(2_500_000))
    seal_take(take, fmt)
    recorded = file_hashes(generation_files(take)[0])
    paths = sorted(recorded)
    out = subprocess.run([XXHSUM, flag, *paths], cwd=take, capture_output=True, text=True, check=True).stdout
    printed = {line.split(None, 1)[1]: line.split(None, 1)[0] for line in out.splitlines()}
    assert printed == {path: recorded[path][fmt][0] for path in paths}


def test_the_chain_holds_each_generations_c4_id(take, tmp_path):
    seal_take(take)
    seal_take(take, "xxh128")
    copy = copy_take(take, tmp_path).copy
    for folder in (take, copy):
        entries = chain(folder)
        assert [n for n, _, _ in entries] == list(range(1, len(entries) + 1))
        for _, name, c4 in entries:
            assert c4 == c4_id((folder / "ascmhl" / name).read_bytes())


def _ascmhl_verify(*args: str) -> int:
    from click.testing import CliRunner
    from ascmhl.commands import verify

    return CliRunner().invoke(verify, list(args)).exit_code


@pytest.mark.filterwarnings("ignore:GitWildMatchPattern:DeprecationWarning")  # ascmhl's use of pathspec
def test_ascmhl_verifies_sealed_takes_and_copies(take, tmp_path):
    seal_take(take)
    copy = copy_take(take, tmp_path, hash_format="xxh128").copy
    for folder in (take, copy):
        assert _ascmhl_verify(str(folder)) == 0
        assert _ascmhl_verify("--directory_hash", str(folder)) == 0
    bag = copy / "bag" / "bag_0.mcap"
    data = bytearray(bag.read_bytes())
    data[7] ^= 0x10
    bag.write_bytes(bytes(data))
    assert _ascmhl_verify(str(copy)) != 0


def test_sealing_never_reaches_the_network_nor_loads_ascmhls_update_check(take):
    # ascmhl's command line asks GitHub for a newer release on every run (ascmhl/cli/update.py);
    # the library's Python API that Onset uses must neither import that module nor open a socket.
    script = (
        "import socket, sys\n"
        "def refuse(*a, **k): raise AssertionError('network use: %r' % (a,))\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from studio_sync.custody import seal_take, verify_take, copy_take\n"
        f"seal_take({str(take)!r}); assert verify_take({str(take)!r}).ok\n"
        f"copy_take({str(take)!r}, {str(take.parent.parent)!r})\n"
        "print(sorted(m for m in sys.modules if m.startswith('ascmhl.cli')))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
