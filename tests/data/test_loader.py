"""split.batches: every index once per epoch, seeded order, augmentation, caches, streaming windows."""
from __future__ import annotations

import numpy as np
import pytest

from surrogate_eo.data import DataArgumentError, open_split
from surrogate_eo.data import loader as loader_mod

torch = pytest.importorskip("torch")


def _epoch(split, idx, **kw):
    xs, ys = zip(*split.batches(idx, kw.pop("batch_size", 32), **kw))
    return torch.cat(xs).numpy(), torch.cat(ys).numpy()


@pytest.mark.parametrize("fixture,cache", [("synth_gzip", False), ("synth_plain", False),
                                           ("synth_gzip", True), ("synth_plain", "float16")])
def test_shuffled_epoch_visits_each_index_once(request, fixture, cache, monkeypatch):
    monkeypatch.setattr(loader_mod, "WINDOW_BYTES", 40 * 32 * 32 * 10 * 8)   # several windows per epoch
    s = open_split(request.getfixturevalue(fixture), "train")
    idx = np.arange(3, 150, 2)
    x, y = _epoch(s, idx, shuffle=True, seed=7, augment=False, cache=cache)
    assert x.shape == (idx.size, 10, 32, 32) and x.dtype == np.float32
    ref_x, ref_y = s.read(idx)
    # match each batch row to its source row by content: every index exactly once, labels aligned
    keys = {ref_x[i].astype(np.float16).tobytes(): i for i in range(idx.size)}
    seen = [keys[r.astype(np.float16).tobytes()] for r in x]
    assert sorted(seen) == list(range(idx.size))
    np.testing.assert_array_equal(y, ref_y[seen])
    assert seen != sorted(seen)                                    # actually shuffled
    atol = 2e-2 if cache == "float16" else 0
    np.testing.assert_allclose(x, ref_x[seen], atol=atol, rtol=1e-2 if atol else 0)


def test_chunked_shuffle_reads_whole_blocks(synth_gzip):
    s = open_split(synth_gzip, "train")
    order, window = loader_mod.epoch_order(s, np.arange(len(s)), 32, shuffle=True, seed=0)
    assert sorted(order.tolist()) == list(range(len(s)))
    assert window % 32 == 0
    blocks = order[:window] // s._source("sen2").chunk_rows
    assert len(np.unique(blocks)) <= window // s._source("sen2").chunk_rows + 1
    plain = loader_mod.epoch_order(s, np.arange(len(s)), 32, shuffle=True, seed=0, block=1)[0]
    assert sorted(plain.tolist()) == list(range(len(s)))
    ys = [y for _, y in s.batches(None, 32, shuffle=True, seed=0, shuffle_block=40)]
    assert sorted(np.concatenate(ys).tolist()) == sorted(s.labels.tolist())


def test_order_kept_without_shuffle_and_seeded_with(synth_plain):
    s = open_split(synth_plain, "val")
    idx = np.array([9, 2, 40, 1, 33, 5, 60])
    x, y = _epoch(s, idx, batch_size=3, shuffle=False)
    rx, ry = s.read(idx)
    np.testing.assert_array_equal(x, rx)
    np.testing.assert_array_equal(y, ry)
    a = _epoch(s, None, shuffle=True, seed=1, augment=True)
    b = _epoch(s, None, shuffle=True, seed=1, augment=True)
    c = _epoch(s, None, shuffle=True, seed=2, augment=True)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[1], c[1])


def test_augment_permutes_pixels_only(synth_plain):
    s = open_split(synth_plain, "val")
    plain = next(iter(s.batches(np.arange(16), 16, shuffle=False)))[0].numpy()
    aug = next(iter(s.batches(np.arange(16), 16, shuffle=False, augment=True, seed=4)))[0].numpy()
    assert not np.array_equal(plain, aug)
    np.testing.assert_array_equal(np.sort(plain.reshape(16, 10, -1), -1), np.sort(aug.reshape(16, 10, -1), -1))
    cached = next(iter(s.batches(np.arange(16), 16, shuffle=False, augment=True, seed=4, cache=True)))[0]
    np.testing.assert_array_equal(cached.numpy(), aug)             # same views with and without cache


def test_batch_sizes_and_drop_last(synth_gzip):
    s = open_split(synth_gzip, "test")
    sizes = [len(y) for _, y in s.batches(None, 24, shuffle=False)]
    assert sizes == [24, 24, 16]
    assert [len(y) for _, y in s.batches(None, 24, shuffle=True, drop_last=True)] == [24, 24]
    assert [len(y) for _, y in s.batches(None, 24, shuffle=True, cache=True, drop_last=True)] == [24, 24]


def test_cache_reused_and_replaced(synth_plain):
    s = open_split(synth_plain, "train")
    list(s.batches(np.arange(50), 25, shuffle=True, cache=True))
    first = s._cache[1]
    list(s.batches(np.arange(50)[::-1], 25, shuffle=True, cache=True))
    assert s._cache[1] is first                                   # same subset: no reload
    list(s.batches(np.arange(60), 25, shuffle=True, cache="float16"))
    assert s._cache[1] is not first and s._cache[1].x.dtype == np.float16


def test_bad_batch_arguments(synth_plain):
    s = open_split(synth_plain, "val")
    with pytest.raises(DataArgumentError, match="batch_size must be a positive integer; got 0"):
        s.batches(None, 0, shuffle=False)
    with pytest.raises(DataArgumentError, match="cache must be False, True, 'float32' or 'float16'; got 'bf16'"):
        s.batches(None, 8, shuffle=False, cache="bf16")
    with pytest.raises(DataArgumentError, match="shuffle_block must be a positive integer or None; got 0"):
        s.batches(None, 8, shuffle=True, shuffle_block=0)
    with pytest.raises(DataArgumentError, match=r"index 64 out of range for val \(validation.h5\) with 64 patches"):
        s.batches([1, 64], 8, shuffle=False)


def test_memmap_stream_reads_each_batch_into_its_own_array(synth_plain, monkeypatch):
    """Memory-mapped streaming: one read per batch, in order, a few ahead; each batch its own array;
    the same tensors as the chunked file's window reads; stopping early leaves no thread behind."""
    import threading

    s = open_split(synth_plain, "train")
    assert s.random_access
    reads = []
    real = s._read_rows
    monkeypatch.setattr(s, "_read_rows", lambda rows, *a, **k: reads.append(rows.copy()) or real(rows, *a, **k))
    order, _ = loader_mod.epoch_order(s, np.arange(len(s)), 48, shuffle=True, seed=5)
    batches = list(s.batches(None, 48, shuffle=True, seed=5))
    assert [r.size for r in reads] == [48, 48, 48, 16]
    np.testing.assert_array_equal(np.concatenate(reads), order)
    assert len({x.numpy().__array_interface__["data"][0] for x, _ in batches}) == len(batches)
    ref_x, ref_y = s.read(order)
    np.testing.assert_array_equal(torch.cat([x for x, _ in batches]).numpy(), ref_x)
    np.testing.assert_array_equal(torch.cat([y for _, y in batches]).numpy(), ref_y)
    gen = s.batches(None, 16, shuffle=True, seed=5)
    next(gen)
    gen.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("so2sat-prefetch")]
