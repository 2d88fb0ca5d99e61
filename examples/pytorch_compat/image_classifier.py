"""A small CNN image classifier, written exactly as PyTorch's MNIST example.

The images are a synthetic stand-in for MNIST that needs no download: ten classes, each a
fixed random 16x16 stroke pattern, seen shifted by up to one pixel under heavy noise.
Train/test loops, Adadelta with StepLR, log_softmax + nll_loss and the accuracy idiom
``pred.eq(target.view_as(pred)).sum().item()`` are those of pytorch/examples/mnist; the
device line picks the CPU when there is no GPU. With ``--logdir`` it logs losses, accuracy and
a weight histogram for TensorBoard through ``torch.utils.tensorboard.SummaryWriter``.

    python examples/pytorch_compat/image_classifier.py --epochs 3 --logdir runs/patterns
"""

import argparse

import deepnum as torch
import deepnum.nn as nn
import deepnum.nn.functional as F
import deepnum.optim as optim
from deepnum.optim.lr_scheduler import StepLR
from deepnum.utils.data import DataLoader, Dataset


class NoisyPatterns(Dataset):
    """``n`` images (1, 16, 16) of ten classes: a class template, shifted, plus noise."""

    def __init__(self, n, seed, noise=0.6):
        templates_gen = torch.Generator().manual_seed(1234)  # the same classes for every split
        templates = (torch.rand(10, 1, 16, 16, generator=templates_gen) > 0.7).float()
        g = torch.Generator().manual_seed(seed)
        self.targets = torch.randint(0, 10, (n,), generator=g)
        images = templates[self.targets]
        shifts = torch.randint(-1, 2, (n, 2), generator=g)
        for i in range(n):
            images[i] = torch.roll(
                images[i], shifts=(int(shifts[i, 0]), int(shifts[i, 1])), dims=(1, 2)
            )
        self.data = (images + noise * torch.randn(n, 1, 16, 16, generator=g) - 0.3) / 0.6

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        return self.data[index], self.targets[index]


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1)
        self.conv2 = nn.Conv2d(16, 32, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(32 * 6 * 6, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(args, model, device, train_loader, optimizer, epoch, writer=None):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print(
                "Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}".format(
                    epoch,
                    batch_idx * len(data),
                    len(train_loader.dataset),
                    100.0 * batch_idx / len(train_loader),
                    loss.item(),
                )
            )
            if writer is not None:
                step = (epoch - 1) * len(train_loader) + batch_idx
                writer.add_scalar("loss/train", loss.item(), step)


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)
    accuracy = correct / len(test_loader.dataset)
    print(
        "\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n".format(
            test_loss, correct, len(test_loader.dataset), 100.0 * accuracy
        )
    )
    return test_loss, accuracy


def main(argv=None):
    parser = argparse.ArgumentParser(description="Synthetic-MNIST CNN")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--test-batch-size", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--n-train", type=int, default=3000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--gamma", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-interval", type=int, default=20)
    parser.add_argument("--save-model", action="store_true")
    parser.add_argument("--logdir", help="write TensorBoard logs there")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    train_loader = DataLoader(
        NoisyPatterns(args.n_train, seed=args.seed), batch_size=args.batch_size, shuffle=True
    )
    test_loader = DataLoader(
        NoisyPatterns(args.n_test, seed=args.seed + 1000), batch_size=args.test_batch_size
    )

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    writer = None
    if args.logdir:
        from deepnum.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(args.logdir)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch, writer)
        test_loss, accuracy = test(model, device, test_loader)
        if writer is not None:
            writer.add_scalar("loss/test", test_loss, epoch)
            writer.add_scalar("accuracy/test", accuracy, epoch)
            writer.add_histogram("fc2.weight", model.fc2.weight, epoch)
        scheduler.step()
    if writer is not None:
        writer.close()

    if args.save_model:
        torch.save(model.state_dict(), "pattern_cnn.pt")
    return {"test_loss": test_loss, "accuracy": accuracy}


if __name__ == "__main__":
    main()
