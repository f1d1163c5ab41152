"""Sticky A/B bucketing: a pure, versioned hash of (experiment seed, unit id) -> [0, 1).

The unit is the session id, so a session keeps its bucket across processes and restarts.
Version 1 is FNV-1a 32-bit over "<seed>|<unit>" followed by the murmur3 finaliser (FNV-1a alone
mixes the last characters of sequential ids poorly into the high bits). It is the only version: a
GrowthBook-style version 2 was removed because nothing could select it and it hashed UTF-8 bytes
where GrowthBook hashes code points. Outputs are pinned in tests/data/bucketing_vectors.json:
changing them silently reshuffles every running experiment.
"""

from __future__ import annotations

from typing import Literal

from engine import runbook
from engine.errors import InputError

Bucket = Literal["control", "treatment"]
BUCKETS: tuple[str, str] = runbook.BUCKETS
HASH_VERSIONS = (1,)

FNV_OFFSET_32 = 0x811C9DC5
FNV_PRIME_32 = 0x01000193
MASK_32 = 0xFFFFFFFF


def fnv1a_32(text: str) -> int:
    """FNV-1a 32-bit over the UTF-8 bytes of `text`."""
    value = FNV_OFFSET_32
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * FNV_PRIME_32) & MASK_32
    return value


def fmix32(value: int) -> int:
    """MurmurHash3's 32-bit finaliser: every input bit affects every output bit."""
    value ^= value >> 16
    value = (value * 0x85EBCA6B) & MASK_32
    value ^= value >> 13
    value = (value * 0xC2B2AE35) & MASK_32
    value ^= value >> 16
    return value


def bucket_value(seed: str, unit_id: str, hash_version: int = 1) -> float:
    """Where a unit falls in [0, 1) for an experiment seed; the same inputs give the same value.

    Raises InputError for an unknown hash version.
    """
    if hash_version == 1:
        return fmix32(fnv1a_32(f"{seed}|{unit_id}")) / 2**32
    raise InputError(f"unknown hash_version {hash_version!r}; supported: {HASH_VERSIONS}")


def assign_bucket(seed: str, unit_id: str, control_bucket_pct: float = 0.5,
                  hash_version: int = 1) -> tuple[Bucket, float]:
    """("control" if the unit's value < control_bucket_pct else "treatment", the value)."""
    value = bucket_value(seed, unit_id, hash_version)
    return (runbook.CONTROL if value < control_bucket_pct else runbook.TREATMENT), value
