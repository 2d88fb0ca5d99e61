"""Ready-made models, looked up by name in ``zoo`` (used by ``deepnum train --model NAME``).

Every entry of ``zoo`` maps a name to a constructor called with keyword arguments only:
``zoo[name](input_shape=(1, 28, 28), num_classes=10, dropout=0.0)``; ``input_shape`` is the
shape of one example (without the batch dimension) and ``num_classes`` the number of outputs
(1 for regression). Constructors accept and may ignore further keywords of their own.

    >>> import deepnum
    >>> from deepnum.models import zoo
    >>> model = zoo["mlp"](input_shape=(2,), num_classes=2, hidden=(8,))
    >>> model(deepnum.zeros(5, 2)).shape
    deepnum.Size([5, 2])
"""

from __future__ import annotations

from deepnum.models.cnn import BasicBlock, LeNet, ResNet, SmallVGG, lenet, resnet_small, vgg_small
from deepnum.models.mlp import MLP, mlp, mlp_mnist
from deepnum.models.rnn import char_lstm, gru_classifier, lstm_classifier, rnn_seq2seq
from deepnum.models.gpt import GPT, gpt
from deepnum.models.seq2seq import AttentionSeq2Seq, attention_seq2seq
from deepnum.models.transformer_classifier import TransformerClassifier, transformer_classifier

__all__ = ["MLP", "LeNet", "SmallVGG", "BasicBlock", "ResNet", "GPT", "AttentionSeq2Seq", "TransformerClassifier", "zoo"]

zoo = {
    "mlp": mlp,
    "mlp-mnist": mlp_mnist,
    "lenet": lenet,
    "cnn": lenet,  # the default convolutional network: `deepnum train --model cnn`
    "vgg-small": vgg_small,
    "resnet-small": resnet_small,
    "lstm-classifier": lstm_classifier,
    "gru-classifier": gru_classifier,
    "char-lstm": char_lstm,
    "seq2seq": rnn_seq2seq,
    "gpt": gpt,
    "attention-seq2seq": attention_seq2seq,
    "transformer-classifier": transformer_classifier,
}
