"""Polynomial regression with SGD, written exactly as for PyTorch.

Fits y = w1 x + w2 x^2 + w3 x^3 + w4 x^4 + b (random true coefficients) with one nn.Linear
layer on the features (x, x^2, x^3, x^4), mini-batches from a DataLoader and SGD with
momentum. The same text runs under PyTorch by writing ``import torch`` instead.

    python examples/pytorch_compat/regression.py --epochs 60
"""

import argparse

import deepnum as torch
import deepnum.nn as nn
import deepnum.nn.functional as F
import deepnum.optim as optim
from deepnum.utils.data import DataLoader, TensorDataset, random_split

POLY_DEGREE = 4


def make_features(x):
    """Builds features i.e. a matrix with columns [x, x^2, x^3, x^4]."""
    x = x.unsqueeze(1)
    return torch.cat([x**i for i in range(1, POLY_DEGREE + 1)], 1)


def poly_desc(W, b):
    """Creates a string description of a polynomial."""
    result = "y = "
    for i, w in enumerate(W):
        result += "{:+.2f} x^{} ".format(w, i + 1)
    result += "{:+.2f}".format(b[0])
    return result


def get_data(n, W_target, b_target, generator):
    x = torch.rand(n, generator=generator) * 2 - 1
    features = make_features(x)
    noise = 0.05 * torch.randn(n, 1, generator=generator)
    return features, features.mm(W_target) + b_target.item() + noise


def main(argv=None):
    parser = argparse.ArgumentParser(description="Polynomial regression")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed)
    W_target = torch.randn(POLY_DEGREE, 1, generator=g) * 3
    b_target = torch.randn(1, generator=g) * 3
    features, y = get_data(args.n, W_target, b_target, g)
    train_set, val_set = random_split(TensorDataset(features, y), [0.8, 0.2], generator=g)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=256)

    model = nn.Linear(W_target.size(0), 1)
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=max(1, args.epochs // 3), gamma=0.5)

    for epoch in range(1, args.epochs + 1):
        model.train()
        for batch_x, batch_y in train_loader:
            optimizer.zero_grad()
            loss = F.mse_loss(model(batch_x), batch_y)
            loss.backward()
            optimizer.step()
        scheduler.step()

        model.eval()
        val_loss, count = 0.0, 0
        with torch.no_grad():
            for batch_x, batch_y in val_loader:
                val_loss += F.mse_loss(model(batch_x), batch_y, reduction="sum").item()
                count += batch_y.size(0)
        val_loss /= count
        if epoch % max(1, args.epochs // 5) == 0 or epoch == args.epochs:
            print(f"epoch {epoch:3d}  train batch loss {loss:.5f}  val loss {val_loss:.5f}")

    print("==> Learned function:\t" + poly_desc(model.weight.view(-1), model.bias))
    print("==> Actual function:\t" + poly_desc(W_target.view(-1), b_target))
    return {"val_loss": val_loss}


if __name__ == "__main__":
    main()
