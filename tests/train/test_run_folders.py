"""Building runs from configurations: schedules follow their formulas, optimisers are PyTorch's."""

import pytest

from deepnum.datasets import DATASETS
from deepnum.optim import lr_scheduler
from deepnum.train.runs import RunConfig, build_model, build_optimizer, build_schedule, check_writable, image_shape


def lrs(schedule, epochs=4, lr=0.1):
    config = RunConfig(dataset="moons", hidden=[4], schedule=schedule, epochs=epochs, lr=lr)
    model = build_model(config, DATASETS["moons"])
    opt = build_optimizer(config, model)
    callback = build_schedule(config, opt)
    rates = []
    for _ in range(epochs):
        rates.append(opt.param_groups[0]["lr"])
        callback.schedule.step()
    return rates


def test_schedules_follow_their_formulas():
    assert lrs("exponential") == pytest.approx([0.1 * 0.95**e for e in range(4)])  # 000 §7.3
    assert lrs("inverse-time") == pytest.approx([0.1 / (1 + e) for e in range(4)])  # 000 §7.3
    assert lrs("step", epochs=6) == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    assert lrs("cosine")[0] == pytest.approx(0.1) and lrs("cosine")[2] == pytest.approx(0.05)


@pytest.mark.skipif(not hasattr(lr_scheduler, "ReduceLROnPlateau"), reason="no ReduceLROnPlateau yet")
def test_plateau_schedule_builds():
    config = RunConfig(dataset="moons", hidden=[4], schedule="plateau")
    opt = build_optimizer(config, build_model(config, DATASETS["moons"]))
    assert build_schedule(config, opt) is not None


@pytest.mark.parametrize("name,cls", [("sgd", "SGD"), ("adam", "Adam"), ("adamw", "AdamW"), ("rmsprop", "RMSprop"),
                                      ("adagrad", "Adagrad")])
def test_optimizers(name, cls):
    config = RunConfig(dataset="moons", hidden=[4], optimizer=name, weight_decay=0.01, momentum=0.9)
    opt = build_optimizer(config, build_model(config, DATASETS["moons"]))
    assert type(opt).__name__ == cls and opt.param_groups[0]["weight_decay"] == 0.01


def test_mnist_images_and_writable_check(tmp_path):
    assert image_shape(DATASETS["mnist"]) == (28, 28) and image_shape(DATASETS["moons"]) is None
    assert check_writable(tmp_path / "a" / "b").is_dir()
    (tmp_path / "f").write_text("")
    with pytest.raises(PermissionError, match="cannot write to the output folder"):
        check_writable(tmp_path / "f" / "run")
