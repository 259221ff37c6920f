"""A simulated sensor clock: offset, drift and jitter against the master clock."""

from __future__ import annotations

from typing import Optional

import numpy as np

from config.models import ClockConfig

__all__ = ["DriftingClock"]


class DriftingClock:
    """``sensor_ns = epoch_ns + offset_ns + (master_ns - epoch_ns) * (1 + drift_ppm / 1e6) + jitter``.

    ``epoch_ns`` is the master time at which the sensor was switched on. Jitter is Gaussian
    with standard deviation ``jitter_ns`` from a seeded generator, so runs repeat.
    The noiseless mapping is exact both ways (``sensor_ns_exact`` / ``master_ns``): it is the
    ground truth the clock models are tested against.
    """

    def __init__(self, config: ClockConfig, epoch_ns: int, seed: int = 0) -> None:
        self.offset_ns = int(config.offset_ns)
        self.drift = float(config.drift_ppm) * 1e-6
        self.jitter_ns = int(config.jitter_ns)
        self.epoch_ns = int(epoch_ns)
        self._rng = np.random.default_rng(seed)

    def sensor_ns_exact(self, master_ns):
        """Noiseless sensor time at master time(s) ``master_ns`` (int or int64 array)."""
        elapsed = np.asarray(master_ns, dtype=np.int64) - self.epoch_ns
        sensor = self.epoch_ns + self.offset_ns + elapsed + np.rint(elapsed * self.drift).astype(np.int64)
        return int(sensor) if np.ndim(sensor) == 0 else sensor

    def sensor_ns(self, master_ns, rng: Optional[np.random.Generator] = None):
        """Sensor time as the sensor would stamp it: noiseless time plus jitter."""
        exact = self.sensor_ns_exact(master_ns)
        if self.jitter_ns == 0:
            return exact
        gen = rng or self._rng
        noise = np.rint(gen.normal(0.0, self.jitter_ns, np.shape(exact))).astype(np.int64)
        out = np.asarray(exact, dtype=np.int64) + noise
        return int(out) if np.ndim(out) == 0 else out

    def master_ns(self, sensor_ns):
        """Master time at which the noiseless sensor clock reads ``sensor_ns``."""
        since = np.asarray(sensor_ns, dtype=np.int64) - self.epoch_ns - self.offset_ns
        master = self.epoch_ns + np.rint(since / (1.0 + self.drift)).astype(np.int64)
        return int(master) if np.ndim(master) == 0 else master
