"""A variational autoencoder, written exactly as for PyTorch (after pytorch/examples/vae).

The data are 8x8 binary images with no download: each is a random set of whole rows and
columns switched on (every pixel then flipped with probability 0.02), so 16 hidden bits
explain 64 pixels. The encoder gives ``mu, logvar``; the latent code is drawn with
``Normal(mu, std).rsample()`` so gradients flow through the draw; the loss is the
Bernoulli reconstruction term plus the KL divergence to N(0, I).

    python examples/pytorch_compat/vae.py --epochs 20
"""

import argparse

import deepnum as torch
import deepnum.nn as nn
import deepnum.nn.functional as F
import deepnum.optim as optim
from deepnum.distributions import Normal
from deepnum.utils.data import DataLoader, TensorDataset


def make_bars(n, generator):
    rows = (torch.rand(n, 8, 1, generator=generator) < 0.2).float()
    cols = (torch.rand(n, 1, 8, generator=generator) < 0.2).float()
    images = torch.clamp(rows + cols, max=1.0)
    flip = (torch.rand(n, 8, 8, generator=generator) < 0.02).float()
    return (images + flip - 2 * images * flip).view(n, 64)


class VAE(nn.Module):
    def __init__(self, latent=8):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(64, 128)
        self.fc21 = nn.Linear(128, latent)
        self.fc22 = nn.Linear(128, latent)
        self.fc3 = nn.Linear(latent, 128)
        self.fc4 = nn.Linear(128, 64)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        return Normal(mu, std).rsample()

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 64))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


# Reconstruction + KL divergence losses summed over all elements and batch
def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 64), reduction="sum")
    # see Appendix B from VAE paper: Kingma and Welling. Auto-Encoding Variational Bayes. ICLR, 2014
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def main(argv=None):
    parser = argparse.ArgumentParser(description="VAE on binary bar images")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-interval", type=int, default=5)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    g = torch.Generator().manual_seed(args.seed)
    train_x, test_x = make_bars(args.n_train, g), make_bars(args.n_test, g)
    train_loader = DataLoader(TensorDataset(train_x), batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(TensorDataset(test_x), batch_size=500)

    model = VAE().to(device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)

    # What a model that knows only each pixel's frequency pays per image, in nats.
    p = train_x.mean(0).clamp(1e-6, 1 - 1e-6)
    baseline = -(test_x * p.log() + (1 - test_x) * (1 - p).log()).sum(1).mean().item()

    for epoch in range(1, args.epochs + 1):
        model.train()
        train_loss = 0
        for (data,) in train_loader:
            data = data.to(device)
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()

        model.eval()
        test_loss = 0
        with torch.no_grad():
            for (data,) in test_loader:
                recon, mu, logvar = model(data.to(device))
                test_loss += loss_function(recon, data, mu, logvar).item()
        test_loss /= len(test_loader.dataset)
        if epoch % args.log_interval == 0 or epoch == args.epochs:
            print(
                "====> Epoch: {} Average train loss: {:.4f}  test loss: {:.4f}".format(
                    epoch, train_loss / len(train_loader.dataset), test_loss
                )
            )

    with torch.no_grad():
        sample = model.decode(torch.randn(4, 8).to(device)).view(4, 8, 8)
    print("four samples, rows rounded:\n", (sample > 0.5).int()[0])
    print(f"test loss {test_loss:.2f} nats/image; independent-pixel baseline {baseline:.2f}")
    return {"test_loss": test_loss, "baseline": baseline}


if __name__ == "__main__":
    main()
