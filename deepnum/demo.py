"""``make demo``: train a 784-256-256-10 ReLU MLP on real MNIST to ~98 % test accuracy.

    python -m deepnum.demo [--epochs 6] [--out runs/demo-mnist-mlp]

Adam (lr 1e-3, halved every two epochs), mini-batches of 128, 50,000 training images, the
10,000 dev images evaluated after every epoch, then the 10,000 test images once at the end.
Writes the model (``deepnum.save``), a resumable checkpoint, the history and the learning
curves to the output folder, and prints the test accuracy and where the files are.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import deepnum
from deepnum import nn, optim
from deepnum.data import DataLoader, TensorDataset
from deepnum.datasets import DatasetFileError, load_mnist
from deepnum.models import MLP
from deepnum.train import CSVLogger, LearningRateScheduler, ModelCheckpoint, evaluate, fit, plots
from deepnum.train.checkpoint import atomic_save
from deepnum.train.runs import check_writable


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deepnum.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=6, help="epochs to train (default 6)")
    parser.add_argument("--out", default="runs/demo-mnist-mlp", help="output folder (default runs/demo-mnist-mlp)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)

    try:
        data = load_mnist()
        out = check_writable(args.out)
    except (DatasetFileError, PermissionError) as err:
        print(f"demo: error: {err}", file=sys.stderr)
        return 1

    def loader(split, **kwargs):
        x, y = data[split]
        return DataLoader(TensorDataset(deepnum.from_numpy(x), deepnum.from_numpy(y)), **kwargs)

    deepnum.manual_seed(args.seed)
    train = loader("train", batch_size=128, shuffle=True)
    dev, test = loader("val", batch_size=1000), loader("test", batch_size=1000)
    model = MLP(784, (256, 256), 10)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    schedule = LearningRateScheduler(optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5))
    print(f"deepnum demo: {model.in_features}-256-256-10 MLP on MNIST, "
          f"{len(data['train'][0])} train / {len(data['val'][0])} dev / {len(data['test'][0])} test images")

    start = time.perf_counter()
    history = fit(model, optimizer, nn.CrossEntropyLoss(), train, epochs=args.epochs, val_loader=dev,
                  callbacks=[schedule, CSVLogger(out / "history.csv"), ModelCheckpoint(out / "checkpoint.dnm")])
    seconds = time.perf_counter() - start

    result = evaluate(model, test, nn.CrossEntropyLoss(), ["accuracy"])
    atomic_save(model.state_dict(), out / "model.dnm")
    files = [out / "model.dnm", out / "checkpoint.dnm", out / "history.csv"]
    if plots.available():
        files.append(plots.plot_history(history, out / "learning_curves.png", title="MLP on MNIST"))
    else:
        print("(matplotlib is not installed: no learning-curve plot; pip install 'deepnum[plot]')")
    print(f"\ntest accuracy {result['accuracy']:.2%} (test loss {result['loss']:.4f}) "
          f"after {len(history.epoch)} epochs in {seconds:.0f} s")
    print("files:\n" + "\n".join(f"  {f}" for f in files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
