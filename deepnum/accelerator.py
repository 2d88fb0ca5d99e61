"""``deepnum.accelerator``: no accelerator; code that asks picks the CPU."""

from __future__ import annotations


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False):
    return None


def device_count() -> int:
    return 0
