"""The take recorder: every topic into a rosbag2 bag (MCAP storage) plus ``take.json``, per take.

:class:`TakeRecorder` takes CDR bytes from the node on any thread and writes them from a writer
thread into ``<takes_dir>/<scene>_<shot>_<take>_<UTC start>/`` (see :mod:`edge.recorder.take`);
the bag reaches the disk chunk by chunk (:mod:`edge.recorder.bag`), so a killed take is readable
up to its last complete chunk and :func:`recover_take` makes it a valid bag again. A full disk
fails the take with a clear error and the recorder keeps accepting (and counting) messages.
:class:`ControlServer` / :class:`ControlClient` are the take control API over HTTP on loopback.
"""

from __future__ import annotations

from edge.recorder.bag import BagWriter
from edge.recorder.catalog import (
    INTERRUPTED,
    TakeDescription,
    TakeSummary,
    bag_topic_counts,
    describe_take,
    list_takes,
    resolve_take,
)
from config.recorder import DEFAULT_TAKES_DIR, BagCompression, QosPreset, RecorderConfig
from edge.recorder.control import (
    CONTROL_TOKEN_ENV,
    CONTROL_URL_ENV,
    DEFAULT_CONTROL_URL,
    ControlClient,
    ControlServer,
)
from edge.recorder.errors import (
    BagError,
    ControlAuthError,
    ControlError,
    ControlUnavailableError,
    DiskSpaceError,
    RecorderError,
    RecorderStateError,
    RecoveryError,
    SlateError,
    TakeFileError,
    TakeNotFoundError,
    UnknownMessageTypeError,
)
from edge.recorder.metadata import BAG_METADATA_VERSION, BagSummary, TopicStats, qos_profiles_yaml
from edge.recorder.recorder import RecorderStatus, TakeInfo, TakeRecorder
from edge.recorder.recover import RecoveryReport, bag_is_complete, recover_all, recover_take
from edge.recorder.take import Slate, TakeStatus, read_take_json, take_folder_name, validate_slate
from edge.recorder.typestore import RECORDED_MSGTYPES, MessageTypes

__all__ = [
    "BAG_METADATA_VERSION",
    "BagCompression",
    "BagError",
    "BagSummary",
    "BagWriter",
    "CONTROL_TOKEN_ENV",
    "CONTROL_URL_ENV",
    "ControlAuthError",
    "ControlClient",
    "ControlError",
    "ControlServer",
    "ControlUnavailableError",
    "DEFAULT_CONTROL_URL",
    "DEFAULT_TAKES_DIR",
    "DiskSpaceError",
    "INTERRUPTED",
    "MessageTypes",
    "QosPreset",
    "RECORDED_MSGTYPES",
    "RecorderConfig",
    "RecorderError",
    "RecorderStateError",
    "RecorderStatus",
    "RecoveryError",
    "RecoveryReport",
    "Slate",
    "SlateError",
    "TakeDescription",
    "TakeFileError",
    "TakeInfo",
    "TakeNotFoundError",
    "TakeRecorder",
    "TakeStatus",
    "TakeSummary",
    "TopicStats",
    "UnknownMessageTypeError",
    "bag_is_complete",
    "bag_topic_counts",
    "describe_take",
    "list_takes",
    "qos_profiles_yaml",
    "read_take_json",
    "recover_all",
    "recover_take",
    "resolve_take",
    "take_folder_name",
    "validate_slate",
]
