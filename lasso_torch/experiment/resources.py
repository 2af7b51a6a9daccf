"""Memory before allocating: a run's data and the solvers' workspace estimated from the
config (and an ``.npz``'s array headers), compared with the memory this process may use,
and refused in one line when it does not fit, before anything is generated or read.

The estimate, in bytes, for ``n`` rows (this process's share of them) and ``p`` features:

* data: the float64 copy every run keeps (``8 n p``), a second one while synthetic data
  are generated block by block and joined, or while standardizing; the solvers' copy when
  the config's dtype or device differs (``4 n p`` for float32);
* workspace: a Gram matrix ``8 p^2`` where a solver may form one (p <= 5000), and eight
  float64 vectors of length ``n`` and ``p`` (the solvers run one after another).

Available: ``MemAvailable`` of ``/proc/meminfo``, or a cgroup's ``memory.max`` if lower
(the container's limit); None where neither can be read (then nothing is refused).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .config import Config, CsvData, NpzData, SyntheticData

GRAM_P = 5000  # the largest p for which a solver may form the p x p Gram matrix
SLOW_BYTES = 1 << 30  # data this large: loading announces itself and its duration
DIABETES = (442, 10)


def shape(config: Config, world: int = 1) -> tuple[int, int] | None:
    """``(rows of this process, p)`` of the configured data, without reading it; None
    where it cannot be told cheaply (CSV)."""
    d = config.data
    if isinstance(d, SyntheticData):
        n, p = d.n, d.p
    elif isinstance(d, NpzData):
        n_p = _npz_shape(Path(d.path), d.features)
        if n_p is None:
            return None
        n, p = n_p
    elif isinstance(d, CsvData):
        return None
    else:
        n, p = DIABETES
    return -(-n // world), p


def _npz_shape(path: Path, features: str) -> tuple[int, int] | None:
    """The ``(n, p)`` of an ``.npz``'s feature array from its ``.npy`` header alone."""
    import zipfile

    import numpy as np

    try:
        with zipfile.ZipFile(path) as z, z.open(features + ".npy") as m:
            fmt = np.lib.format
            read = (fmt.read_array_header_1_0 if fmt.read_magic(m) == (1, 0)
                    else fmt.read_array_header_2_0)
            dims = read(m)[0]
    except Exception:  # noqa: BLE001 (a damaged file: loading it says why)
        return None
    return (int(dims[0]), int(dims[1])) if len(dims) == 2 else None


def estimate(config: Config, n: int, p: int) -> tuple[int, int]:
    """``(data bytes, workspace bytes)`` for ``n`` rows and ``p`` features (module doc)."""
    np_ = n * p
    data = 8 * np_
    if isinstance(config.data, SyntheticData) or config.objective.standardize:
        data += 8 * np_  # the blocks and their concatenation, or the standardized copy
    if config.dtype != "float64" or config.device not in ("cpu", "auto"):
        data += (4 if config.dtype == "float32" else 8) * np_
    workspace = (8 * p * p if p <= GRAM_P else 0) + 8 * 8 * (n + p)  # solvers run in turn
    return data, workspace


def available() -> int | None:
    """Bytes this process may still allocate (module doc), None if unknown."""
    values = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                values.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        if limit != "max":
            values.append(int(limit) - used)
    except (OSError, ValueError):
        pass
    return min(values) if values else None


def gb(x: float) -> str:
    return f"{x / 1e9:.3g} GB" if x >= 1e8 else f"{x / 1e6:.3g} MB"


def check_memory(config: Config, world: int = 1, free: int | None = None) -> int | None:
    """Refuse (one :class:`InputError` naming the estimate and the available memory) a
    run whose data and workspace do not fit; return the estimate (None if unknown).
    ``free``: the available bytes (default :func:`available`)."""
    dims = shape(config, world)
    if dims is None:
        return None
    n, p = dims
    data, work = estimate(config, n, p)
    free = available() if free is None else free
    if free is not None and data + work > free:
        per = " per process" if world > 1 else ""
        raise InputError(f"data n={n:,} x p={p:,} needs about {gb(data + work)}{per} (data "
                         f"{gb(data)}, solver workspace {gb(work)}), more than the "
                         f"{gb(free)} of memory available; lower data.n or data.p")
    return data + work


__all__ = ["SLOW_BYTES", "available", "check_memory", "estimate", "gb", "shape"]
