"""Idioms lifted from classic PyTorch programs, run with deepnum and with PyTorch on the same
weights and inputs: the numbers must agree.

Each snippet is written once against a namespace ``L`` holding ``torch``, ``nn``, ``F`` and
``optim``, and runs with ``L`` = deepnum's modules and ``L`` = PyTorch's.
"""

import io
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import deepnum
from tests.helpers import assert_close

DN = SimpleNamespace(
    torch=deepnum, nn=deepnum.nn, F=deepnum.nn.functional, optim=deepnum.optim, name="deepnum"
)
PT = SimpleNamespace(
    torch=torch, nn=torch.nn, F=torch.nn.functional, optim=torch.optim, name="torch"
)


def copy_weights(src, dst):
    """Give the PyTorch module ``dst`` the weights of the deepnum module ``src`` (same keys)."""
    state = {
        k: torch.from_numpy(np.array(v.numpy(), copy=True)) for k, v in src.state_dict().items()
    }
    dst.load_state_dict(state)


def both(snippet, make_model=None):
    """Run ``snippet(L, model)`` for deepnum and torch; models share deepnum's initial weights."""
    if make_model is None:
        return snippet(DN, None), snippet(PT, None)
    ours, theirs = make_model(DN), make_model(PT)
    copy_weights(ours, theirs)
    return snippet(DN, ours), snippet(PT, theirs)


def close(a, b, **tol):
    if isinstance(a, (tuple, list)):
        for x, y in zip(a, b):
            close(x, y, **tol)
    elif isinstance(a, (float, int)):
        assert math.isclose(a, b, rel_tol=tol.get("rtol", 1e-4), abs_tol=tol.get("atol", 1e-5)), (
            a,
            b,
        )
    else:
        assert_close(a, b, **tol)


def test_positional_encoding_buffer_with_strided_assignment():
    def snippet(L, _):
        torch, nn = L.torch, L.nn

        class PositionalEncoding(nn.Module):
            def __init__(self, d_model, max_len=50):
                super().__init__()
                pe = torch.zeros(max_len, d_model)
                position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
                div_term = torch.exp(
                    torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model)
                )
                pe[:, 0::2] = torch.sin(position * div_term)
                pe[:, 1::2] = torch.cos(position * div_term)
                pe = pe.unsqueeze(0).transpose(0, 1)
                self.register_buffer("pe", pe)

            def forward(self, x):
                return x + self.pe[: x.size(0), :]

        m = PositionalEncoding(8)
        return m(torch.ones(5, 2, 8)), list(m.state_dict())

    (a, ka), (b, kb) = both(snippet)
    close(a, b)
    assert ka == kb == ["pe"]


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # PyTorch's performance hint
def test_transformer_language_model_same_weights_same_outputs():
    def make(L):
        nn = L.nn

        class TransformerModel(nn.Module):
            def __init__(self, ntoken, ninp, nhead, nhid, nlayers):
                super().__init__()
                self.encoder = nn.Embedding(ntoken, ninp)
                layer = nn.TransformerEncoderLayer(ninp, nhead, nhid, dropout=0.0)
                self.transformer_encoder = nn.TransformerEncoder(layer, nlayers)
                self.decoder = nn.Linear(ninp, ntoken)
                self.ninp = ninp

            def forward(self, src, mask):
                src = self.encoder(src) * math.sqrt(self.ninp)
                output = self.transformer_encoder(src, mask)
                return L.F.log_softmax(self.decoder(output), dim=-1)

        L.torch.manual_seed(0)
        return TransformerModel(11, 8, 2, 16, 2).eval()

    src = np.random.default_rng(0).integers(0, 11, (6, 3))

    def snippet(L, model):
        mask = L.nn.Transformer.generate_square_subsequent_mask(6)
        with L.torch.no_grad():
            return model(L.torch.tensor(src), mask)

    a, b = both(snippet, make)
    close(a, b, rtol=1e-4, atol=1e-5)


def test_manual_sgd_updates_through_data_and_no_grad():
    def make(L):
        return L.nn.Sequential(L.nn.Linear(4, 3), L.nn.Tanh(), L.nn.Linear(3, 1))

    x = np.random.default_rng(1).standard_normal((8, 4)).astype(np.float32)

    def snippet(L, model):
        torch = L.torch
        for step in range(3):
            loss = model(torch.from_numpy(x)).pow(2).mean()
            model.zero_grad()
            loss.backward()
            if step % 2 == 0:
                for p in model.parameters():
                    p.data.add_(p.grad, alpha=-0.1)
            else:
                with torch.no_grad():
                    for p in model.parameters():
                        p -= 0.1 * p.grad
        return [p.detach() for p in model.parameters()] + [loss.item()]

    a, b = both(snippet, make)
    close(a, b)


