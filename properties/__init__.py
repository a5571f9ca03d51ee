"""Generic property tests, parametrized over every registered (primitive, implementation,
method, dtype, device). From an installed ssmspec: `pytest --pyargs ssmspec.properties`.
"""
