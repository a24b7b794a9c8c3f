"""PyTorch side of tools/bench/throughput.ts: one model, training step and eval forward.

    python3 tools/bench/pytorch/throughput.py --model resnet20 --threads 2 --seconds 4

Prints one JSON line with img/s for both, peak RSS and the load average before/after, in the
same shape as the Mnemo child's row. Workload = the Mnemo one: batch 64, 32x32x3, 100 classes,
SGD with momentum 0.9 and lr 0.01, softmax cross-entropy; forward = eval mode, no autograd.
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import create  # noqa: E402


def time_loop(fn, warmup: int, min_steps: int, seconds: float):
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    c0 = time.process_time()
    steps = 0
    while steps < min_steps or time.perf_counter() - t0 < seconds:
        fn()
        steps += 1
    wall = (time.perf_counter() - t0) / steps
    return wall, steps, (time.process_time() - c0) / steps


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=4)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--classes", type=int, default=100)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = create(a.model, a.classes)
    x = torch.randn(a.batch, 3, 32, 32)
    y = torch.randint(0, a.classes, (a.batch,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def train_step():
        model.train()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        loss.item()

    def forward():
        model.eval()
        with torch.inference_mode():
            model(x).sum().item()

    load0 = os.getloadavg()[0]
    train_s, steps, train_cpu = time_loop(train_step, 3, 5, a.seconds)
    fwd_s, _, _ = time_loop(forward, 3, 10, a.seconds)
    r = lambda v: round(v * 10) / 10  # noqa: E731
    print(json.dumps({
        "framework": "pytorch",
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "model": a.model,
        "trainImgPerSec": r(a.batch / train_s),
        "forwardImgPerSec": r(a.batch / fwd_s),
        "trainStepMs": r(train_s * 1000),
        "peakRssMB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "steps": steps,
        "trainCpuMsPerStep": r(train_cpu * 1000),
        "loadAvg": [r(load0), r(os.getloadavg()[0])],
    }))


if __name__ == "__main__":
    main()
