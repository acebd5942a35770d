import numpy as np

from tests.reference.dataset import (
    BUCKETS,
    COUNTER,
    GAUGE_SPARSE,
    HISTOGRAM,
    INSTANCES,
    JOBS,
    METHODS,
    DataSet,
    generate,
)


def test_deterministic() -> None:
    a, b = generate(), generate()
    assert a.openmetrics == b.openmetrics
    assert np.array_equal(a.timestamps, b.timestamps) and np.array_equal(a.values, b.values)
    assert generate(seed=1).openmetrics != a.openmetrics


def test_no_sample_on_a_whole_second(reference_dataset: DataSet) -> None:
    assert len(reference_dataset.timestamps) > 50_000
    assert not (reference_dataset.timestamps % 1000 == 0).any()


def test_arrays_match_the_text(reference_dataset: DataSet) -> None:
    d = reference_dataset
    lines = [line for line in d.openmetrics.splitlines() if not line.startswith("#")]
    assert len(lines) == len(d.timestamps)
    assert d.openmetrics.endswith("# EOF\n")
    first = lines[0].rsplit(" ", 2)
    assert int(float(first[2]) * 1000) == d.timestamps[0] and float(first[1]) == d.values[0]
    head = f'{COUNTER}{{job="{JOBS[0]}",instance="{INSTANCES[0]}",method="{METHODS[0]}"}}'
    assert lines[0].startswith(head)


def test_counters_have_resets_and_never_go_negative(reference_dataset: DataSet) -> None:
    for labels in reference_dataset.select(COUNTER):
        ts, values = reference_dataset.samples(labels)
        assert np.all(np.diff(ts) > 0)
        assert values.min() >= 0
        assert 1 <= (np.diff(values) < 0).sum() <= 3


def test_histograms_are_cumulative(reference_dataset: DataSet) -> None:
    d = reference_dataset
    labels = {"job": JOBS[1], "instance": INSTANCES[2]}
    buckets = np.stack([d.samples({"__name__": f"{HISTOGRAM}_bucket", **labels, "le": le})[1]
                        for le in BUCKETS])
    assert np.all(np.diff(buckets, axis=0) >= 0)  # le buckets are cumulative
    count = d.samples({"__name__": f"{HISTOGRAM}_count", **labels})[1]
    assert np.array_equal(count, buckets[-1])
    assert (np.diff(count) < 0).sum() == 1  # one restart


def test_sparse_series(reference_dataset: DataSet) -> None:
    d = reference_dataset
    stopping, _ = d.samples({"__name__": GAUGE_SPARSE, "job": "api", "queue": "stopping"})
    gappy, _ = d.samples({"__name__": GAUGE_SPARSE, "job": "api", "queue": "gappy"})
    assert stopping.max() < d.start_ms + 95 * 60_000 - 5 * 60_000
    assert np.diff(gappy).max() > 20 * 60_000


def test_arrays_ingest_into_the_lake(reference_dataset: DataSet, tmp_path) -> None:
    from lake.catalog import open_catalog
    from lake.ingest import ingest_samples
    from lake.profiles import StorageProfile, StorageProfiles

    profiles = StorageProfiles([StorageProfile(org="*", instance_num=1, provider="file",
                                               bucket=str(tmp_path / "lake"), collector="c")])
    catalog = open_catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    d = reference_dataset
    result = ingest_samples(d.series_labels, d.series_index, d.timestamps, d.values, org="ref",
                            catalog=catalog, profiles=profiles)
    assert (result.samples, result.series) == (len(d.timestamps), len(d.series_labels))
    assert result.duplicates_dropped == 0
