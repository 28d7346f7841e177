"""nextword.neural.blas_threads: the demo's neural section runs BLAS on one
thread and gives the old count back afterwards."""

from __future__ import annotations

import pytest
from nextword.neural.blas_threads import blas_threads, current_blas_threads


def test_the_count_is_lowered_inside_and_restored_after() -> None:
    before = current_blas_threads()
    if before is None:
        pytest.skip("numpy here does not use OpenBLAS: nothing to set")
    with blas_threads(1) as old:
        assert old == before
        assert current_blas_threads() == 1
    assert current_blas_threads() == before
    with pytest.raises(RuntimeError), blas_threads(1):
        assert current_blas_threads() == 1
        raise RuntimeError("the count comes back on errors too")
    assert current_blas_threads() == before


def test_zero_threads_is_refused() -> None:
    with pytest.raises(ValueError, match="n >= 1"), blas_threads(0):
        pass


def test_the_neural_demo_runs_on_one_blas_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    from nextword.neural import demo

    if current_blas_threads() is None:
        pytest.skip("numpy here does not use OpenBLAS: nothing to set")
    seen: list[int | None] = []

    def spy(lines: object, steps: int, seed: int) -> dict[str, object]:
        seen.append(current_blas_threads())
        return {}

    monkeypatch.setattr(demo, "_run_neural_demo", spy)
    demo.run_neural_demo(["a b"], steps=1)
    assert seen == [1]
