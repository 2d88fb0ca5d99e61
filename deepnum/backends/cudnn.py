"""``deepnum.backends.cudnn``: not available; the flags programs set are plain attributes."""

enabled = True
deterministic = False
benchmark = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    return None
