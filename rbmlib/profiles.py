"""Run profiles: ``ci`` (scaled down, minutes on 2 CPU cores, what CI checks), ``long`` (the paper's protocol scaled
only as far as an hour or two at two threads needs) and ``paper`` (the paper's protocol).

The active profile comes from the environment variable ``RBMBOOK_PROFILE`` so that a reader reruns a notebook as
it is: ``RBMBOOK_PROFILE=paper jupyter lab``.

Smoke runs. ``RBMBOOK_SMOKE=1`` shrinks the chosen profile so that its whole protocol runs in seconds: a chapter
chooses its configuration with ``P = configure(CONFIGS, profile, smoke=dict(n_train=64, epochs=1, ...))``, where
``smoke`` (visible in the notebook) sets the sizes that only cost time: examples, epochs and steps per stage, seeds,
folds, grid points. It must leave the model sizes (widths, depths, hidden units) as the profile has them, so that a
smoke run of ``paper`` builds the paper's models and goes through every stage they go through. A smoke key that is
not a setting of the profile (e.g. ``n_test`` where the profile always uses the whole test set) exists only in a
smoke run: the notebook reads it with ``P.get(key)``, None meaning the profile's full set. Without the variable,
``configure`` returns ``CONFIGS[profile]`` itself, so ``P`` (and every cache key built from ``repr(P)``) is exactly
the profile's. A smoke run's results are no results: :func:`describe` says so in every caption, they are marked in
their provenance, and ``rbmlib.report.save_results`` refuses to write them into the book's ``book/results``.

Configurations are checked against the data actually loaded with :func:`check_sizes`.
"""
from __future__ import annotations

import os
from typing import Mapping

PROFILES = ("ci", "long", "paper")
ENV_VAR = "RBMBOOK_PROFILE"
SMOKE_ENV = "RBMBOOK_SMOKE"


def active_profile() -> str:
    """The profile named by ``RBMBOOK_PROFILE`` (default ``ci``); a clear error for any other value."""
    name = os.environ.get(ENV_VAR, "ci").strip() or "ci"
    if name not in PROFILES:
        raise ValueError(f"{ENV_VAR}={name!r} is not a profile; choose one of {', '.join(PROFILES)}")
    return name


def smoke_active() -> bool:
    """Whether ``RBMBOOK_SMOKE=1`` asks for a smoke run (unset, empty or ``0``: no); a clear error otherwise."""
    value = os.environ.get(SMOKE_ENV, "").strip()
    if value not in ("", "0", "1"):
        raise ValueError(f"{SMOKE_ENV}={value!r}: set it to 1 for a smoke run, or 0 (or leave it unset) for none")
    return value == "1"


def configure(configs: Mapping[str, dict], profile: str, *, smoke: Mapping | None = None) -> dict:
    """The configuration of ``profile``: ``configs[profile]`` itself (the same object, so its ``repr`` and the cache
    keys built from it are unchanged), or, when ``RBMBOOK_SMOKE=1``, a copy with the values of ``smoke`` in place.

    Parameters
    ----------
    configs : mapping
        The notebook's configuration of every profile, ``{"ci": {...}, "long": {...}, "paper": {...}}``.
    profile : str
        The profile to run (from :func:`active_profile`).
    smoke : mapping or None
        The notebook's smoke shrink: the settings that only cost time (examples, epochs or steps, seeds, folds, grid
        points), never the model sizes. Keys that are not settings of the profile are added (read them with
        ``P.get``). A smoke run of a notebook that declares none is an error.

    Returns
    -------
    dict
        The configuration to run.
    """
    if profile not in configs:
        raise ValueError(f"no configuration for profile {profile!r}; this notebook has {', '.join(configs)}")
    config = configs[profile]
    if not smoke_active():
        return config
    if not smoke:
        raise ValueError(f"{SMOKE_ENV}=1 but this notebook declares no smoke shrink: pass configure(..., smoke=...)")
    return {**config, **smoke}


def check_sizes(available: int, data: str, **requested: int | None) -> None:
    """Raise ``ValueError`` unless the parts ``requested`` (name=size, taken from one set of ``available`` examples
    without overlap; None: all that is left, at most one such part) fit in it, each with at least one example.

    ``data`` names the set as the tables do (e.g. the loaded variant), so the message says what was asked of what:
    ``check_sizes(len(x), "CIFAR-10", n_valid=P["n_valid"], n_train=P["n_train"])``.
    """
    fixed = {k: v for k, v in requested.items() if v is not None}
    rest = [k for k, v in requested.items() if v is None]
    if len(rest) > 1:
        raise ValueError(f"only one part of {data} can take what is left (None): {', '.join(rest)} do")
    for k, v in fixed.items():
        if int(v) != v or v < 1:
            raise ValueError(f"{k}={v!r}: a part of {data} needs a whole number of examples, at least 1")
    total = sum(fixed.values())
    asked = " + ".join(f"{k}={v:,}" for k, v in fixed.items())
    if total > available or (rest and total >= available):
        left = f" and leave some for {rest[0]}" if rest else ""
        raise ValueError(f"the configuration asks for {asked} = {total:,} examples{left}, but {data} has "
                         f"{available:,}: choose smaller sizes for this data")


def describe(profile: str) -> str:
    """One line that labels results with their profile, for every table and caption (a smoke run says so)."""
    if profile == "ci":
        text = "profile `ci`: a scaled-down run (less data, fewer epochs and units), not a full reproduction"
    elif profile == "long":
        text = "profile `long`: the paper's protocol scaled to an hour or two on two CPU cores (differences stated)"
    else:
        text = "profile `paper`: the paper's protocol as closely as the available data allow"
    if smoke_active():
        text += " — SMOKE RUN (RBMBOOK_SMOKE=1: a few examples and steps per stage; not a result)"
    return text
