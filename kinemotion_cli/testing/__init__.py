"""Test and benchmark support shipped with kmo (not used to measure jumps).

:mod:`kinemotion_cli.testing.standins` writes stand-in ONNX models for the rtmlib backends
(real signatures, meaningless weights, marked as stand-ins in their metadata).
"""
