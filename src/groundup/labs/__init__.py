"""Labs: one runnable experiment per step.

A lab module defines a `Config` dataclass that extends `runner.LabConfig` (its defaults are
the `tiny` preset), a `PRESETS` dict of field overrides for `micro`, `tiny` and `full`, and
`run(cfg) -> runner.LabReport`. The CLI builds its options from the Config fields.
"""
