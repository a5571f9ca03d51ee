"""References in float64/complex128 NumPy/SciPy: fast, for large sizes, and certified against the
mpmath references in tests/test_reference_np_vs_mp.py before they are trusted. They also compute
the magnitudes M of the error bounds (docs/error-model.md)."""
