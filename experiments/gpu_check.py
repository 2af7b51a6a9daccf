"""One command for every GPU figure (``make gpu-check``): CUDA tests, the benchmark on CUDA with
the large workload, and the CUDA scaling run, each under its own time limit, all within about
8 minutes, into one summary file (``runs/gpu_check/summary.md``, printed at the end).

Steps (each a subprocess; a step that fails or runs out of time is reported, the others run):

1. the CUDA tests: every test whose id names ``cuda`` (they skip cleanly without CUDA);
2. ``experiments/benchmark.py --device cuda --quick --large``: the solvers and paths on the GPU
   against the CPU peers, plus the large workload (n = 100 000, p = 10 000, float32 and
   float64): ms per FISTA/ISTA step as a fraction of the copy bandwidth measured in the run,
   and the time to a relative gap of 1e-6;
3. ``experiments/scaling.py --device cuda --worlds 1``: the row-sharded step under nccl.

Without CUDA it says so and exits 0 after writing the summary (nothing to measure).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "runs" / "gpu_check"
STEPS = [  # name, command, seconds allowed
    ("CUDA tests", [sys.executable, "-m", "pytest", "-q", "-rs", "-k", "cuda", "tests"], 150),
    ("benchmark on CUDA (quick + large)",
     [sys.executable, "experiments/benchmark.py", "--device", "cuda", "--quick", "--large",
      "--out", str(OUT / "benchmark")], 240),
    ("scaling on CUDA (nccl)",
     [sys.executable, "experiments/scaling.py", "--device", "cuda", "--worlds", "1",
      "--out", str(OUT / "scaling")], 60),
]


def run_step(name: str, cmd: list[str], limit: int) -> str:
    t0 = time.perf_counter()
    try:
        res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=limit)
        status = "ok" if res.returncode == 0 else f"exit {res.returncode}"
        output = res.stdout + res.stderr
    except subprocess.TimeoutExpired as e:
        status = f"timed out after {limit} s"
        output = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) \
            else (e.stdout or "")
    tail = "\n".join(output.strip().splitlines()[-60:])
    took = time.perf_counter() - t0
    print(f"{name}: {status} ({took:.0f} s)", flush=True)
    return f"## {name}: {status} ({took:.0f} s)\n\n```\n{tail}\n```\n"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    head = f"# GPU check, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n"
    if not torch.cuda.is_available():
        text = head + "No CUDA device here: nothing measured.\n"
    else:
        props = torch.cuda.get_device_properties(0)
        head += (f"Device: {props.name}, {props.total_memory / 2**30:.0f} GiB, torch "
                 f"{torch.__version__}, CUDA {torch.version.cuda}\n\n")
        text = head + "\n".join(run_step(*s) for s in STEPS)
        for md in sorted((OUT / "benchmark").glob("*.md")):
            text += f"\n## {md.name}\n\n" + md.read_text()
    (OUT / "summary.md").write_text(text)
    print(text)
    print(f"summary: {OUT / 'summary.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
