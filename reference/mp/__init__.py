"""References in mpmath: arbitrary precision, small sizes, the gold standard.

Every function here returns numpy object arrays of mpmath numbers (mpf/mpc) computed at `DPS`
significant digits, so a float64 implementation's error is measured without the reference's own
rounding in it. Inputs are float64/complex128 arrays, converted exactly.
"""

DPS = 50