def test_dcgan_discriminator_and_generator_steps():
    def make(L):
        nn = L.nn

        class GAN(nn.Module):
            def __init__(self):
                super().__init__()
                self.netG = nn.Sequential(
                    nn.ConvTranspose2d(8, 16, 4, 1, 0, bias=False),
                    nn.BatchNorm2d(16),
                    nn.ReLU(True),
                    nn.ConvTranspose2d(16, 1, 4, 2, 1, bias=False),
                    nn.Tanh(),
                )
                self.netD = nn.Sequential(
                    nn.Conv2d(1, 16, 4, 2, 1, bias=False),
                    nn.LeakyReLU(0.2, inplace=True),
                    nn.Conv2d(16, 1, 4, 1, 0, bias=False),
                    nn.Sigmoid(),
                )

        return GAN()

    rng = np.random.default_rng(2)
    real_np, noise_np = (
        rng.standard_normal((4, 1, 8, 8)).astype(np.float32),
        rng.standard_normal((4, 8, 1, 1)).astype(np.float32),
    )

    def snippet(L, gan):
        torch, nn, optim = L.torch, L.nn, L.optim
        netG, netD = gan.netG, gan.netD
        criterion = nn.BCELoss()
        optimizerD = optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
        optimizerG = optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
        device = torch.device("cpu")
        real = torch.from_numpy(real_np).to(device)
        netD.zero_grad()
        label = torch.full((real.size(0),), 1.0, dtype=torch.float, device=device)
        output = netD(real).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        fake = netG(torch.from_numpy(noise_np))
        label.fill_(0.0)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        optimizerD.step()
        netG.zero_grad()
        label.fill_(1.0)
        output = netD(fake).view(-1)
        errG = criterion(output, label)
        errG.backward()
        optimizerG.step()
        return [(errD_real + errD_fake).item(), errG.item(), D_x] + [
            p.detach() for p in gan.parameters()
        ]

    a, b = both(snippet, make)
    close(a, b, rtol=1e-4, atol=1e-5)


