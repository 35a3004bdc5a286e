"""Layer Studio GUI: Qt adapters and views over `core` objects. `gui.Studio` drives a window from a
script or a notebook (imported on first use, so `import gui` alone loads no Qt)."""


def __getattr__(name):
    if name == "Studio":
        from .studio import Studio
        return Studio
    raise AttributeError(f"module 'gui' has no attribute {name!r}")


__all__ = ["Studio"]
