"""Studio sync: hashing against Debian's ``xxhsum``, upload against ``rclone copy``, in one run.

1. **Hashing.** A take-shaped folder (``take.json``, ``bag/metadata.yaml`` and a bag of random
   bytes, ``--hash-mib`` MiB in all) is sealed once per format; then, ``--repeat`` times each and
   interleaved, ``onset sync verify``'s work (:func:`studio_sync.custody.verify_take`: walk, check
   the history, re-hash every file) and ``xxhsum -H1`` (xxh64) / ``-H2`` (xxh128) over the same
   files. Both read from the page cache (the files are read once before timing). Ratio: xxhsum's
   time over Onset's (target >= 0.9: Onset at least 90 % of xxhsum's speed).
2. **Upload.** A take of ``--upload-mib`` MiB (one bag file plus the small files), sealed, into an
   embedded SeaweedFS started for the run on free loopback ports: ``onset sync push``'s work
   (:func:`studio_sync.upload.push_takes`: queue, multipart upload, read-back verification against
   the MHL) against ``rclone copy`` of the same folder to another prefix of the same bucket
   (Debian's rclone, ``--s3-upload-concurrency`` and chunk size set to the same part size and
   concurrency; it checks MD5s, it does not read the objects back). ``--repeat`` runs each,
   interleaved, each to a fresh prefix. Ratio: rclone's time over Onset's (target >= 0.9).

Run: ``.venv/bin/python -m benchmarks studio [--hash-mib N] [--upload-mib N] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, List

from studio_sync.custody import seal_take, verify_take

TAKE_NAME = "bench_1_001_20261202T000000Z"


def _make_take(parent: Path, name: str, bag_bytes: int) -> Path:
    """A take-shaped folder with a bag of random bytes (written in 8 MiB blocks)."""
    folder = parent / name
    (folder / "bag").mkdir(parents=True)
    document = {"format": "onset-take", "format_version": 1, "name": name, "status": "complete",
                "slate": {"scene": "bench", "shot": "1", "take": 1}}
    (folder / "take.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    (folder / "bag" / "metadata.yaml").write_text("rosbag2_bagfile_information:\n  version: 5\n", encoding="utf-8")
    block = 8 << 20
    with open(folder / "bag" / "bag_0.mcap", "wb") as out:
        left = bag_bytes
        while left > 0:
            n = min(block, left)
            out.write(os.urandom(n))
            left -= n
    return folder


def _files(take: Path) -> List[str]:
    return sorted(str(p) for p in take.rglob("*") if p.is_file() and "ascmhl" not in p.parts)


def _xxhsum(flag: str, files: List[str]) -> None:
    done = subprocess.run(["xxhsum", flag, *files], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"xxhsum {flag} failed: {done.stderr.strip()}")


def bench_hashing(work: Path, total_mib: int, repeat: int) -> List[Dict[str, object]]:
    rows = []
    for fmt, flag in (("xxh64", "-H1"), ("xxh128", "-H2")):
        take = _make_take(work / fmt, TAKE_NAME, total_mib << 20)
        seal_take(take, fmt)
        files = _files(take)
        size = sum(os.path.getsize(f) for f in files)
        _xxhsum(flag, files)  # into the page cache
        onset_s, xxhsum_s = [], []
        for _ in range(repeat):
            began = time.perf_counter()
            report = verify_take(take)
            onset_s.append(time.perf_counter() - began)
            if not report.ok:
                raise RuntimeError(f"the benchmark take does not verify: {report.summary()}")
            began = time.perf_counter()
            _xxhsum(flag, files)
            xxhsum_s.append(time.perf_counter() - began)
        onset, base = statistics.median(onset_s), statistics.median(xxhsum_s)
        rows.append({"what": f"hash {fmt}", "bytes": size, "onset_s": onset, "baseline_s": base,
                     "baseline": f"xxhsum {flag}", "ratio": base / onset, "target": 0.9, "samples": repeat})
        shutil.rmtree(work / fmt)
    return rows


def _table(rows: List[Dict[str, object]]) -> str:
    head = f"{'what':<22} {'MiB':>7} {'Onset MB/s':>11} {'baseline':<22} {'MB/s':>8} {'ratio':>6} {'target':>6}  runs"
    lines = [head, "-" * len(head)]
    for r in rows:
        size = float(r["bytes"])  # type: ignore[arg-type]
        onset, base = float(r["onset_s"]), float(r["baseline_s"])  # type: ignore[arg-type]
        ratio = float(r["ratio"])  # type: ignore[arg-type]
        verdict = "" if r.get("target") is None else ("met" if ratio >= float(r["target"]) else "MISSED")  # type: ignore[arg-type]
        target = "-" if r.get("target") is None else f">={r['target']}"
        lines.append(f"{r['what']:<22} {size / 2**20:>7.0f} {size / onset / 1e6:>11.0f} {str(r['baseline']):<22} "
                     f"{size / base / 1e6:>8.0f} {ratio:>6.2f} {target:>6}  {r['samples']} {verdict}")
    return "\n".join(lines)


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks studio", description=__doc__.split("\n\n")[0])
    parser.add_argument("--hash-mib", type=int, default=1024, help="size of the hashed take in MiB (default 1024)")
    parser.add_argument("--upload-mib", type=int, default=512, help="size of the uploaded take in MiB (default 512)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side, interleaved (default 3)")
    parser.add_argument("--skip-upload", action="store_true", help="hashing only")
    parser.add_argument("--dir", help="work folder (default: a temporary folder, removed after)")
    args = parser.parse_args(argv)
    if shutil.which("xxhsum") is None or (not args.skip_upload and shutil.which("rclone") is None):
        print("benchmarks studio: needs Debian's xxhsum (xxhash) and rclone; `make setup` installs them")
        return 2
    work = Path(tempfile.mkdtemp(prefix="onset-bench-studio-", dir=args.dir))
    try:
        rows = bench_hashing(work, args.hash_mib, args.repeat)
        if not args.skip_upload:
            from benchmarks._studio_upload import bench_upload

            rows += bench_upload(work, args.upload_mib, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(_table(rows))
    return 0
