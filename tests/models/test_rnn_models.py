"""Recurrent models (char LM, many-to-one classifier, seq2seq), the shipped text and a slow
training run of the character language model."""

import time

import numpy as np
import pytest

import deepnum
from deepnum import nn
from deepnum.datasets.text import CharSequences, CharVocab, lm_batches, load_text, unigram_entropy
from deepnum.models import zoo
from deepnum.models.rnn import CharRNN, RNNClassifier, Seq2Seq
from deepnum.train.bptt import decode, truncated_bptt
from tests.helpers import assert_close


# ------------------------------------------------------------------------------ text
def test_shipped_text_vocab_and_entropy():
    text = load_text("genesis")
    assert 150_000 < len(text) < 300_000 and "In the beginning God created the heaven" in text
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    assert vocab.decode(ids) == text
    counts = np.array([text.count(c) for c in vocab.chars], float)
    p = counts / counts.sum()
    assert unigram_entropy(ids) == pytest.approx(-(p * np.log(p)).sum())
    with pytest.raises(KeyError, match=r"not in the vocabulary: \['é'\]"):
        vocab.encode("café")
    with pytest.raises(ValueError, match="unknown text 'hamlet'"):
        load_text("hamlet")


def test_char_sequences_and_lm_batches():
    ids = np.arange(50)
    ds = CharSequences(ids, seq_len=10, stride=5)
    x, y = ds[2]
    assert np.array_equal(x, np.arange(10, 20)) and np.array_equal(y, np.arange(11, 21))
    assert len(ds) == 8 and np.array_equal(ds[-1][1], np.arange(36, 46))
    batches = lm_batches(ids, 4)  # 4 streams of 12, time-major
    assert batches.shape == (12, 4) and np.array_equal(batches[:, 1], np.arange(12, 24))


# ------------------------------------------------------------------------------ models
def test_char_rnn_sampling_is_seeded_and_temperature_sharpens():
    model = CharRNN(vocab_size=10, embedding_dim=4, hidden_size=8, num_layers=1)
    with deepnum.no_grad():
        model.head.bias.copy_(deepnum.tensor(np.arange(10, dtype=np.float32)))
    a = model.sample([1, 2], 30, temperature=1.0, generator=deepnum.Generator().manual_seed(3))
    b = model.sample([1, 2], 30, temperature=1.0, generator=deepnum.Generator().manual_seed(3))
    assert np.array_equal(a, b)
    cold = model.sample([1, 2], 200, temperature=0.05)
    hot = model.sample([1, 2], 200, temperature=50.0)
    assert (cold == 9).mean() > 0.95 and len(set(hot.tolist())) >= 8
    with pytest.raises(ValueError, match="temperature must be > 0"):
        model.sample([1], 3, temperature=0)


def test_classifier_with_lengths_equals_running_each_sequence_alone():
    clf = RNNClassifier(
        input_size=3, num_classes=4, hidden_size=6, num_layers=2, bidirectional=True
    ).double()
    clf.eval()
    rng = np.random.default_rng(0)
    lengths = [5, 2, 7, 3]
    x = rng.standard_normal((4, 7, 3))
    batched = clf(deepnum.tensor(x), lengths=lengths)
    for b, n in enumerate(lengths):
        alone = clf(deepnum.tensor(x[b : b + 1, :n]))
        assert_close(batched[b : b + 1], alone)


def test_classifier_learns_a_many_to_one_task():
    """Sentiment-style: does the sequence contain more 'positive' (1) than 'negative' (2) tokens?"""
    deepnum.manual_seed(0)
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 5, (256, 12))
    labels = ((tokens == 1).sum(1) > (tokens == 2).sum(1)).astype(np.int64)
    clf = RNNClassifier(vocab_size=5, num_classes=2, hidden_size=16, cell="GRU")
    opt = deepnum.optim.Adam(clf.parameters(), lr=0.02)
    loss_fn = nn.CrossEntropyLoss()
    x, y = deepnum.tensor(tokens), deepnum.tensor(labels)
    for _ in range(60):
        opt.zero_grad()
        loss = loss_fn(clf(x), y)
        loss.backward()
        opt.step()
    acc = (clf(x).argmax(1).numpy() == labels).mean()
    assert acc > 0.85


