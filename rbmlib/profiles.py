"""Run profiles: ``ci`` (scaled down, minutes on 2 CPU cores, what CI checks), ``long`` (the paper's protocol scaled
only as far as an hour or two at two threads needs) and ``paper`` (the paper's protocol).

The active profile comes from the environment variable ``RBMBOOK_PROFILE`` so that a reader reruns a notebook as
it is: ``RBMBOOK_PROFILE=paper jupyter lab``.
"""
from __future__ import annotations

import os

PROFILES = ("ci", "long", "paper")
ENV_VAR = "RBMBOOK_PROFILE"


def active_profile() -> str:
    """The profile named by ``RBMBOOK_PROFILE`` (default ``ci``); a clear error for any other value."""
    name = os.environ.get(ENV_VAR, "ci").strip() or "ci"
    if name not in PROFILES:
        raise ValueError(f"{ENV_VAR}={name!r} is not a profile; choose one of {', '.join(PROFILES)}")
    return name


def describe(profile: str) -> str:
    """One line that labels results with their profile, for every table and caption."""
    if profile == "ci":
        return "profile `ci`: a scaled-down run (less data, fewer epochs and units), not a full reproduction"
    if profile == "long":
        return "profile `long`: the paper's protocol scaled to an hour or two on two CPU cores (differences stated)"
    return "profile `paper`: the paper's protocol as closely as the available data allow"
