"""PyTorch side of tools/bench/e2e-cil.ts: the same class-incremental protocol, end to end.

    python3 tools/bench/pytorch/e2e_cil.py --data DIR --model resnet20 --threads 2 [--epochs 1]

Reads CIFAR-10 in its binary format from DIR/cifar-10-batches-bin (data_batch_1..5.bin,
test_batch.bin), splits the classes into tasks of --increment classes (0,1 | 2,3 | ...), and for
each task: fine-tunes the network (one 10-way head, SGD momentum 0.9, weight decay 5e-4,
constant lr) for --epochs on that task's images with random crop (pad 4) + horizontal flip and
per-channel normalisation, saves a checkpoint (model + optimizer), then evaluates on the test
images of every class seen so far, task by task. Prints one JSON line: wall seconds (inside
the process, from before reading the data), per-task train / eval seconds, accuracies, peak RSS.
"""
import argparse
import json
import os
import resource
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import create  # noqa: E402

MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
STD = torch.tensor([0.247, 0.2435, 0.2616]).view(1, 3, 1, 1)


def read_batches(paths):
    raw = np.concatenate([np.fromfile(p, dtype=np.uint8).reshape(-1, 3073) for p in paths])
    labels = torch.from_numpy(raw[:, 0].astype(np.int64))
    images = torch.from_numpy(raw[:, 1:].reshape(-1, 3, 32, 32).copy())
    return images, labels


def augment(x_uint8, gen):
    """Random crop with 4 pixels of zero padding, then a random horizontal flip, per image."""
    n = x_uint8.shape[0]
    x = (x_uint8.float() / 255.0 - MEAN) / STD
    padded = F.pad(x, (4, 4, 4, 4))
    ox = torch.randint(0, 9, (n,), generator=gen)
    oy = torch.randint(0, 9, (n,), generator=gen)
    flip = torch.rand(n, generator=gen) < 0.5
    out = torch.empty_like(x)
    for i in range(n):
        crop = padded[i, :, oy[i] : oy[i] + 32, ox[i] : ox[i] + 32]
        out[i] = crop.flip(2) if flip[i] else crop
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--model", default="resnet20")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--increment", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--eval-batch", type=int, default=500)
    a = p.parse_args()
    t0 = time.perf_counter()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    gen = torch.Generator().manual_seed(1)
    folder = os.path.join(a.data, "cifar-10-batches-bin")
    xtr, ytr = read_batches([os.path.join(folder, f"data_batch_{b}.bin") for b in range(1, 6)])
    xte, yte = read_batches([os.path.join(folder, "test_batch.bin")])
    classes = 10
    tasks = [list(range(c, min(c + a.increment, classes))) for c in range(0, classes, a.increment)]
    model = create(a.model, classes, shortcut="identity")
    ckpt_dir = tempfile.mkdtemp(prefix="e2e-cil-torch-")
    train_s, eval_s, acc_rows = [], [], []
    for t, cls in enumerate(tasks):
        t1 = time.perf_counter()
        idx = torch.nonzero(torch.isin(ytr, torch.tensor(cls))).flatten()
        opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9, weight_decay=5e-4)
        model.train()
        for _ in range(a.epochs):
            perm = idx[torch.randperm(len(idx), generator=gen)]
            for s in range(0, len(perm), a.batch):
                b = perm[s : s + a.batch]
                x = augment(xtr[b], gen)
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(model(x), ytr[b])
                loss.backward()
                opt.step()
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, os.path.join(ckpt_dir, "last.pt"))
        train_s.append(time.perf_counter() - t1)
        t2 = time.perf_counter()
        model.eval()
        row = []
        with torch.inference_mode():
            for seen in tasks[: t + 1]:
                tidx = torch.nonzero(torch.isin(yte, torch.tensor(seen))).flatten()
                correct = 0
                for s in range(0, len(tidx), a.eval_batch):
                    b = tidx[s : s + a.eval_batch]
                    x = (xte[b].float() / 255.0 - MEAN) / STD
                    correct += int((model(x).argmax(1) == yte[b]).sum())
                row.append(correct / max(1, len(tidx)))
        acc_rows.append(row)
        eval_s.append(time.perf_counter() - t2)
    print(json.dumps({
        "framework": "pytorch",
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "model": a.model,
        "trainImages": int(len(ytr)),
        "testImages": int(len(yte)),
        "innerSeconds": round(time.perf_counter() - t0, 2),
        "trainSeconds": [round(v, 2) for v in train_s],
        "evalSeconds": [round(v, 2) for v in eval_s],
        "accuracy": acc_rows,
        "peakRssMB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


if __name__ == "__main__":
    main()
