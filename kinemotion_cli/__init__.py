"""kmo: measure vertical jumps from ordinary video."""

__version__ = "0.1.0"
