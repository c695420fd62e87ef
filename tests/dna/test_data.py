import gzip

import numpy as np
import pytest

from sciddm.dna import data


def test_ars_head_matches_file():
    ars = data.read_ars(limit=4)
    with gzip.open(data.ars_path(), "rt") as fh:
        rows = [ln.split() for ln in fh if not ln.startswith("#")][1:5]
    assert ars.sequences == [r[2] for r in rows]
    assert ars.library_ct.tolist() == [int(r[0]) for r in rows]
    assert ars.selected_ct.tolist() == [int(r[1]) for r in rows]
    assert ars.log_enrichment.dtype == np.float64


def test_ars_full_properties():
    ars = data.read_ars()
    assert len(ars) == 603_569
    assert {len(s) for s in ars.sequences[:1000]} == {150}
    assert set("".join(ars.sequences[:2000])) <= set("ACGT")
    # centred at the median
    assert np.median(ars.log_enrichment) == pytest.approx(0.0, abs=1e-12)
    # limit gives the head of the same values
    head = data.read_ars(limit=100)
    np.testing.assert_array_equal(head.log_enrichment, ars.log_enrichment[:100])
    expect = np.log((ars.selected_ct[:100] + 1.0) / (ars.library_ct[:100] + 1.0))
    np.testing.assert_allclose(head.log_enrichment - expect, head.log_enrichment[0] - expect[0])
    # the wild type is close to the first (most abundant) variants
    assert len(ars.wild_type) == 150
    assert sum(a != b for a, b in zip(ars.wild_type, ars.sequences[0])) < 30


def test_ars_bad_limit():
    with pytest.raises(ValueError, match="`limit` must be an integer >= 0"):
        data.read_ars(limit=-2)
