"""The edge node: every sensor on one clock, fused frames out, every topic on ROS 2, takes on disk.

Data flow (docs/architecture.md): every sensor reaches the node over the wire and Onset's drivers
decode it; each sample goes to the synchronizer (whose clock models put it on the master clock)
and, stamped on the master clock, out on its ROS 2 topic. LiDAR reaches the synchronizer in slices
of a few milliseconds and ROS as whole sweeps; a telemetry sample's lens state goes out beside its
pose (``/onset/rig/lens`` beside ``/onset/rig/pose``: versioned JSON, :mod:`edge.ros.lens`), since
ROS 2 has no lens message and takes must carry the lens. The synchronizer fuses every camera frame
with deskewed LiDAR depth, pose, lens and the timecode its clock gives the frame's exposure, and hands
it to the fused-frame stream (pyzmq) for engine workers and the preview. When the frame's own LTC
frame has been decoded its label is verified; the verdict goes out on ``ros.frame_timecode_topic``
(the label that is true: the decoded one when they differ), which takes record. While a take
rolls, the recorder takes every message the node publishes (:mod:`edge.node.takes`); ``/tf`` is
always written into the bag (from the pose) even where ``tf2_msgs`` is not installed. A control
API (loopback, token) starts and stops takes and answers the node's status (``GET /status``). A step of the host clock (NTP/PTP) re-bases every
clock model at once (:class:`edge.clock.MasterClockWatch`).

Start-up is all or nothing: each part is opened in order and, if one fails, those already open
are closed in reverse and the error names the part.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from config.models import RigConfig
from edge.clock import MasterClockWatch
from edge.node.bag_tf import TF_MSGTYPE, tf_message
from edge.node.health import NodeStatus, diagnostics_entries
from edge.node.takes import NodeTakes
from edge.sync.labels import LabelCheck
from sensors.errors import SensorError, SensorOpenError
from sensors.rig import SensorRig
from sensors.vocabulary import (
    FusedFrame,
    ImageFrame,
    PointCloud,
    RigPose,
    TelemetrySample,
    TimecodeSample,
    matrix_to_quat,
    rotation_from_pan_tilt_roll,
)

__all__ = ["EdgeNode"]

log = logging.getLogger(__name__)

_DIAGNOSTICS_PERIOD_S = 1.0


class EdgeNode:
    """One stage's edge node. ``start()`` opens every part; ``close()`` closes them in reverse.

    ``with_ros=False`` leaves ROS 2 out (no rclpy needed: Python 3.10 hosts without ROS, tests);
    ``recorder_config=None`` leaves the recorder and its control API out. ``control_token`` is
    the bearer token of the control API (required when the recorder is on).
    ``on_fused`` receives every fused frame as well (tests, in-process consumers).
    """

    def __init__(
        self,
        rig: RigConfig,
        *,
        recorder_config: Any = None,
        control_token: Optional[str] = None,
        with_ros: bool = True,
        stream_endpoint: Optional[str] = None,
        control_port: Optional[int] = None,
        on_fused: Optional[Callable[[FusedFrame], None]] = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.rig = rig
        self._recorder_config = recorder_config
        self._control_token = control_token
        self._with_ros = with_ros
        self._stream_endpoint = stream_endpoint or rig.stream.endpoint
        self._control_port = rig.control.port if control_port is None else control_port
        self._on_fused_extra = on_fused
        self._clock_ns = clock_ns
        self._parts: List[Tuple[str, Any]] = []
        self.ros: Any = None
        self.recorder: Any = None
        self.control: Any = None
        self.takes: Optional[NodeTakes] = None
        self.stream: Any = None
        self.foxglove: Any = None
        self.sync: Any = None
        self.sensors: Optional[SensorRig] = None
        self.status = NodeStatus()
        self._stop = threading.Event()
        self._diagnostics_thread: Optional[threading.Thread] = None
        self._camera_info_sent = False
        # The first LiDAR Onset decodes itself goes out on ros.lidar_topic (vendor ones are already on ROS).
        self._published_lidar = next((c.name for c in rig.lidars if c.source == "driver"), None)

    # -- lifecycle -----------------------------------------------------------------------------

    def _open(self, name: str, opener: Callable[[], Any]) -> Any:
        try:
            part = opener()
        except SensorError as err:
            self.close()
            raise SensorOpenError(f"edge node: could not start the {name}: {err}") from err
        except Exception as err:
            self.close()
            raise SensorOpenError(f"edge node: could not start the {name}: {type(err).__name__}: {err}") from err
        self._parts.append((name, part))
        return part

    def start(self) -> "EdgeNode":
        from edge.stream import FusedFramePublisher
        from edge.sync import Synchronizer

        rig = self.rig
        if self._recorder_config is not None and not self._control_token:
            raise SensorOpenError(
                f"edge node: the control API needs a token: set {rig.control.token_env} (or pass --control-token)"
            )
        if self._with_ros:
            from edge.ros import OnsetRosNode
            from edge.ros.lens import lens_topic_beside

            ros = rig.ros_config()
            lens_topic = lens_topic_beside(ros.pose_topic) if rig.telemetry else None
            self.ros = self._open("ROS 2 node", lambda: OnsetRosNode(
                ros, rig, clock_ns=self._clock_ns, lens_topic=lens_topic).start())
        if self._recorder_config is not None:
            self._start_recorder()
        self.stream = self._open(
            "fused-frame stream", lambda: FusedFramePublisher(self._stream_endpoint, rig.stream.send_hwm)
        )
        if rig.foxglove.enabled:
            from edge.foxglove import FoxgloveBridge

            self.foxglove = self._open("Foxglove server", lambda: FoxgloveBridge(rig.foxglove, rig).start())
        self.sensors = self._open("sensors", lambda: SensorRig(
            rig, on_cloud=self._on_cloud, on_lidar_slice=self._on_lidar_slice, on_telemetry=self._on_telemetry,
            on_frame=self._on_frame, on_timecode=self._on_timecode,
            clock_ns=self._clock_ns).start())
        sync_config = self._sync_config()
        # The host clock's steps are watched only where the master clock is the host's own.
        watch = MasterClockWatch() if self._clock_ns is time.time_ns else None
        self.sync = self._open("synchronizer", lambda: Synchronizer(
            rig, self._on_fused, clock_ns=self._clock_ns, config=sync_config, on_label=self._on_label,
            master_watch=watch).start())
        try:
            self._subscribe_vendor_topics()
        except SensorOpenError:
            self.close()
            raise
        self._diagnostics_thread = threading.Thread(target=self._diagnostics_loop, name="edge-diagnostics", daemon=True)
        self._diagnostics_thread.start()
        return self

    def _subscribe_vendor_topics(self) -> None:
        """LiDARs whose profile says ``source: ros`` come from a vendor driver's PointCloud2 topic."""
        vendor = [c.name for c in self.rig.lidars if c.source == "ros"]
        if not vendor:
            return
        if self.ros is None:
            raise SensorOpenError(f"edge node: LiDAR {vendor[0]!r} has source: ros, which needs the ROS 2 node")
        if len(vendor) > 1:
            raise SensorOpenError(f"edge node: only one LiDAR can come from ROS (ros.inputs.lidar_points), got {vendor}")
        name = vendor[0]
        self.ros.subscribe_inputs(on_cloud=lambda cloud: self.sync.add_cloud(name, cloud))

    def _start_recorder(self) -> None:
        from edge.recorder import ControlServer, TakeRecorder

        self.recorder = self._open("recorder", lambda: TakeRecorder(self._recorder_config, self.rig, clock_ns=self._clock_ns))
        self.takes = self._open("take control", lambda: NodeTakes(self.recorder, self.ros, self.rig, self._clock_ns,
                                                                standing_topics=self._engine_topics()))
        self.control = self._open("control API", lambda: ControlServer(
            self.takes, host=self.rig.control.host, port=self._control_port, token=self._control_token,
            timecode_now=self.timecode_now, status=self.status_document).start())

    def timecode_now(self) -> Optional[str]:
        """The timecode of the newest fused frame (TC in/out of a take when the request has none)."""
        frame = self.status.last_frame
        return None if frame is None or frame.timecode is None else str(frame.timecode)

    def _sync_config(self):
        """The profile's sync settings, with the camera pipeline's measured latency (its GStreamer
        latency query) where the profile sets none and the camera's clock is not locked."""
        config = self.rig.sync
        camera = self.rig.camera.name
        driver = self.sensors.get(camera).driver if self.sensors is not None else None
        if driver is None or camera in config.clocks:
            return config
        latency_ns = int(driver.pipeline_latency_ns())
        clocks = dict(config.clocks)
        clocks[camera] = config.clock(camera).model_copy(update={"latency_ns": latency_ns})
        return config.model_copy(update={"clocks": clocks})

    def close(self) -> None:
        self._stop.set()
        if self._diagnostics_thread is not None:
            self._diagnostics_thread.join(timeout=3.0)
            self._diagnostics_thread = None
        while self._parts:
            name, part = self._parts.pop()
            try:
                part.close()
            except Exception as err:  # noqa: BLE001 - close the rest whatever one part does
                log.warning("closing the %s failed: %s", name, err)

    def __enter__(self) -> "EdgeNode":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- samples in ------------------------------------------------------------------------------

    def _master(self, sensor: str, sensor_ns, fallback_ns):
        sync = self.sync
        master = None if sync is None or sensor_ns is None else sync.to_master_ns(sensor, sensor_ns)
        return fallback_ns if master is None else master

    def _on_lidar_slice(self, name: str, cloud: PointCloud) -> None:
        """A few ms of points; its last point and the packet that carried it feed the LiDAR's clock
        model too (188 pairs a second for a VLP-16 in 5 ms slices: each packet's would cost more)."""
        sync = self.sync
        if sync is not None:
            sync.add_cloud(name, cloud)

    def _on_cloud(self, name: str, cloud: PointCloud) -> None:
        """A whole sweep (the synchronizer had its points slice by slice): out on ROS 2."""
        if self.sync is None:
            return
        if self.ros is not None and len(cloud) and name == self._published_lidar:
            point_t = self._master(name, cloud.t_ns, None)
            if point_t is not None:
                self._publish_counted(name, "points", "points_in_sweeps", len(cloud),
                                      lambda: self.ros.publish_cloud(cloud, int(point_t[0]), point_t))
        if self.foxglove is not None and len(cloud) and name == self._published_lidar:
            first = self._master(name, cloud.t_ns[:1], None)
            self.foxglove.publish_cloud(cloud, None if first is None else int(first[0]))

    def _on_telemetry(self, name: str, sample: TelemetrySample) -> None:
        sync = self.sync
        if sync is None:
            return
        sync.add_telemetry(name, sample)
        if self.ros is None and self.recorder is None:
            return
        t_ns = int(self._master(name, sample.stamp.sensor_ns, sample.stamp.host_ns))
        pose = RigPose(t_ns, np.asarray(sample.position_m, dtype=float), matrix_to_quat(
            rotation_from_pan_tilt_roll(sample.pan_deg, sample.tilt_deg, sample.roll_deg)))
        if self.ros is not None:
            self._publish_counted(name, "samples", "samples_decoded", 1, lambda: self._publish_rig(pose, sample))
        if self.recorder is not None and not (self.ros is not None and self.ros.tf_available):
            self._record_tf(pose)

    def _engine_topics(self) -> tuple:
        """The engine workers' result topics a take records (published by their own nodes)."""
        from engines.worker.ros_out import RESULT_MSGTYPE, results_topic

        return tuple((results_topic(name), RESULT_MSGTYPE) for name in ("captioner", "style")
                     if getattr(self.rig.engines, name).enabled and getattr(self.rig.engines, name).ros)

    def _publish_rig(self, pose: RigPose, sample: TelemetrySample) -> None:
        """The sample's pose, and beside it its lens state where the sample carries one (a take
        records both or neither)."""
        self.ros.publish_pose(pose)
        lens = sample.lens
        if lens is not None:
            self.ros.publish_lens(lens, pose.t_ns, sample.zoom_raw, sample.focus_raw)

    def _record_tf(self, pose: RigPose) -> None:
        if not self.recorder.recording:
            return
        ros = self.rig.ros_config()
        msg = tf_message(self.recorder.types, [(pose.matrix(), pose.t_ns, ros.stage_frame, ros.rig_frame)])
        self.recorder.write_message("/tf", TF_MSGTYPE, msg, pose.t_ns)

    def _on_frame(self, name: str, frame: ImageFrame) -> None:
        sync = self.sync
        if sync is None:
            return
        sync.add_frame(frame)
        if self.ros is not None:
            stamp = int(self._master(name, frame.exposure_mid.sensor_ns, frame.exposure_mid.host_ns))
            self._publish_counted(name, "frames", "frames_decoded", 1, lambda: self.ros.publish_image(frame, stamp))

    def _publish_counted(self, name: str, unit: str, counter: str, n: int, publish: Callable[[], None]) -> None:
        """Publish one sample; while a take rolls, count it with its driver's own running total
        (``counter``, else ``stats.decoded``) under the takes' gate, so that a sample is counted
        exactly when it is written (:class:`edge.node.takes.SensorTally`)."""
        takes = self.takes
        if takes is None or self.sensors is None:
            publish()
            return
        with takes.gate:
            if takes.recording:
                driver = self.sensors.get(name).driver
                total = getattr(driver, counter, None)
                takes.tally.saw(name, unit, int(driver.stats.decoded if total is None else total), n)
            publish()

    def _on_timecode(self, name: str, sample: TimecodeSample) -> None:
        sync = self.sync
        if sync is None:
            return
        sync.add_timecode(sample)
        if self.ros is not None:
            self.ros.publish_timecode(sample.timecode, sample.stamp.host_ns)

    def _on_label(self, check: LabelCheck) -> None:
        """A frame's label verdict: the true label goes out (and into takes) stamped with the frame."""
        if self.ros is not None and check.label is not None:
            self.ros.publish_frame_timecode(check.label, check.t_ns, check.outcome.value)

    # -- fused frames out ------------------------------------------------------------------------

    def _on_fused(self, frame: FusedFrame) -> None:
        sent = self.stream.publish(frame) if self.stream is not None else False
        self.status.fused(frame, sent, self._clock_ns())
        if self.ros is not None and (not self._camera_info_sent or frame.frame_index % 24 == 0):
            self._publish_camera_info(frame)
        if self.foxglove is not None:
            self.foxglove.publish_frame(frame)
        if self._on_fused_extra is not None:
            self._on_fused_extra(frame)

    def _publish_camera_info(self, frame: FusedFrame) -> None:
        if self.ros is None:
            return
        self.ros.publish_camera_info(frame.K, frame.distortion, frame.rgb.shape[1], frame.rgb.shape[0], frame.t_ns)
        self._camera_info_sent = True

    def stream_consumers(self) -> Dict[str, Any]:
        """What each stream consumer reports it lost (sequence gaps), by consumer name."""
        stream = self.stream
        return {} if stream is None else dict(stream.consumers())

    def _diagnostics_loop(self) -> None:
        while not self._stop.wait(_DIAGNOSTICS_PERIOD_S):
            entries = diagnostics_entries(self)
            if self.ros is not None:
                try:
                    self.ros.publish_diagnostics(entries, self._clock_ns())
                except Exception as err:  # noqa: BLE001 - health reporting must not take the node down
                    log.warning("publishing diagnostics failed: %s", err)
            self.status.last_diagnostics = entries

    def health(self) -> Dict[str, Any]:
        """Counters for the status line and the control API."""
        return self.status.summary(self)

    def status_document(self) -> Dict[str, Any]:
        """The node's status as JSON values: what ``GET /status`` answers (:mod:`edge.node.status_json`)."""
        from edge.node.status_json import node_status_document

        return node_status_document(self)
