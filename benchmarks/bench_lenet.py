"""LeNet training epoch: 10,000 MNIST-sized images, batch 64, SGD with momentum.

conv(1→6, 5×5, pad 2) → ReLU → max-pool 2 → conv(6→16, 5×5) → ReLU → max-pool 2 →
120 → 84 → 10, cross-entropy; one call = one epoch of 157 steps (forward, backward,
optimiser step). Both frameworks get the same random images and labels and the same
initial weights. The model is ``deepnum.models.LeNet``; the PyTorch twin has the same layers.

Run: ``python benchmarks/bench_lenet.py`` (``--no-memory`` to skip the memory subprocesses).
On shared cores the figures depend on threading: PyTorch's OpenMP threads spin after each
parallel region (``OMP_WAIT_POLICY=PASSIVE`` stops that) and slow down whatever runs next;
``OPENBLAS_NUM_THREADS=1`` shows deepnum without multi-threaded BLAS in its dense layers.
"""

from __future__ import annotations

import numpy as np

from common import Case, main, training_epoch

N, BATCH = 10_000, 64


def _data():
    rng = np.random.default_rng(0)
    return rng.random((N, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, N)


def torch_lenet():
    import torch.nn as tnn

    return tnn.Sequential(
        tnn.Sequential(
            tnn.Conv2d(1, 6, 5, padding=2),
            tnn.ReLU(),
            tnn.MaxPool2d(2),
            tnn.Conv2d(6, 16, 5),
            tnn.ReLU(),
            tnn.MaxPool2d(2),
        ),
        tnn.Sequential(
            tnn.Flatten(),
            tnn.Linear(400, 120),
            tnn.ReLU(),
            tnn.Linear(120, 84),
            tnn.ReLU(),
            tnn.Linear(84, 10),
        ),
    )


def make_deepnum():
    import deepnum
    from deepnum import nn, optim
    from deepnum.models import LeNet

    deepnum.manual_seed(0)
    x, y = _data()
    model = LeNet()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    batches = [
        (deepnum.tensor(x[i : i + BATCH]), deepnum.tensor(y[i : i + BATCH]))
        for i in range(0, N, BATCH)
    ]
    return training_epoch(model, opt, loss_fn, batches)


def make_torch():
    import torch

    torch.manual_seed(0)
    x, y = _data()
    model = torch_lenet()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    batches = [
        (torch.from_numpy(x[i : i + BATCH]), torch.from_numpy(y[i : i + BATCH]))
        for i in range(0, N, BATCH)
    ]
    return training_epoch(model, opt, loss_fn, batches)


CASES = [Case("LeNet epoch (10k, b64)", make_deepnum, make_torch, number=1, unit="s", scale=1.0)]

if __name__ == "__main__":
    main("LeNet training epoch, 10k images, batch 64", CASES, __file__, repeats=5)
