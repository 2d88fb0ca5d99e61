"""The programs in examples/pytorch_compat run unchanged under deepnum and under PyTorch.

Each program's text imports deepnum under PyTorch's names. Run once as written, and once
with ``deepnum`` (and its submodules) bound to ``torch``, it must learn about as well both
times: both runs pass the same threshold, set without reference to any seed's outcome.
The random streams differ between the libraries, so the numbers are not identical.
"""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "pytorch_compat"

_RUNNER = r"""
import json, runpy, sys
backend, path, argv = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
if backend == "torch":
    import torch, torch.nn, torch.nn.functional, torch.optim, torch.optim.lr_scheduler
    import torch.utils, torch.utils.data, torch.distributions, torch.utils.tensorboard
    torch.set_num_threads(1)
    for name, module in {"deepnum": torch, "deepnum.nn": torch.nn, "deepnum.nn.functional": torch.nn.functional,
                         "deepnum.optim": torch.optim, "deepnum.optim.lr_scheduler": torch.optim.lr_scheduler,
                         "deepnum.utils": torch.utils, "deepnum.utils.data": torch.utils.data,
                         "deepnum.distributions": torch.distributions,
                         "deepnum.utils.tensorboard": torch.utils.tensorboard}.items():
        sys.modules[name] = module
namespace = runpy.run_path(path, run_name="example")  # the main guard keeps it from running
result = namespace["main"](argv)
print("RESULT " + json.dumps(result))
"""


def run_example(name: str, backend: str, argv: list) -> dict:
    """Run ``examples/pytorch_compat/<name>.py``'s ``main(argv)`` in a fresh interpreter."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [
            sys.executable,
            "-W",
            "error::RuntimeWarning",
            "-c",
            _RUNNER,
            backend,
            str(EXAMPLES / f"{name}.py"),
            json.dumps(argv),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(ROOT),
        timeout=600,
    )
    assert proc.returncode == 0, (
        f"{name} under {backend} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    )
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT ") :])


PROGRAMS = sorted(p.stem for p in EXAMPLES.glob("*.py"))


def test_every_program_has_a_quick_run():
    assert (
        {"regression", "image_classifier", "char_lstm", "reinforce", "vae"}
        <= set(PROGRAMS)
        == set(QUICK)
    )


@pytest.mark.parametrize("name", PROGRAMS)
def test_programs_are_written_for_pytorch(name):
    """Only PyTorch's module names are imported from deepnum, and the program has a main guard."""
    tree = ast.parse((EXAMPLES / f"{name}.py").read_text())
    torch_names = {
        "deepnum",
        "deepnum.nn",
        "deepnum.nn.functional",
        "deepnum.optim",
        "deepnum.optim.lr_scheduler",
        "deepnum.utils.data",
        "deepnum.distributions",
        "deepnum.utils.tensorboard",
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("deepnum"):
                    assert alias.name in torch_names, alias.name
                    expected = {
                        "deepnum": "torch",
                        "deepnum.nn": "nn",
                        "deepnum.nn.functional": "F",
                        "deepnum.optim": "optim",
                    }
                    assert alias.asname == expected.get(alias.name, alias.asname), (
                        alias.name,
                        alias.asname,
                    )
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("deepnum"):
            assert node.module in torch_names, node.module
    guard = [n for n in tree.body if isinstance(n, ast.If) and "__main__" in ast.unparse(n.test)]
    assert guard, f"{name}.py has no `if __name__ == '__main__':` guard"


# name -> (quick argv, check on the returned metrics): the same check for both libraries
QUICK = {
    "regression": (["--epochs", "40"], lambda r: r["val_loss"] < 0.01),  # noise variance is 0.0025
    "image_classifier": (
        ["--epochs", "3", "--log-interval", "1000"],
        lambda r: r["accuracy"] > 0.8,
    ),
    "char_lstm": (["--epochs", "60"], lambda r: r["train_loss"] < 0.5 * r["unigram_entropy"]),
    "reinforce": (
        ["--episodes", "150"],
        lambda r: r["greedy_return"] > r["best"] - 0.05 and r["running_reward"] > 0.7,
    ),
    "vae": (["--epochs", "15"], lambda r: r["test_loss"] < 0.75 * r["baseline"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(QUICK))
def test_program_learns_like_under_pytorch(name):
    argv, check = QUICK[name]
    ours = run_example(name, "deepnum", argv)
    theirs = run_example(name, "torch", argv)
    assert check(theirs), f"the threshold is wrong: PyTorch itself gets {theirs}"
    assert check(ours), f"{name}: deepnum gets {ours}, PyTorch {theirs}"
    print(f"{name}: deepnum {ours} | PyTorch {theirs}")


def _logged(logdir: Path) -> dict:
    """tag -> steps of the scalars and histograms in a TensorBoard log folder (TensorBoard's reader)."""
    accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator"
    ).EventAccumulator(str(logdir))
    accumulator.Reload()
    tags = accumulator.Tags()
    logged = {tag: [e.step for e in accumulator.Scalars(tag)] for tag in tags["scalars"]}
    logged.update({tag: [e.step for e in accumulator.Histograms(tag)] for tag in tags["histograms"]})
    return logged


def test_tensorboard_logs_are_the_same_under_both_libraries(tmp_path):
    """``SummaryWriter`` in a PyTorch program: the same tags at the same steps, read back by
    TensorBoard itself, whichever library wrote them."""
    argv = ["--epochs", "2", "--n-train", "256", "--n-test", "100", "--log-interval", "2"]
    logs = {}
    for backend in ("deepnum", "torch"):
        run_example("image_classifier", backend, argv + ["--logdir", str(tmp_path / backend)])
        logs[backend] = _logged(tmp_path / backend)
    assert set(logs["deepnum"]) == {"loss/train", "loss/test", "accuracy/test", "fc2.weight"}
    assert logs["deepnum"] == logs["torch"]
    assert logs["deepnum"]["loss/test"] == [1, 2]
