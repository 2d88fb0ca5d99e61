"""deepnum._blas_threads: one OpenBLAS thread for small products on a busy machine, restored."""

import pytest

from deepnum import _blas_threads


@pytest.fixture
def blas():
    functions = _blas_threads.blas_functions()
    if not functions:
        pytest.skip("NumPy's BLAS is not OpenBLAS")
    before = functions[1]()
    functions[0](2)
    yield functions
    functions[0](before)


def test_small_product_on_a_busy_machine_uses_one_thread(blas, monkeypatch):
    set_threads, get_threads = blas
    monkeypatch.setattr(_blas_threads, "cores_busy", lambda: True)
    with _blas_threads.small_product(1e6):
        assert get_threads() == 1
        with _blas_threads.small_product(1e6):  # nested: nothing to restore inside
            assert get_threads() == 1
        assert get_threads() == 1
    assert get_threads() == 2


def test_big_product_or_idle_machine_keeps_the_threads(blas, monkeypatch):
    set_threads, get_threads = blas
    monkeypatch.setattr(_blas_threads, "cores_busy", lambda: True)
    with _blas_threads.small_product(1e9):
        assert get_threads() == 2
    monkeypatch.setattr(_blas_threads, "cores_busy", lambda: False)
    with _blas_threads.small_product(1e6):
        assert get_threads() == 2


def test_thread_count_restored_after_an_error(blas, monkeypatch):
    set_threads, get_threads = blas
    monkeypatch.setattr(_blas_threads, "cores_busy", lambda: True)
    with pytest.raises(ValueError, match="boom"):
        with _blas_threads.small_product(1e6):
            raise ValueError("boom")
    assert get_threads() == 2


def test_cores_busy_follows_the_load_above_the_core_count(monkeypatch):
    monkeypatch.setattr(_blas_threads.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    for load, busy in ((1.0, False), (2.3, False), (2.7, True), (6.0, True)):
        monkeypatch.setattr(_blas_threads, "_busy", (False, -1e9))  # forget the cached reading
        monkeypatch.setattr(_blas_threads.os, "getloadavg", lambda: (load, 0.0, 0.0))
        assert _blas_threads.cores_busy() is busy


def test_load_reading_is_reused_for_a_second(monkeypatch):
    calls = []
    monkeypatch.setattr(_blas_threads, "_busy", (False, -1e9))
    monkeypatch.setattr(_blas_threads.os, "getloadavg", lambda: calls.append(1) or (0.0, 0, 0))
    _blas_threads.cores_busy()
    _blas_threads.cores_busy()
    assert len(calls) == 1
