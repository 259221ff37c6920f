"""The recorder's hook: seal a take when it closes, with the rig's ``studio.custody`` settings.

The recorder calls :func:`seal_closed_take` once ``take.json`` is final and the lock is gone
(``edge/recorder/session.py`` at stop, ``edge/recorder/recover.py`` after a recovery). Sealing
never costs the take: a failure is logged and returned as a sentence for ``take.json``'s
``errors``, and the take stays as it was, to be sealed by hand with ``onset sync seal``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Optional

from config.studio import CustodyConfig

__all__ = ["custody_settings", "seal_closed_take"]

_log = logging.getLogger(__name__)


def custody_settings(rig: Any) -> Optional[CustodyConfig]:
    """The custody settings of ``rig``: a ``RigConfig``, or a take.json ``rig`` object (whose missing
    keys take their defaults); None when there is no rig."""
    if rig is None:
        return None
    if isinstance(rig, dict):
        return CustodyConfig.model_validate((rig.get("studio") or {}).get("custody") or {})
    studio = getattr(rig, "studio", None)
    return getattr(studio, "custody", None)


def seal_closed_take(folder: Path, rig: Any) -> Optional[str]:
    """Seal the closed take at ``folder`` if ``rig``'s custody settings say so (``on_close``).

    Returns None when the take was sealed or nothing was to be done, else what went wrong, in a
    sentence for ``take.json``'s ``errors`` (already logged)."""
    folder = Path(folder)
    try:
        custody = custody_settings(rig)
        if custody is None or not custody.on_close:
            return None
        from studio_sync.custody.seal import seal_take

        seal_take(folder, custody.hash_format, custody.author, comment="sealed when the recorder closed the take")
    except Exception as err:  # noqa: BLE001 - sealing must never cost the take; the reason is kept
        message = (f"the take's ASC MHL history was not written: {err} (seal it by hand: "
                   f"onset sync seal {folder.name})")
        _log.error("take %s: %s", folder.name, message)
        return message
    return None
