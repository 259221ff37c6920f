"""Takes put into a running test studio as the uploader lays them out, and altered there on purpose.

A file ``REL`` of take ``NAME`` goes to ``<prefix><NAME>/<REL>`` (``studio_sync/upload``), its
``ascmhl/`` history included; the writer identity puts them, the dataset build reads them back
with the reader's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, Optional

__all__ = ["upload_take", "take_files", "CountingClient"]


def take_files(folder: Path) -> Dict[str, Path]:
    """Every file of the take folder by its POSIX path in the take."""
    return {p.relative_to(folder).as_posix(): p for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def upload_take(client: Any, bucket: str, prefix: str, folder: Path,
                alter: Optional[Dict[str, Callable[[bytes], Optional[bytes]]]] = None) -> None:
    """Put every file of the take at ``folder`` under ``<prefix><take name>/``; ``alter[rel]``
    changes a file's bytes on the way (None: the file is left out)."""
    for rel, path in take_files(folder).items():
        data = path.read_bytes()
        if alter and rel in alter:
            data = alter[rel](data)
            if data is None:
                continue
        client.put_object(Bucket=bucket, Key=f"{prefix}{Path(folder).name}/{rel}", Body=data)


class CountingClient:
    """An S3 client that notes the key of every ``get_object`` it passes on."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.got: list = []

    def get_object(self, **kwargs: Any) -> Any:
        self.got.append(kwargs["Key"])
        return self._client.get_object(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)
