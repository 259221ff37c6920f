"""The upload half of ``python -m benchmarks studio``: ``onset sync push`` against ``rclone copy``.

Both send the same take folder to the same embedded SeaweedFS (started for the run on free
loopback ports), each run to a prefix of its own, interleaved; rclone gets the same part size and
concurrency. Onset's time covers queueing, the multipart upload and reading every object back to
hash it against the MHL.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Dict, List

from studio_sync.custody import seal_take
from studio_sync.storage import resolve_credentials
from studio_sync.upload import push
from tests.harness.studio import running_studio

__all__ = ["bench_upload"]


def _rclone(studio, folder: Path, prefix: str, part_mib: int, concurrency: int) -> None:
    keys = resolve_credentials(studio.config, "writer")
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    command = ["rclone", "copy", str(folder), f":s3:{studio.bucket}/{prefix}{folder.name}",
               "--s3-provider=SeaweedFS", f"--s3-endpoint={studio.config.endpoint_url()}",
               f"--s3-access-key-id={keys.access_key}", f"--s3-secret-access-key={keys.secret_key}",
               "--s3-region=us-east-1", f"--s3-chunk-size={part_mib}Mi", f"--s3-upload-concurrency={concurrency}",
               "--s3-upload-cutoff=5Mi", "--transfers=4", "--checkers=4"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"rclone copy failed: {done.stderr.strip()[-500:]}")


def bench_upload(work: Path, total_mib: int, repeat: int) -> List[Dict[str, object]]:
    from benchmarks.bench_studio import TAKE_NAME, _make_take

    take = _make_take(work / "upload", TAKE_NAME, total_mib << 20)
    seal_take(take, "xxh64")
    size = sum(p.stat().st_size for p in take.rglob("*") if p.is_file())
    onset_s: List[float] = []
    rclone_s: List[float] = []
    with running_studio() as studio:
        part_mib, concurrency = studio.config.upload.part_size_mib, studio.config.upload.concurrency
        for run in range(repeat):
            upload = studio.config.upload.model_copy(update={"queue_path": work / f"queue-{run}.sqlite"})
            storage = studio.config.storage.model_copy(update={"prefix": f"onset-{run}/"})
            config = studio.config.model_copy(update={"upload": upload, "storage": storage})
            began = time.perf_counter()
            report = push(config, [take])
            onset_s.append(time.perf_counter() - began)
            if not report.ok:
                raise RuntimeError(f"the benchmark push did not verify: {report}")
            began = time.perf_counter()
            _rclone(studio, take, f"rclone-{run}/", part_mib, concurrency)
            rclone_s.append(time.perf_counter() - began)
    shutil.rmtree(work / "upload", ignore_errors=True)
    onset, base = statistics.median(onset_s), statistics.median(rclone_s)
    note = f"{part_mib} MiB parts x{concurrency}"
    return [
        {"what": "push (read back)", "bytes": size, "onset_s": onset, "baseline_s": base,
         "baseline": f"rclone copy, {note}", "ratio": base / onset, "target": 0.9, "samples": repeat},
    ]
