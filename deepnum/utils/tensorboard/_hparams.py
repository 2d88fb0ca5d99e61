"""The three summaries of TensorBoard's hparams plugin, as ``torch.utils.tensorboard`` writes them.

Each is a ``Summary.Value`` with only a tag and ``SummaryMetadata`` for the plugin ``"hparams"``,
whose ``content`` is an encoded ``HParamsPluginData`` (version=1, oneof {experiment=2,
session_start_info=3, session_end_info=4}):

* ``_hparams_/experiment``: ``Experiment`` (hparam_infos=4, metric_infos=5), the hyperparameter
  names and types (``HParamInfo``: name=1, type=4, domain_discrete=5) and the metric tags
  (``MetricInfo``: name=1 -> ``MetricName``: tag=2);
* ``_hparams_/session_start_info``: ``SessionStartInfo`` (hparams=1, a map from name to
  ``google.protobuf.Value``: number_value=2, string_value=3, bool_value=4; a ``ListValue`` is
  values=1);
* ``_hparams_/session_end_info``: ``SessionEndInfo`` (status=1, STATUS_SUCCESS).
"""

from __future__ import annotations

import numpy as np

from deepnum.tensor import Tensor
from deepnum.utils.tensorboard._proto import (
    double_field,
    implicit,
    int_field,
    message_field,
    optional,
    string_field,
)
from deepnum.utils.tensorboard._summary import plugin_metadata, summary, summary_value, to_numpy

__all__ = ["hparams_summaries"]

PLUGIN_NAME = "hparams"
EXPERIMENT_TAG = "_hparams_/experiment"
SESSION_START_INFO_TAG = "_hparams_/session_start_info"
SESSION_END_INFO_TAG = "_hparams_/session_end_info"
DATA_TYPE_STRING, DATA_TYPE_FLOAT64 = 1, 3
STATUS_SUCCESS = 1


def _number_value(number: float) -> bytes:
    return double_field(2, float(number))  # google.protobuf.Value.number_value


def _string_value(text: str) -> bytes:
    return string_field(3, text)  # google.protobuf.Value.string_value


def _list_value(values: list[bytes]) -> bytes:
    return b"".join(message_field(1, value) for value in values)


def _hparam_info(name: str, data_type: int, domain: list[bytes] | None) -> bytes:
    return b"".join([
        implicit(string_field, 1, name),
        implicit(int_field, 4, data_type),
        optional(message_field, 5, None if domain is None else _list_value(domain)),
    ])


def _metric_info(tag: str) -> bytes:
    return message_field(1, implicit(string_field, 2, tag))


def _plugin_summary(tag: str, data_field: int, data: bytes) -> bytes:
    content = message_field(data_field, data)  # HParamsPluginData, version 0 (left out)
    return summary(summary_value(tag, metadata=plugin_metadata(PLUGIN_NAME, content)))


def _check_discrete_domains(hparam_dict: dict, domains: dict) -> None:
    for name, values in domains.items():
        if (name not in hparam_dict or not isinstance(values, list)
                or not all(isinstance(value, type(hparam_dict[name])) for value in values)):
            raise TypeError(
                f"parameter: hparam_domain_discrete[{name}] should be a list of same type as "
                f"hparam_dict[{name}]."
            )


def _encode_hparam(name: str, value, domain: list | None):
    """(the ``Value`` of the hyperparameter, its ``HParamInfo``): numbers (bools too, as
    PyTorch) are FLOAT64, strings STRING, a tensor or array its first element."""
    if isinstance(value, (int, float, np.integer, np.floating)):
        domain_values = None if domain is None else [_number_value(d) for d in domain]
        return _number_value(value), _hparam_info(name, DATA_TYPE_FLOAT64, domain_values)
    if isinstance(value, str):
        domain_values = None if domain is None else [_string_value(d) for d in domain]
        return _string_value(value), _hparam_info(name, DATA_TYPE_STRING, domain_values)
    if isinstance(value, (Tensor, np.ndarray)):
        number = to_numpy(value).reshape(-1)[0]
        return _number_value(number), _hparam_info(name, DATA_TYPE_FLOAT64, None)
    raise ValueError("value should be one of int, float, str, bool, or a tensor")


def hparams_summaries(hparam_dict: dict, metric_dict: dict,
                      hparam_domain_discrete: dict | None = None) -> tuple[bytes, bytes, bytes]:
    """The encoded experiment, session-start and session-end summaries of one trial."""
    if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
        raise TypeError("hparam_dict and metric_dict should be dictionary.")
    domains = hparam_domain_discrete or {}
    if not isinstance(domains, dict):
        raise TypeError(
            "parameter: hparam_domain_discrete should be a dictionary, nothing logged."
        )
    _check_discrete_domains(hparam_dict, domains)

    hparam_entries, hparam_infos = [], []
    for name, value in hparam_dict.items():
        if value is None:
            continue
        encoded_value, info = _encode_hparam(name, value, domains.get(name))
        hparam_entries.append(string_field(1, name) + message_field(2, encoded_value))
        hparam_infos.append(info)

    experiment = b"".join([
        *(message_field(4, info) for info in hparam_infos),
        *(message_field(5, _metric_info(tag)) for tag in metric_dict),
    ])
    session_start = b"".join(message_field(1, entry) for entry in hparam_entries)
    session_end = int_field(1, STATUS_SUCCESS)
    return (
        _plugin_summary(EXPERIMENT_TAG, 2, experiment),
        _plugin_summary(SESSION_START_INFO_TAG, 3, session_start),
        _plugin_summary(SESSION_END_INFO_TAG, 4, session_end),
    )
