"""MNIST MLP training epoch: 784-256-256-10 ReLU, Adam lr 1e-3, batch 128, 50,000 images.

Two cases, one call = one epoch of 391 steps (forward, cross-entropy, backward, Adam step):

* ``loop``: the explicit PyTorch loop over the same pre-cut batches in both frameworks
  (framework compute only);
* ``fit+DataLoader``: deepnum's ``fit`` with a shuffling ``DataLoader``, metrics and the
  history, against PyTorch's explicit loop over shuffled index slices (what the conveniences cost).

Both frameworks start from the same weights and see the same images (real MNIST when a
local copy exists, else random images of the same shape).

Run: ``python benchmarks/bench_mlp.py`` (``--no-memory`` to skip the memory subprocesses).
"""

from __future__ import annotations

import numpy as np

from common import Case, main, training_epoch

BATCH = 128


def _data():
    try:
        from deepnum.datasets import load_mnist

        x, y = load_mnist()["train"]
    except Exception:  # no local MNIST: same shapes, random content
        rng = np.random.default_rng(0)
        x, y = rng.random((50_000, 784), dtype=np.float32), rng.integers(0, 10, 50_000)
    return x, y.astype(np.int64)


def _weights():
    from deepnum.models import MLP

    import deepnum

    deepnum.manual_seed(0)
    return {k: v.numpy().copy() for k, v in MLP(784, (256, 256), 10).state_dict().items()}


def _deepnum_setup():
    import deepnum
    from deepnum import nn, optim
    from deepnum.models import MLP

    model = MLP(784, (256, 256), 10)
    model.load_state_dict(_weights())
    return deepnum, model, optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss()


def make_deepnum_loop():
    deepnum, model, opt, loss_fn = _deepnum_setup()
    x, y = _data()
    order = np.random.default_rng(0).permutation(len(x))
    batches = [(deepnum.from_numpy(x[order[i:i + BATCH]]), deepnum.from_numpy(y[order[i:i + BATCH]]))
               for i in range(0, len(x), BATCH)]
    return training_epoch(model, opt, loss_fn, batches)


def make_deepnum_fit():
    deepnum, model, opt, loss_fn = _deepnum_setup()
    from deepnum.data import DataLoader, TensorDataset
    from deepnum.train import fit

    x, y = _data()
    loader = DataLoader(TensorDataset(deepnum.from_numpy(x), deepnum.from_numpy(y)), batch_size=BATCH, shuffle=True)

    def epoch():
        fit(model, opt, loss_fn, loader, epochs=1, verbose=0)

    return epoch


def _torch_setup():
    import torch

    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in _weights().items()})
    return torch, model, torch.optim.Adam(model.parameters(), lr=1e-3), torch.nn.CrossEntropyLoss()


def make_torch_loop():
    torch, model, opt, loss_fn = _torch_setup()
    x, y = _data()
    order = np.random.default_rng(0).permutation(len(x))
    batches = [(torch.from_numpy(x[order[i:i + BATCH]]), torch.from_numpy(y[order[i:i + BATCH]]))
               for i in range(0, len(x), BATCH)]
    return training_epoch(model, opt, loss_fn, batches)


def make_torch_shuffled():
    torch, model, opt, loss_fn = _torch_setup()
    x, y = (torch.from_numpy(a) for a in _data())

    def epoch():
        order = torch.randperm(len(x))
        for i in range(0, len(x), BATCH):
            idx = order[i:i + BATCH]
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()

    return epoch


CASES = [
    Case("MLP epoch, loop", make_deepnum_loop, make_torch_loop, number=1, unit="s", scale=1.0),
    Case("MLP epoch, fit+loader", make_deepnum_fit, make_torch_shuffled, number=1, unit="s", scale=1.0),
]

if __name__ == "__main__":
    main("MNIST MLP 784-256-256-10 training epoch, Adam, batch 128, 50k images", CASES, __file__, repeats=3)
