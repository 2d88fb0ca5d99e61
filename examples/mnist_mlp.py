"""Train a 784-256-256-10 MLP on MNIST with deepnum, PyTorch style (~98 % test accuracy)."""

import deepnum as torch
from deepnum import nn, optim
from deepnum.data import DataLoader, TensorDataset
from deepnum.datasets import load_mnist
from deepnum.train import EarlyStopping, evaluate, fit

torch.manual_seed(0)
data = {k: TensorDataset(torch.from_numpy(x), torch.from_numpy(y)) for k, (x, y) in load_mnist().items()}
train = DataLoader(data["train"], batch_size=128, shuffle=True)
dev, test = DataLoader(data["val"], batch_size=1000), DataLoader(data["test"], batch_size=1000)

model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
optimizer = optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()

history = fit(model, optimizer, loss_fn, train, epochs=5, val_loader=dev,
              callbacks=[EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)])
print(f"test accuracy {evaluate(model, test, loss_fn)['accuracy']:.2%}")
torch.save(model.state_dict(), "mnist_mlp.dnm")
