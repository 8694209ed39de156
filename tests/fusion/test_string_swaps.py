"""Two plumes from one pad in one sensor's view: strings must not swap plumes (issue 4, classification).

The case that misclassified Falcon 9 launches on simulator output: launch A goes dark in a staging coast
(10 s without detections) while launch B, from the same pad 70–80 s later, rises through the region where A's
string extrapolates. Truth: A burns out at ``t0 + 130`` s; B keeps burning 70–80 s longer. A string that jumps
to B carries A's event to B's burnout (before the fix: 2–9 mixed strings, A's burnout 70–80 s late).
"""

import numpy as np
import pytest
from fusion_truth import boost_truth, observe, sensors

from vigil.fusion import FusionEngine
from vigil.records import ObservationBatch

B_OFFSET = 100_000  # obs_id offset of launch B's detections (the truth label)


def _two_from_one_pad(delay_s, gap, az_b, seed):
    a = boost_truth(az_deg=45.0, t0=100.0)
    b = boost_truth(az_deg=az_b, t0=100.0 + delay_s)
    rng = np.random.default_rng(seed)
    pa, pb = observe([a], sensors(), rng), observe([b], sensors(), rng)
    pa = pa.take(np.flatnonzero((pa.time_s < gap[0]) | (pa.time_s >= gap[1])))  # A's staging coast: dark
    pb.obs_id = pb.obs_id + B_OFFSET
    return a, b, ObservationBatch.concatenate(pa.epoch, [pa, pb]).sorted_by_time()


@pytest.mark.parametrize(
    ("delay_s", "gap_start", "az_b", "seed"),
    [(70.0, 230.0, 90.0, 1), (70.0, 240.0, 60.0, 2), (80.0, 250.0, 120.0, 3)],
)
def test_a_string_does_not_jump_to_the_other_plume_across_a_staging_gap(delay_s, gap_start, az_b, seed):
    a, b, batch = _two_from_one_pad(delay_s, (gap_start, gap_start + 10.0), az_b, seed)
    engine = FusionEngine()
    for _ in engine.run(batch):
        pass
    assert len(engine.events) == 2
    for event in engine.events:
        for s in event.strings:
            assert len({i >= B_OFFSET for i in s.obs_index}) == 1  # each string sees one plume
    last_a = batch.time_s[batch.obs_id < B_OFFSET].max()
    last_b = batch.time_s[batch.obs_id >= B_OFFSET].max()
    burnouts = sorted(e.burnout.time_s for e in engine.events)
    assert burnouts == pytest.approx([last_a, last_b], abs=2.0)
    assert last_b - last_a > 60.0  # the truth separates them: a swap would show
