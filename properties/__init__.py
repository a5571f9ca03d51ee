"""Generic property tests, parametrized over every registered (primitive, implementation,
method, dtype, device): run them from an installed ssmspec with `pytest --pyargs ssmspec.properties`.
"""
