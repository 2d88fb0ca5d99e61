"""Transfer learning (002): features learned on digits 0-4 help classify 5-9 from few examples.

1. Pre-train a LeNet on MNIST digits 0-4.
2. Freeze its convolutional features (``requires_grad_(False)``), replace the head by a new
   ``Linear(84, 5)`` and fine-tune on ``--shots`` examples per digit 5-9.
3. Train an identical LeNet from scratch on the same few examples, for the same steps.
Both are scored on all test images of digits 5-9.

Run: ``python examples/transfer_learning.py [--shots 10] [--pretrain-epochs 1]``
"""

from __future__ import annotations

import argparse

import numpy as np

import deepnum
from deepnum import nn, optim
from deepnum.data import DataLoader, TensorDataset
from deepnum.datasets.mnist import load_mnist
from deepnum.models import LeNet


def loader(x, y, batch_size, shuffle=False):
    return DataLoader(
        TensorDataset(deepnum.from_numpy(x), deepnum.from_numpy(y)),
        batch_size=batch_size,
        shuffle=shuffle,
    )


def train(model, batches, epochs, lr):
    opt = optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        for xb, yb in batches:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()


def accuracy(model, batches):
    model.eval()
    with deepnum.no_grad():
        hits = sum((model(xb).argmax(1) == yb).sum().item() for xb, yb in batches)
    return hits / sum(len(yb) for _, yb in batches)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=10, help="training examples per digit 5-9")
    parser.add_argument("--pretrain-epochs", type=int, default=1)
    parser.add_argument("--finetune-epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    deepnum.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    data = load_mnist(flatten=False)
    (x, y), (xt, yt) = data["train"], data["test"]

    low = y < 5
    source = LeNet(num_classes=5)
    train(source, loader(x[low], y[low], 128, shuffle=True), args.pretrain_epochs, 2e-3)
    print(
        "pre-trained on digits 0-4: test accuracy "
        f"{accuracy(source, loader(xt[yt < 5], yt[yt < 5], 1000)):.3f}"
    )

    few = np.concatenate(
        [rng.choice(np.flatnonzero(y == d), args.shots, replace=False) for d in range(5, 10)]
    )
    few_batches = list(loader(x[few], y[few] - 5, 25, shuffle=True))
    test = loader(xt[yt >= 5], yt[yt >= 5] - 5, 1000)

    source.features.requires_grad_(False)  # keep the learned filters
    source.classifier[-1] = nn.Linear(84, 5)  # a new head for the new classes
    train(source, few_batches, args.finetune_epochs, 1e-3)
    scratch = LeNet(num_classes=5)
    train(scratch, few_batches, args.finetune_epochs, 1e-3)

    transfer_acc, scratch_acc = accuracy(source, test), accuracy(scratch, test)
    print(
        f"digits 5-9 from {args.shots} examples each: transfer {transfer_acc:.3f}, "
        f"from scratch {scratch_acc:.3f}"
    )
    return transfer_acc, scratch_acc


if __name__ == "__main__":
    main()
