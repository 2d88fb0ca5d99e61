"""``deepnum.utils``: PyTorch's ``torch.utils`` namespace (``deepnum.utils.data``)."""

from deepnum.utils import data  # noqa: F401
