"""A character-level LSTM language model, written exactly as for PyTorch.

Batching, truncated backpropagation through time with ``repackage_hidden`` and gradient
clipping follow pytorch/examples/word_language_model, on characters of a short text that
ships inside the program. After training it samples text with ``torch.multinomial``.

    python examples/pytorch_compat/char_lstm.py --epochs 80
"""

import argparse
import math
import time

import deepnum as torch
import deepnum.nn as nn
import deepnum.optim as optim

TEXT = """\
The quick brown fox jumps over the lazy dog. The lazy dog sleeps in the sun.
A small bird sings in the tall tree, and the fox listens to the song of the bird.
The sun goes down over the hill; the dog wakes up and runs to the old red barn.
In the barn the cat waits for the mouse, and the mouse runs home to its nest.
The farmer walks to the barn with a lamp, and the fox runs back into the wood.
"""


class Corpus:
    def __init__(self, text):
        self.chars = sorted(set(text))
        self.char2idx = {c: i for i, c in enumerate(self.chars)}
        ids = torch.tensor([self.char2idx[c] for c in text], dtype=torch.long)
        split = int(0.9 * len(ids))
        self.train, self.valid = ids[:split], ids[split:]


def batchify(data, bsz):
    # Work out how cleanly we can divide the dataset into bsz parts.
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    # Evenly divide the data across the bsz batches.
    return data.view(bsz, -1).t().contiguous()


class CharModel(nn.Module):
    """Embedding -> LSTM -> Linear decoder (sequence-first tensors, as the PyTorch example)."""

    def __init__(self, ntoken, ninp, nhid, nlayers, dropout=0.2):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout if nlayers > 1 else 0.0)
        self.decoder = nn.Linear(nhid, ntoken)
        self.nhid, self.nlayers = nhid, nlayers
        self.init_weights()

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output).view(-1, self.ntoken)
        return decoded, hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        return (
            weight.new_zeros(self.nlayers, bsz, self.nhid),
            weight.new_zeros(self.nlayers, bsz, self.nhid),
        )


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i : i + seq_len]
    target = source[i + 1 : i + 1 + seq_len].view(-1)
    return data, target


def evaluate(model, criterion, data_source, bptt, eval_batch_size):
    model.eval()
    total_loss = 0.0
    hidden = model.init_hidden(eval_batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i, bptt)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


def sample(model, corpus, device, length=120, temperature=0.8):
    model.eval()
    hidden = model.init_hidden(1)
    input = torch.tensor([[corpus.char2idx["T"]]], dtype=torch.long).to(device)
    chars = ["T"]
    with torch.no_grad():
        for _ in range(length):
            output, hidden = model(input, hidden)
            weights = output.squeeze().div(temperature).exp()
            idx = torch.multinomial(weights, 1)[0]
            input.fill_(idx)
            chars.append(corpus.chars[idx.item()])
    return "".join(chars)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Character-level LSTM language model")
    parser.add_argument("--emsize", type=int, default=32)
    parser.add_argument("--nhid", type=int, default=128)
    parser.add_argument("--nlayers", type=int, default=1)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--clip", type=float, default=0.25)
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--bptt", type=int, default=24)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1111)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    corpus = Corpus(TEXT)
    train_data = batchify(corpus.train, args.batch_size).to(device)
    val_data = batchify(corpus.valid, 1).to(device)

    ntokens = len(corpus.chars)
    model = CharModel(ntokens, args.emsize, args.nhid, args.nlayers, args.dropout).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    unigram = torch.bincount(corpus.train, minlength=ntokens).float() / len(corpus.train)
    unigram_entropy = -(unigram[unigram > 0] * unigram[unigram > 0].log()).sum().item()

    for epoch in range(1, args.epochs + 1):
        epoch_start_time = time.time()
        model.train()
        hidden = model.init_hidden(args.batch_size)
        for i in range(0, train_data.size(0) - 1, args.bptt):
            data, targets = get_batch(train_data, i, args.bptt)
            # Starting each batch, we detach the hidden state from how it was previously produced.
            hidden = repackage_hidden(hidden)
            optimizer.zero_grad()
            output, hidden = model(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
        val_loss = evaluate(model, criterion, val_data, args.bptt, 1)
        print(
            "| end of epoch {:3d} | time: {:5.2f}s | train loss {:5.2f} | valid loss {:5.2f} | "
            "valid ppl {:8.2f}".format(
                epoch, time.time() - epoch_start_time, loss, val_loss, math.exp(val_loss)
            )
        )

    train_loss = evaluate(model, criterion, batchify(corpus.train, 1), args.bptt, 1)
    print(
        f"unigram entropy {unigram_entropy:.3f} nats/char; model on the training text {train_loss:.3f}"
    )
    print(sample(model, corpus, device))
    return {"train_loss": train_loss, "val_loss": val_loss, "unigram_entropy": unigram_entropy}


if __name__ == "__main__":
    main()