def test_lstmcell_sine_prediction_with_lbfgs_closure():
    def make(L):
        nn = L.nn

        class Sequence(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm1 = nn.LSTMCell(1, 12)
                self.linear = nn.Linear(12, 1)

            def forward(self, input, future=0):
                outputs = []
                h_t = L.torch.zeros(input.size(0), 12, dtype=L.torch.double)
                c_t = L.torch.zeros(input.size(0), 12, dtype=L.torch.double)
                for input_t in input.split(1, dim=1):
                    h_t, c_t = self.lstm1(input_t, (h_t, c_t))
                    output = self.linear(h_t)
                    outputs += [output]
                for i in range(future):
                    h_t, c_t = self.lstm1(output, (h_t, c_t))
                    output = self.linear(h_t)
                    outputs += [output]
                return L.torch.cat(outputs, dim=1)

        return Sequence().double()

    x = np.sin(np.arange(30)[None, :] / 3.0 + np.arange(4)[:, None]).astype("float64")

    def snippet(L, seq):
        inp, target = L.torch.from_numpy(x[:, :-1]), L.torch.from_numpy(x[:, 1:])
        criterion = L.nn.MSELoss()
        optimizer = L.optim.LBFGS(seq.parameters(), lr=0.8)
        losses = []
        for _ in range(2):

            def closure():
                optimizer.zero_grad()
                loss = criterion(seq(inp), target)
                loss.backward()
                return loss

            losses.append(optimizer.step(closure).item())
        with L.torch.no_grad():
            future = seq(inp[:2], future=5)
        return losses + [future.detach()]

    a, b = both(snippet, make)
    close(a, b, rtol=1e-6, atol=1e-8)


def test_seq2seq_greedy_decoding_with_topk():
    def make(L):
        nn = L.nn

        class DecoderRNN(nn.Module):
            def __init__(self, hidden_size, output_size):
                super().__init__()
                self.embedding = nn.Embedding(output_size, hidden_size)
                self.gru = nn.GRU(hidden_size, hidden_size)
                self.out = nn.Linear(hidden_size, output_size)

            def forward(self, input, hidden):
                output = self.embedding(input).view(1, 1, -1)
                output = L.F.relu(output)
                output, hidden = self.gru(output, hidden)
                return L.F.log_softmax(self.out(output[0]), dim=1), hidden

        return DecoderRNN(6, 9)

    def snippet(L, decoder):
        torch = L.torch
        decoder_input = torch.tensor([[0]], device="cpu")
        decoder_hidden = torch.zeros(1, 1, 6)
        tokens, loss = [], 0
        for di in range(5):
            decoder_output, decoder_hidden = decoder(decoder_input, decoder_hidden)
            topv, topi = decoder_output.topk(1)
            decoder_input = topi.squeeze().detach()
            loss += L.nn.NLLLoss()(decoder_output, torch.tensor([di]))
            tokens.append(decoder_input.item())
        loss.backward()
        return tokens, loss.item(), decoder.embedding.weight.grad

    (ta, la, ga), (tb, lb, gb) = both(snippet, make)
    assert ta == tb
    close([la, ga], [lb, gb])


def test_actor_critic_losses_and_confusion_matrix():
    def snippet(L, _):
        torch, F = L.torch, L.F
        value = torch.tensor([0.3], requires_grad=True)
        log_prob = torch.tensor(-0.7, requires_grad=True)
        R, advantage = 1.5, 1.2
        policy_losses = [-log_prob * advantage]
        value_losses = [F.smooth_l1_loss(value, torch.tensor([R]))]
        loss = torch.stack(policy_losses).sum() + torch.stack(value_losses).sum()
        loss.backward()
        confusion = torch.zeros(3, 3, dtype=torch.long)
        y, pred = torch.tensor([0, 2, 1, 2, 2]), torch.tensor([0, 1, 1, 2, 0])
        for t, p in zip(y.view(-1), pred.view(-1)):
            confusion[t.long(), p.long()] += 1
        return loss.item(), value.grad, log_prob.grad, confusion

    (la, va, pa, ca), (lb, vb, pb, cb) = both(snippet)
    close([la, va, pa], [lb, vb, pb])
    assert ca.tolist() == cb.tolist()


def test_checkpoint_with_optimizer_state_resumes_identically():
    def make(L):
        return L.nn.Linear(3, 2)

    x = np.random.default_rng(3).standard_normal((5, 3)).astype(np.float32)

    def snippet(L, model):
        torch = L.torch
        optimizer = L.optim.Adam(model.parameters(), lr=0.01)
        for _ in range(2):
            optimizer.zero_grad()
            loss = model(torch.from_numpy(x)).pow(2).sum()
            loss.backward()
            optimizer.step()
        buf = io.BytesIO()
        torch.save(
            {
                "epoch": 2,
                "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(),
                "loss": loss,
            },
            buf,
        )
        buf.seek(0)
        checkpoint = torch.load(buf, weights_only=True)
        resumed = L.nn.Linear(3, 2)
        resumed.load_state_dict(checkpoint["model_state_dict"])
        opt2 = L.optim.Adam(resumed.parameters(), lr=0.01)
        opt2.load_state_dict(checkpoint["optimizer_state_dict"])
        for m, opt in ((model, optimizer), (resumed, opt2)):
            opt.zero_grad()
            m(torch.from_numpy(x)).pow(2).sum().backward()
            opt.step()
        assert checkpoint["epoch"] == 2 and abs(checkpoint["loss"].item() - loss.item()) < 1e-6
        return [p.detach() for p in model.parameters()], [p.detach() for p in resumed.parameters()]

    (a1, a2), (b1, b2) = both(snippet, make)
    close(a1, a2)
    close(a1, b1)


@pytest.mark.parametrize("mode", ["no_grad", "inference_mode"])
def test_evaluation_loop_idioms(mode):
    def make(L):
        return L.nn.Sequential(
            L.nn.Linear(4, 8), L.nn.Dropout(0.5), L.nn.ReLU(), L.nn.Linear(8, 3)
        )

    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((20, 4)).astype(np.float32), rng.integers(0, 3, 20)

    def snippet(L, model):
        torch = L.torch
        loader = L.torch.utils.data.DataLoader(
            L.torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
            batch_size=8,
        )
        model.eval()
        correct, total, loss = 0, 0, 0.0
        with getattr(torch, mode)():
            for inputs, labels in loader:
                outputs = model(inputs)
                loss += L.F.cross_entropy(outputs, labels, reduction="sum").item()
                _, predicted = torch.max(outputs.data, 1)
                total += labels.size(0)
                correct += (predicted == labels).sum().item()
        return correct, total, loss / total, 100 * correct // total

    a, b = both(snippet, make)
    assert a[:2] == b[:2] and a[3] == b[3]
    close(a[2], b[2])
