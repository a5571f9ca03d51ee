"""The built-in specs, one module per primitive family; `ssmspec.registry.load()` imports every
module of this package (no list here: a new module is found by itself)."""
