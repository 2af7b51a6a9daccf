"""What the loop records: :class:`Trace` and the :class:`Recorder` of one trace point."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..certificates import Certificate
from .engine import Engine


@dataclass
class Trace:
    """What the loop recorded; ``arrays()`` gives numpy arrays (float64, int64)."""

    iteration: list[int] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    objective: list[np.ndarray] = field(default_factory=list)
    gap: list[np.ndarray] = field(default_factory=list)
    kkt: list[np.ndarray] = field(default_factory=list)
    n_zeros: list[np.ndarray] = field(default_factory=list)
    coef: list[np.ndarray] = field(default_factory=list)
    epoch: list[float] = field(default_factory=list)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"iteration": np.asarray(self.iteration, dtype=np.int64),
               "time": np.asarray(self.time, dtype=np.float64)}
        for name in ("objective", "gap", "kkt"):
            out[name] = np.asarray(getattr(self, name), dtype=np.float64)
        out["n_zeros"] = np.asarray(self.n_zeros, dtype=np.int64)
        if self.coef:
            out["coef"] = np.stack(self.coef).astype(np.float64)
        if self.epoch:
            out["epoch"] = np.asarray(self.epoch, dtype=np.float64)
        return out



class Recorder:
    """Appends one trace point: every column, retired ones with their final values."""

    def __init__(self, trace: Trace | None, cols: Any, record_coef: object) -> None:
        self.trace, self.cols, self.record_coef = trace, cols, record_coef
        self.index = None
        if not isinstance(record_coef, bool):
            self.index = torch.as_tensor(np.asarray(record_coef), dtype=torch.long)

    def __call__(self, k: int, elapsed: float, engine: Engine, cert: Certificate) -> None:
        tr, cols = self.trace, self.cols
        w = engine.coef().detach()
        fields = [cert.objective, cert.rel_gap, cert.kkt, (w == 0).sum(0)]
        if cols.batch:
            full = cols.coef.clone()
            full[:, torch.from_numpy(cols.ids).to(w.device)] = w
            w = full
            fields = self._merge(fields)
        tr.iteration.append(k)
        tr.time.append(elapsed)
        if engine.epoch is not None:
            tr.epoch.append(float(engine.epoch))
        values = torch.stack([f.double().reshape(-1) for f in fields]).cpu().numpy()
        for name, v in zip(("objective", "gap", "kkt", "n_zeros"), values, strict=True):
            getattr(tr, name).append(v if cols.batch else v[0])
        if self.record_coef is not False:
            wc = w.to("cpu", copy=True)
            tr.coef.append((wc if self.index is None else wc[self.index]).numpy())

    def _merge(self, fields: list[Tensor]) -> list[Tensor]:
        """Batch fields over all ``K`` columns: live values, retired ones frozen."""
        cols = self.cols
        K = len(cols.status)
        frozen = cols.dev_cert
        sources = [None] * 3 if frozen is None else [frozen[0], frozen[2], frozen[3]]
        out = []
        for i, f in enumerate(fields):
            f = f.reshape(-1).double()
            if i == 3:
                full = (cols.coef == 0).sum(0).double().to(f.device)
            elif sources[i] is not None:
                full = sources[i].double().clone()
            else:
                full = torch.full((K,), math.nan, dtype=torch.float64, device=f.device)
            full[torch.from_numpy(cols.ids).to(f.device)] = f
            out.append(full)
        return out
