"""The pure-PyTorch references of peers whose CUDA build cannot be made on a CPU torch.

`mamba-ssm` and `causal-conv1d` ship as source only, and their setup reads `torch.version.cuda`:
`pip install` fails on a CPU torch. Their references (`selective_scan_ref`, `causal_conv1d_ref`,
…) are plain PyTorch, so ssmspec imports them from the unpacked PyPI sdist instead, without
building and without copying any of their code:

1. the sdist of the pinned version is fetched once from PyPI's simple index (PEP 691 JSON), its
   sha256 checked against the pin, and unpacked into the cache (`~/.cache/ssmspec/peers`, or
   `$SSMSPEC_PEERS_CACHE`);
2. the unpacked source directory goes on `sys.path`;
3. the compiled extensions its modules import at load (`selective_scan_cuda`,
   `causal_conv1d_cuda`) are registered in `sys.modules` as stand-ins whose every function
   raises a RuntimeError saying the CUDA build is needed (so the references import, and a CUDA
   kernel called here fails with that message, never a segfault);
4. the top-level package is registered with its `__path__` only, so that importing one
   submodule does not run the package's `__init__` (which imports every model and layer).

Where the real package is installed (a CUDA machine), nothing of this is done: it is used as is.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import tarfile
import types
import urllib.request
from pathlib import Path

SIMPLE_INDEX = "https://pypi.org/simple/{name}/"


def cache_dir() -> Path:
    """Where sdists are kept: `$SSMSPEC_PEERS_CACHE`, else `~/.cache/ssmspec/peers`."""
    return Path(os.environ.get("SSMSPEC_PEERS_CACHE")
                or Path.home() / ".cache" / "ssmspec" / "peers")


def _fetch(name: str, version: str, sha256: str, dest: Path) -> Path:
    """The sdist `name==version` in `dest`, downloaded if absent; ValueError on a hash mismatch."""
    stem = f"{name.replace('-', '_')}-{version}.tar.gz"
    path = dest / stem
    if not path.exists():
        req = urllib.request.Request(SIMPLE_INDEX.format(name=name),
                                     headers={"Accept": "application/vnd.pypi.simple.v1+json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            files = json.load(r)["files"]
        url = next((f["url"] for f in files if f["filename"] == stem), None)
        if url is None:
            raise ValueError(f"{name}: no sdist {stem} on PyPI")
        dest.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        with urllib.request.urlopen(url, timeout=120) as r, open(tmp, "wb") as f:
            f.write(r.read())
        tmp.replace(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise ValueError(f"{path}: sha256 {digest}, expected the pinned {sha256}")
    return path


def _extension_stub(name: str) -> types.ModuleType:
    """A module standing in for the compiled extension `name`: any function raises."""
    mod = types.ModuleType(name)
    mod.__ssmspec_stub__ = True

    def __getattr__(attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)

        def needs_cuda(*args, **kwargs):
            raise RuntimeError(f"{name}.{attr}: needs the CUDA build of this peer (not "
                               f"importable here: its setup needs a CUDA torch)")
        return needs_cuda

    mod.__getattr__ = __getattr__
    return mod


def load(package: str, dist: str, version: str, sha256: str,
         extensions: tuple[str, ...] = (), fetch: bool = True) -> str:
    """Make `package` importable: the installed one if there is one, else the unpacked sdist of
    `dist==version` (see the module docstring), downloaded if `fetch` (else FileNotFoundError
    when it is not in the cache yet). Returns where it comes from."""
    if package in sys.modules:
        return getattr(sys.modules[package], "__ssmspec_source__", "installed")
    root = cache_dir()
    src = root / f"{dist.replace('-', '_')}-{version}"
    found = importlib.util.find_spec(package)
    # a spawned worker inherits sys.path, the unpacked sdist included: that is not an install
    if found is not None and not str(found.origin or "").startswith(str(src)):
        return "installed"
    if not (src / package).is_dir():
        if not fetch and not (root / f"{src.name}.tar.gz").exists():
            raise FileNotFoundError(f"the {dist}=={version} sdist is not in {root} yet (fetched "
                                    f"from PyPI on the first check of one of its functions)")
        archive = _fetch(dist, version, sha256, root)
        with tarfile.open(archive) as tar:
            tar.extractall(root, filter="data")
    if str(src) not in sys.path:
        sys.path.append(str(src))
    for ext in extensions:
        sys.modules.setdefault(ext, _extension_stub(ext))
    pkg = types.ModuleType(package)
    pkg.__path__ = [str(src / package)]
    pkg.__ssmspec_source__ = f"sdist {dist}=={version} ({src})"
    sys.modules[package] = pkg
    return pkg.__ssmspec_source__
