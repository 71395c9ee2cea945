"""The integrations under pytest-benchmark: MONAI's PydicomReader against dcmfast's
DcmfastReader on a 200-slice CT series, and dcmfast.dask.scan on a 2-worker local
cluster against dcmfast.scan with 2 threads on 20,000 files (report_monai.py and
report_dask.py give the same comparisons with floors and per-round ratios).

Run:  python -m pytest benches/test_bench_integrations.py
      (DCMFAST_BENCH_ROUNDS=R; skipped without MONAI or Dask)
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from workload import TAGS

ROUNDS = int(os.environ.get("DCMFAST_BENCH_ROUNDS", "5"))


@pytest.fixture(scope="module")
def series() -> str:
    from report_monai import ensure_series

    return str(ensure_series(200))


@pytest.mark.parametrize("name", ["pydicom", "dcmfast"])
def test_monai_reader(benchmark, series, record_median, name):
    pytest.importorskip("monai")
    from dcmfast.monai import DcmfastReader
    from monai.data import PydicomReader

    reader = DcmfastReader() if name == "dcmfast" else PydicomReader()
    benchmark.group = "monai"
    array, meta = benchmark.pedantic(
        lambda: reader.get_data(reader.read(series)),
        rounds=1 if name == "pydicom" else ROUNDS,
        warmup_rounds=1,
    )
    assert array.shape == (512, 512, 200) and np.isfinite(array[::64, ::64]).all()
    assert [int(n) for n in meta["spatial_shape"]] == [512, 512, 200]
    record_median(f"monai-{name}", benchmark)


@pytest.fixture(scope="module")
def cluster_client():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def dask_files() -> list[str]:
    from report_dask import ensure_corpus, list_paths

    return list_paths(ensure_corpus(20_000))


@pytest.mark.parametrize("name", ["scan-2", "dask-2"])
def test_dask_scan(benchmark, cluster_client, dask_files, record_median, name):
    import dcmfast
    import dcmfast.dask

    def run():
        if name == "scan-2":
            return dcmfast.scan(dask_files, TAGS, workers=2).to_pandas()
        return dcmfast.dask.scan(dask_files, TAGS).compute()

    benchmark.group = "dask"
    frame = benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=1)
    assert len(frame) == len(dask_files) and frame["PatientID"].notna().all()
    record_median(name, benchmark)
