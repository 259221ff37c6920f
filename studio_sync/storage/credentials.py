"""The studio's S3 keys: from the environment, or the embedded studio's own credentials file.

Each identity of ``studio.storage`` (``writer`` uploads, ``reader`` only reads and lists) names
the environment variables holding its keys. The embedded studio makes a key pair per identity the
first time ``onset studio up`` runs without them and keeps them in
``<data_dir>/credentials.json`` (mode 0600, owner only); commands on the same machine read them
there. Keys set in the environment win over the file, so a studio's own keys can be handed in.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Literal, Mapping, Optional

from config.studio import IdentityConfig, StudioConfig
from studio_sync.storage.errors import CredentialsError

__all__ = ["Credentials", "Role", "ROLES", "credentials_path", "resolve_credentials", "ensure_credentials_file"]

Role = Literal["writer", "reader"]
ROLES = ("writer", "reader")
_FILE = "credentials.json"


@dataclass(frozen=True)
class Credentials:
    """One S3 identity's keys (the secret never appears in ``repr``)."""

    role: str
    access_key: str
    secret_key: str

    def __repr__(self) -> str:
        return f"Credentials(role={self.role!r}, access_key={self.access_key!r}, secret_key=<hidden>)"


def credentials_path(config: StudioConfig) -> Path:
    """Where the embedded studio keeps the keys it made."""
    return config.embedded.data_dir / _FILE


def _identity(config: StudioConfig, role: str) -> IdentityConfig:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    return config.storage.writer if role == "writer" else config.storage.reader


def _from_env(identity: IdentityConfig, role: str, env: Mapping[str, str]) -> Optional[Credentials]:
    access, secret = env.get(identity.access_key_env), env.get(identity.secret_key_env)
    if access and secret:
        return Credentials(role, access, secret)
    if access or secret:
        missing = identity.secret_key_env if access else identity.access_key_env
        raise CredentialsError(f"the {role} identity has only half its keys: set {missing} as well")
    return None


def _read_file(path: Path) -> Dict[str, Dict[str, str]]:
    try:
        mode = path.stat().st_mode
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        raise CredentialsError(f"{path}: cannot read the studio's credentials ({err})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialsError(f"{path}: readable by others (mode {stat.S_IMODE(mode):o}); "
                               f"run `chmod 600 {path}`")
    if not isinstance(document, dict):
        raise CredentialsError(f"{path}: not a credentials file (expected a JSON object)")
    return document


def resolve_credentials(config: StudioConfig, role: str = "writer",
                        env: Optional[Mapping[str, str]] = None) -> Credentials:
    """The keys of ``role``: the environment's, else (embedded studio) the credentials file's."""
    env = os.environ if env is None else env
    identity = _identity(config, role)
    found = _from_env(identity, role, env)
    if found is not None:
        return found
    if config.uses_embedded:
        entry = _read_file(credentials_path(config)).get(role)
        if isinstance(entry, dict) and entry.get("access_key") and entry.get("secret_key"):
            return Credentials(role, str(entry["access_key"]), str(entry["secret_key"]))
        raise CredentialsError(
            f"no {role} keys: set {identity.access_key_env} and {identity.secret_key_env}, "
            f"or start the embedded studio once (`onset studio up`) to make them in {credentials_path(config)}")
    raise CredentialsError(f"no {role} keys for {config.endpoint_url()}: set {identity.access_key_env} "
                           f"and {identity.secret_key_env}")


def ensure_credentials_file(config: StudioConfig, env: Optional[Mapping[str, str]] = None) -> Dict[str, Credentials]:
    """Every identity's keys for the embedded studio, making (and keeping) the ones not given."""
    env = os.environ if env is None else env
    path = credentials_path(config)
    stored = _read_file(path)
    result: Dict[str, Credentials] = {}
    changed = False
    for role in ROLES:
        given = _from_env(_identity(config, role), role, env)
        if given is not None:
            result[role] = given
            continue
        entry = stored.get(role)
        if not (isinstance(entry, dict) and entry.get("access_key") and entry.get("secret_key")):
            entry = {"access_key": "ONSET" + secrets.token_hex(8).upper(), "secret_key": secrets.token_urlsafe(30)}
            stored[role] = entry
            changed = True
        result[role] = Credentials(role, str(entry["access_key"]), str(entry["secret_key"]))
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(stored, handle, indent=2)
        os.replace(temporary, path)
    if len({c.access_key for c in result.values()}) != len(result):
        raise CredentialsError("the writer and reader identities must have different access keys")
    return result
