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


def test_cores_busy_counts_only_other_processes_cpu_time(monkeypatch):
    clock = {"now": 100.0, "machine": 1000.0, "own": 10.0}
    monkeypatch.setattr(_blas_threads.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(_blas_threads.time, "process_time", lambda: clock["own"])
    monkeypatch.setattr(_blas_threads, "_machine_cpu_seconds", lambda: clock["machine"])
    monkeypatch.setattr(_blas_threads, "_busy", (False, -1e9))
    monkeypatch.setattr(_blas_threads, "_last", None)
    assert not _blas_threads.cores_busy()  # first reading: nothing to compare with yet
    # 2 s later: the machine was busy 3.9 CPU s, 3.8 of them this process's two threads
    clock.update(now=102.0, machine=1003.9, own=13.8)
    assert not _blas_threads.cores_busy()
    # within the second after a reading, the decision is reused
    clock.update(now=102.5, machine=1010.0, own=13.8)
    assert not _blas_threads.cores_busy()
    # another process used 1.5 of 2 s
    clock.update(now=104.0, machine=1005.9 + 1.5, own=15.8)
    assert _blas_threads.cores_busy()


def test_machine_cpu_seconds_reads_the_counters():
    first = _blas_threads._machine_cpu_seconds()
    if first is None:
        pytest.skip("no /proc/stat")
    assert 0 < first <= _blas_threads._machine_cpu_seconds()