def test_seq2seq_teacher_forced_forward_equals_stepwise_decode():
    model = Seq2Seq(src_vocab=9, tgt_vocab=7, embedding_dim=5, hidden_size=8).double()
    rng = np.random.default_rng(1)
    src = deepnum.tensor(rng.integers(0, 9, (6, 3)))
    tgt = deepnum.tensor(rng.integers(1, 7, (4, 3)))
    tgt_in = deepnum.cat([deepnum.zeros(1, 3, dtype=deepnum.int64), tgt[:-1]], 0)
    full = model(src, tgt_in)
    context = model.encode(src)
    steps, _, _ = decode(
        model.decode_step,
        tgt_in[0],
        4,
        state=(context.unsqueeze(0), context),
        targets=tgt,
        teacher_forcing_ratio=1.0,
    )
    assert_close(full, steps)
    assert model.generate(src, 5).shape == (5, 3)


def test_zoo_entries_build_and_run():
    clf = zoo["lstm-classifier"](input_shape=(1, 28, 28), num_classes=10, hidden_size=8)
    assert clf(deepnum.randn(2, 1, 28, 28)).shape == (2, 10)
    assert zoo["gru-classifier"](input_shape=(5, 3), num_classes=2)(
        deepnum.randn(4, 5, 3)
    ).shape == (4, 2)
    lm = zoo["char-lstm"](num_classes=12, hidden_size=8, num_layers=1)
    assert lm(deepnum.zeros(3, 2, dtype=deepnum.int64))[0].shape == (3, 2, 12)
    s2s = zoo["seq2seq"](num_classes=6, hidden_size=8)
    assert s2s(
        deepnum.zeros(4, 2, dtype=deepnum.int64), deepnum.zeros(3, 2, dtype=deepnum.int64)
    ).shape == (3, 2, 6)
    with pytest.raises(ValueError, match="input_shape must be"):
        zoo["lstm-classifier"](input_shape=(784,))


# ------------------------------------------------------------------------------ slow
@pytest.mark.slow
def test_char_lm_trains_well_below_unigram_entropy():
    """A 1-layer LSTM on KJV Genesis, 160 windows of truncated BPTT (k1 = k2 = 64), Adam, clipping.

    Held-out loss must fall far below the unigram entropy (3.15 nats/char) that any model
    ignoring context is stuck at.
    """
    deepnum.manual_seed(0)
    text = load_text()
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    split = int(0.9 * len(ids))
    train, held = lm_batches(ids[:split], 32), lm_batches(ids[split:], 8)
    model = CharRNN(len(vocab), embedding_dim=32, hidden_size=192, num_layers=1)
    opt = deepnum.optim.Adam(model.parameters(), lr=4e-3)
    loss_fn = nn.CrossEntropyLoss()

    def lm_loss(logits, target):
        return loss_fn(logits.reshape(-1, len(vocab)), target.reshape(-1))

    start, windows = time.time(), 0
    while windows < 160 and time.time() - start < 150:
        state = None  # each pass over the streams starts from a zero state
        for a in range(0, len(train) - 65, 64):
            x, y = deepnum.tensor(train[a : a + 64]), deepnum.tensor(train[a + 1 : a + 65])
            _, state = truncated_bptt(
                model, x, y, lm_loss, opt, k1=64, state=state, clip_grad_norm=1.0
            )
            windows += 1
            if windows >= 160 or time.time() - start > 150:
                break
    model.eval()
    with deepnum.no_grad():
        logits, _ = model(deepnum.tensor(held[:-1]))
        held_loss = lm_loss(logits, deepnum.tensor(held[1:])).item()
    entropy = unigram_entropy(ids)
    assert held_loss < 0.65 * entropy, (held_loss, entropy)
    sample = vocab.decode(model.sample(vocab.encode("And God said"), 200, temperature=0.7))
    assert sample.count(" ") > 15  # word-like output
