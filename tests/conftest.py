"""Shared test set-up: DDS stays on this machine, time zone pinned."""

import os

os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ.setdefault("ROS_LOCALHOST_ONLY", "1")
os.environ.setdefault("ROS_DOMAIN_ID", str(100 + os.getpid() % 100))
os.environ["TZ"] = "UTC"
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the node runs (edge/cli/main.py)

from hypothesis import HealthCheck, settings  # noqa: E402

# Property tests are derandomized: the same examples every run, no wall-clock deadlines on a shared machine.
settings.register_profile(
    "onset", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("onset")
