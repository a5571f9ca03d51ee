"""The built-in implementations under test: PyTorch, device-agnostic (CPU and CUDA).

Nothing here imports from `ssmspec.reference`: an implementation and its reference are written
independently.
"""
